// ARMv7 NEON sign packing: 64 floats -> one 64-bit word per iteration.
//
//   1. x < 0 per lane: all-ones for negatives, zero for +0, -0, NaN and
//      positives, the bitpack.h convention (bit 1 <=> x < 0). Not with
//      vclt.f32: ARMv7 NEON flushes subnormal inputs to zero, so a negative
//      subnormal would compare as -0, and GCC therefore lowers vcltq_f32 to
//      scalar VFP compares (~12 instructions per float). The test is done on
//      the bits s (as int32) instead, exactly: x < 0 iff the sign is set, x is
//      not -0 (s = INT32_MIN) and not a NaN (s > bits of -inf), i.e.
//      INT32_MIN < s <= bits(-inf) = -2^23.
//   2. Narrow the masks to bytes (vmovn twice): one d register = 8 channels,
//      byte i = 0xFF or 0x00.
//   3. AND byte i with its bit weight 2^i and add neighbouring bytes in three
//      vpadd.u8 levels over the eight d registers: the weights are distinct
//      powers of two, so each sum is the OR of its bits, and byte j of the
//      final d register holds channels 8j..8j+7 (bit b = channel 8j+b), which
//      read little-endian is the packed word.
// A row's last partial word is packed from a zero-filled copy of its tail.
#include "bitpack/arm32/bitpack_neon_a32.h"

#include <arm_neon.h>

#include <cstdint>
#include <limits>

#include "bitpack/bitpack_rows.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

// All-ones in the lanes of x[0..4) that are < 0 (integer test, see above).
inline uint32x4_t negative_lanes(const float* x) {
  const int32x4_t s = vreinterpretq_s32_f32(vld1q_f32(x));
  const int32x4_t minus_zero = vdupq_n_s32(std::numeric_limits<std::int32_t>::min());
  const int32x4_t minus_inf = vdupq_n_s32(-(std::int32_t{1} << 23));  // 0xFF800000
  return vandq_u32(vcgtq_s32(s, minus_zero), vcleq_s32(s, minus_inf));
}

// Eight channels as bit-weighted bytes: byte i = 2^i if x[i] < 0, else 0.
inline uint8x8_t weighted_signs_8(const float* x, uint8x8_t weights) {
  const uint32x4_t lo = negative_lanes(x);
  const uint32x4_t hi = negative_lanes(x + 4);
  const uint16x8_t mask16 = vcombine_u16(vmovn_u32(lo), vmovn_u32(hi));
  return vand_u8(vmovn_u16(mask16), weights);
}

inline BitWord pack_64(const float* x) {
  static const std::uint8_t kWeights[8] = {1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x8_t weights = vld1_u8(kWeights);
  uint8x8_t level[4];
  for (int i = 0; i < 4; ++i)
    level[i] = vpadd_u8(weighted_signs_8(x + 16 * i, weights),
                        weighted_signs_8(x + 16 * i + 8, weights));
  const uint8x8_t s = vpadd_u8(vpadd_u8(level[0], level[1]), vpadd_u8(level[2], level[3]));
  return vget_lane_u64(vreinterpret_u64_u8(s), 0);
}

}  // namespace

void pack_signs_neon_a32(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, pack_64);
}

namespace {
const KernelVariant kVariants[] = {
    {"pack_signs_neon_a32", always_supported, as_kernel_fn(&pack_signs_neon_a32)},
};
}  // namespace

extern const KernelTable kBitpackKernelsArm32 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
