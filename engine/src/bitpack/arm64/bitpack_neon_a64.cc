// AArch64 NEON sign packing: 64 floats -> one 64-bit word per iteration.
//
//   1. x < 0 per lane (fcmlt #0): all-ones for negatives, zero for +0, -0, NaN
//      and positives, exactly the bitpack.h convention (bit 1 <=> x < 0).
//   2. Narrow the 32-bit masks to bytes (uzp1 twice): byte c of four q
//      registers = 0xFF or 0x00 for channel c of the 64.
//   3. AND byte c with its bit weight 2^(c % 8) and add neighbouring bytes in
//      three pairwise-add levels (addp): the weights are distinct powers of two,
//      so each sum is the OR of eight bits and byte j of the result holds
//      channels 8j..8j+7, bit b = channel 8j+b. Read little-endian, those eight
//      bytes are the word whose bit c is channel c.
// A row's last partial word is packed from a zero-filled copy of its tail,
// so tail bits come out 0. The threshold variant's step 1 is x < -t (fcmgt).
#include "bitpack/arm64/bitpack_neon_a64.h"

#include <arm_neon.h>

#include <iterator>


#include "bitpack/bitpack_rows.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

// 16 lane masks as bytes: byte i = 0xFF iff lanes(i / 4) has lane i % 4 set;
// lanes(k) is the 32-bit mask of floats 4k..4k+3.
template <typename Lanes>
inline uint8x16_t mask_bytes_16(Lanes lanes) {
  const uint32x4_t m0 = lanes(0), m1 = lanes(1), m2 = lanes(2), m3 = lanes(3);
  const uint16x8_t lo = vuzp1q_u16(vreinterpretq_u16_u32(m0), vreinterpretq_u16_u32(m1));
  const uint16x8_t hi = vuzp1q_u16(vreinterpretq_u16_u32(m2), vreinterpretq_u16_u32(m3));
  return vuzp1q_u8(vreinterpretq_u8_u16(lo), vreinterpretq_u8_u16(hi));
}

// One word from block16(j), j = 0..3: the mask bytes of floats 16j..16j+15.
template <typename Block16>
inline BitWord pack_mask_word(Block16 block16) {
  static const std::uint8_t kWeights[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                            1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t weights = vld1q_u8(kWeights);
  const uint8x16_t b0 = vandq_u8(block16(0), weights);
  const uint8x16_t b1 = vandq_u8(block16(1), weights);
  const uint8x16_t b2 = vandq_u8(block16(2), weights);
  const uint8x16_t b3 = vandq_u8(block16(3), weights);
  const uint8x16_t s01 = vpaddq_u8(b0, b1);
  const uint8x16_t s23 = vpaddq_u8(b2, b3);
  const uint8x16_t s = vpaddq_u8(s01, s23);
  return vgetq_lane_u64(vreinterpretq_u64_u8(vpaddq_u8(s, s)), 0);
}

// x < 0 per lane.
inline BitWord pack_64(const float* x) {
  return pack_mask_word([x](int j) {
    return mask_bytes_16([x, j](int k) { return vcltzq_f32(vld1q_f32(x + 16 * j + 4 * k)); });
  });
}

// x < -t per lane (AArch64 NEON is IEEE: subnormals compare exactly).
inline BitWord pack_64_threshold(const float* x, const float* t) {
  return pack_mask_word([x, t](int j) {
    return mask_bytes_16([x, t, j](int k) {
      const int i = 16 * j + 4 * k;
      return vcltq_f32(vld1q_f32(x + i), vnegq_f32(vld1q_f32(t + i)));
    });
  });
}

}  // namespace

void pack_signs_neon_a64(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, pack_64);
}

void pack_signs_threshold_neon_a64(const float* x, std::size_t rows, std::size_t channels,
                                   const float* threshold, BitWord* out) {
  pack_rows_by_word_threshold(x, rows, channels, threshold, out, pack_64_threshold);
}

namespace {
const BitpackKernel kNeon = {"pack_signs_neon_a64", always_supported, &pack_signs_neon_a64,
                             &pack_signs_threshold_neon_a64};
const BitpackKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BitpackKernel> kBitpackKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
