// ARMv7 NEON for MaxPool's fold (pool/arm32/pool_neon_a32.cc): acc = x > acc ? x : acc on
// 4 channels, as vcgt.f32 + vbsl.
//
// The compare is exact unless an operand is subnormal: ARMv7 NEON flushes
// subnormal inputs to zero (a positive subnormal would not beat +0). NaNs are
// fine (vcgt is false for them, as x > acc is; vbsl copies bits, so no NaN is
// replaced by the default one), and so are signed zeros (equal, acc kept).
// acc only ever holds -inf or an input, so the fold is exact when no input the
// rows read is subnormal; max_pool_rows_neon_a32 checks that (inputs_have_subnormals) per
// chunk of output rows and otherwise folds on VFP one float at a time.
#pragma once

#include <arm_neon.h>

#include <cstddef>

#include "common/arm32/float_neon_a32.h"
#include "pool/pool_window.h"

namespace irnet {

struct MaxReductionNeonA32 {
  using Vector = float32x4_t;
  static constexpr float kInit = -__builtin_inff();
  static float32x4_t step(float32x4_t acc, float32x4_t x) { return vbslq_f32(greater_neon_a32(x, acc), x, acc); }
  static float step(float acc, float x) { return x > acc ? x : acc; }
  template <typename Lanes>
  Lanes finish(Lanes acc, const PoolWindow&) const { return acc; }
};

// Whether any of x[0, n) is subnormal.
inline bool inputs_have_subnormals(const float* x, std::size_t n) {
  return any_flush_hazard<false>(x, n, kFloatMinNormalBits);
}

}  // namespace irnet
