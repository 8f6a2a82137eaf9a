// ARMv7 NEON for MaxPool's fold (ops/max_pool.cc): acc = x > acc ? x : acc on
// 4 channels, as vcgt.f32 + vbsl.
//
// The compare is exact unless an operand is subnormal: ARMv7 NEON flushes
// subnormal inputs to zero (a positive subnormal would not beat +0). NaNs are
// fine (vcgt is false for them, as x > acc is; vbsl copies bits, so no NaN is
// replaced by the default one), and so are signed zeros (equal, acc kept).
// acc only ever holds -inf or an input, so the fold is exact when no input the
// rows read is subnormal; MaxPool checks that (inputs_have_subnormals) per
// chunk of output rows and otherwise folds on VFP one float at a time.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "ops/pool_window.h"

namespace irnet {

struct MaxReductionNeonA32 {
  using Vector = float32x4_t;
  static constexpr float kInit = -__builtin_inff();
  static float32x4_t step(float32x4_t acc, float32x4_t x) {
    uint32x4_t greater;
    // As one instruction: gcc lowers vcgtq_f32 to VFP compares on ARMv7.
    __asm__("vcgt.f32 %q0, %q1, %q2" : "=w"(greater) : "w"(x), "w"(acc));
    return vbslq_f32(greater, x, acc);
  }
  static float step(float acc, float x) { return x > acc ? x : acc; }
  template <typename Lanes>
  Lanes finish(Lanes acc, const PoolWindow&) const { return acc; }
};

// Whether any of x[0, n) is subnormal: on the bits shifted left by one (sign
// dropped), m - 2 < 0x00FFFFFD unsigned, i.e. a zero exponent and a nonzero
// mantissa.
inline bool inputs_have_subnormals(const float* x, std::size_t n) {
  const uint32x4_t two = vdupq_n_u32(2), limit = vdupq_n_u32(0x00FFFFFDu);
  uint32x4_t any = vdupq_n_u32(0), any_odd = any;
  const auto subnormal = [&](const float* p) {
    const uint32x4_t m = vshlq_n_u32(vreinterpretq_u32_f32(vld1q_f32(p)), 1);
    return vcltq_u32(vsubq_u32(m, two), limit);
  };
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // two vectors per iteration: less loop overhead per float
    any = vorrq_u32(any, subnormal(x + i));
    any_odd = vorrq_u32(any_odd, subnormal(x + i + 4));
  }
  for (; i + 4 <= n; i += 4) any = vorrq_u32(any, subnormal(x + i));
  any = vorrq_u32(any, any_odd);
  const uint32x2_t half = vorr_u32(vget_low_u32(any), vget_high_u32(any));
  bool found = (vget_lane_u32(half, 0) | vget_lane_u32(half, 1)) != 0;
  for (; i < n; ++i) {
    std::uint32_t bits;
    __builtin_memcpy(&bits, x + i, sizeof bits);
    found |= (bits & 0x7F800000u) == 0 && (bits & 0x007FFFFFu) != 0;
  }
  return found;
}

}  // namespace irnet
