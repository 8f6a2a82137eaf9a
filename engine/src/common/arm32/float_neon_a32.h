// ARMv7 NEON float arithmetic is not IEEE: it flushes subnormal operands and
// results to zero and returns the default NaN for any NaN result. Kernels that
// must stay bit-exact there check their operands first for the values that
// could change a bit (flush_hazard, any_flush_hazard):
//   0 < |x| < below   (below a positive normal float's bits: the smallest
//                      normal for the flushed subnormals, larger where sums
//                      of operands must not cancel down to subnormals)
//   x is a NaN        (when kNaN: its payload would be replaced)
#pragma once

#include <arm_neon.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace irnet {

constexpr std::uint32_t kFloatInfBits = 0x7F800000u;
constexpr std::uint32_t kFloatMinNormalBits = 0x00800000u;  // 2^-126

inline std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

// Whether x is such a value (above).
template <bool kNaN>
inline bool flush_hazard(float x, std::uint32_t below_bits) {
  const std::uint32_t magnitude = float_bits(x) & 0x7FFFFFFFu;
  return (magnitude != 0 && magnitude < below_bits) || (kNaN && magnitude > kFloatInfBits);
}

// The bits of each lane of x shifted left by one: 2 * |bits|, the sign dropped.
// The scans compare these lane-wise: 0 < |x| < below iff m - 2 < 2 * below - 2
// unsigned (0 wraps to the top), a NaN iff m > 2 * kFloatInfBits.
inline uint32x4_t doubled_magnitude_bits(float32x4_t x) { return vshlq_n_u32(vreinterpretq_u32_f32(x), 1); }

// The smallest and the largest of v's four lanes.
inline std::uint32_t min_lane(uint32x4_t v) {
  const uint32x2_t half = vpmin_u32(vget_low_u32(v), vget_high_u32(v));
  return std::min(vget_lane_u32(half, 0), vget_lane_u32(half, 1));
}
inline std::uint32_t max_lane(uint32x4_t v) {
  const uint32x2_t half = vpmax_u32(vget_low_u32(v), vget_high_u32(v));
  return std::max(vget_lane_u32(half, 0), vget_lane_u32(half, 1));
}

// Whether any of x[0, n) is. Vector part on m = doubled_magnitude_bits: the
// smallest m - 2 and the largest m over x decide, kept per lane (min and max:
// no compare per vector). A do-while loop whose results go only to the
// reduction: with a loop that may run zero times gcc copied its registers every
// iteration.
template <bool kNaN>
inline bool any_flush_hazard(const float* x, std::size_t n, std::uint32_t below_bits) {
  const float* p = x;
  const float* const vector_end = x + n / 4 * 4;
  if (p != vector_end) {
    const uint32x4_t two = vdupq_n_u32(2);
    uint32x4_t low = vdupq_n_u32(~0u), high = vdupq_n_u32(0);
    do {
      const uint32x4_t m = doubled_magnitude_bits(vld1q_f32(p));
      low = vminq_u32(low, vsubq_u32(m, two));
      if (kNaN) high = vmaxq_u32(high, m);
      p += 4;
    } while (p != vector_end);
    if (min_lane(low) < 2 * below_bits - 2) return true;
    if (kNaN && max_lane(high) > 2 * kFloatInfBits) return true;
  }
  for (; p != x + n; ++p)
    if (flush_hazard<kNaN>(*p, below_bits)) return true;
  return false;
}

// a > b per lane as one vcgt.f32: gcc lowers the vcgtq_f32 family to VFP
// compares on ARMv7 (NEON's flush would change them for subnormals), so
// callers use this only where no operand can be subnormal.
inline uint32x4_t greater_neon_a32(float32x4_t a, float32x4_t b) {
  uint32x4_t m;
  __asm__("vcgt.f32 %q0, %q1, %q2" : "=w"(m) : "w"(a), "w"(b));
  return m;
}

}  // namespace irnet
