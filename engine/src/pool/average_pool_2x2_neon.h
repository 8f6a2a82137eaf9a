// NEON float lanes for pool/average_pool_2x2.h, shared by AArch64
// (pool/arm64/pool_neon_a64.cc) and ARMv7 (pool/arm32/pool_neon_a32.cc): the
// same intrinsics (on ARMv7, without __FAST_MATH__, vaddq_f32 and vmulq_f32
// stay the NEON vadd.f32 / vmul.f32), kBlock vectors per channel block.
#pragma once

#include <arm_neon.h>

namespace irnet {
namespace pool_2x2 {

template <int kBlock>
struct LanesNeon {
  using Vector = float32x4_t;
  static constexpr int kLanes = 4;
  static constexpr int kBlockVectors = kBlock;
  static Vector load(const float* p) { return vld1q_f32(p); }
  static Vector zero() { return vdupq_n_f32(0.f); }
  static Vector quarter() { return vdupq_n_f32(0.25f); }
  static Vector add(Vector a, Vector b) { return vaddq_f32(a, b); }
  static Vector mul(Vector a, Vector b) { return vmulq_f32(a, b); }
  static void store(float* p, Vector v) { vst1q_f32(p, v); }
};

}  // namespace pool_2x2
}  // namespace irnet
