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

// Whether any of x[0, n) is. Vector part on the bits shifted left by one (the
// sign dropped, m = 2 * |bits|): 0 < |x| < below iff m - 2 < 2 * below_bits - 2
// unsigned; a NaN iff m > 2 * kFloatInfBits. Two vectors per iteration.
template <bool kNaN>
inline bool any_flush_hazard(const float* x, std::size_t n, std::uint32_t below_bits) {
  const uint32x4_t two = vdupq_n_u32(2), below = vdupq_n_u32(2 * below_bits - 2),
                   inf = vdupq_n_u32(2 * kFloatInfBits);
  const auto hazards = [&](const float* p) {
    const uint32x4_t m = vshlq_n_u32(vreinterpretq_u32_f32(vld1q_f32(p)), 1);
    const uint32x4_t tiny = vcltq_u32(vsubq_u32(m, two), below);
    return kNaN ? vorrq_u32(tiny, vcgtq_u32(m, inf)) : tiny;
  };
  uint32x4_t any = vdupq_n_u32(0), any_odd = any;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    any = vorrq_u32(any, hazards(x + i));
    any_odd = vorrq_u32(any_odd, hazards(x + i + 4));
  }
  for (; i + 4 <= n; i += 4) any = vorrq_u32(any, hazards(x + i));
  any = vorrq_u32(any, any_odd);
  const uint32x2_t half = vorr_u32(vget_low_u32(any), vget_high_u32(any));
  if ((vget_lane_u32(half, 0) | vget_lane_u32(half, 1)) != 0) return true;
  for (; i < n; ++i)
    if (flush_hazard<kNaN>(x[i], below_bits)) return true;
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
