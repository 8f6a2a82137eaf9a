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
// so tail bits come out 0.
#include "bitpack/arm64/bitpack_neon_a64.h"

#include <arm_neon.h>

#include <iterator>


#include "bitpack/bitpack_rows.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

// 16 sign masks as bytes: lane i = 0xFF iff x[i] < 0.
inline uint8x16_t negative_mask_16(const float* x) {
  const uint32x4_t m0 = vcltzq_f32(vld1q_f32(x));
  const uint32x4_t m1 = vcltzq_f32(vld1q_f32(x + 4));
  const uint32x4_t m2 = vcltzq_f32(vld1q_f32(x + 8));
  const uint32x4_t m3 = vcltzq_f32(vld1q_f32(x + 12));
  const uint16x8_t lo = vuzp1q_u16(vreinterpretq_u16_u32(m0), vreinterpretq_u16_u32(m1));
  const uint16x8_t hi = vuzp1q_u16(vreinterpretq_u16_u32(m2), vreinterpretq_u16_u32(m3));
  return vuzp1q_u8(vreinterpretq_u8_u16(lo), vreinterpretq_u8_u16(hi));
}

inline BitWord pack_64(const float* x) {
  static const std::uint8_t kWeights[16] = {1, 2, 4, 8, 16, 32, 64, 128,
                                            1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t weights = vld1q_u8(kWeights);
  const uint8x16_t b0 = vandq_u8(negative_mask_16(x), weights);
  const uint8x16_t b1 = vandq_u8(negative_mask_16(x + 16), weights);
  const uint8x16_t b2 = vandq_u8(negative_mask_16(x + 32), weights);
  const uint8x16_t b3 = vandq_u8(negative_mask_16(x + 48), weights);
  const uint8x16_t s01 = vpaddq_u8(b0, b1);
  const uint8x16_t s23 = vpaddq_u8(b2, b3);
  const uint8x16_t s = vpaddq_u8(s01, s23);
  return vgetq_lane_u64(vreinterpretq_u64_u8(vpaddq_u8(s, s)), 0);
}

}  // namespace

void pack_signs_neon_a64(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, pack_64);
}

namespace {
const BitpackKernel kNeon = {"pack_signs_neon_a64", always_supported, &pack_signs_neon_a64};
const BitpackKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BitpackKernel> kBitpackKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
