// The arithmetic of BConv2d's portable float epilogue, identical to
// bconv2d_ref operation for operation (bconv2d.cc):
//   y = float(acc) * 2^-shift ; y = y * scale ; y = y + bias ; y = y + residual ; clamp
// and the activation stage.
// Compiled into several files with different instruction-set flags (the
// baseline float row in bconv_epilogue.cc, the AVX2 one in
// x86/bconv_epilogue_avx2.cc, the threshold search in bconv2d.cc), so every
// function here has internal linkage: each file keeps its own copy, compiled
// with its own flags. Element-wise IEEE operations give the same result in
// any of them.
#pragma once

#include <cstdint>

namespace irnet {
namespace {

// The float epilogue without residual.
inline float epilogue_transform(std::int32_t acc, float pow2_shift, float scale, float bias) {
  float y = static_cast<float>(acc) * pow2_shift;
  y = y * scale;
  return y + bias;
}

inline float epilogue_clamp(float y, float lo, float hi) { return y < lo ? lo : (y > hi ? hi : y); }

// The activation stage of bconv2d.h with every step present: BConv2d fills an
// absent shift with -0 and an absent slope with 1, the identities of those
// steps for every float (y + -0 is y, +0 and NaN included; z * 1 is z).
inline float epilogue_activation(float y, float shift_in, float slope, float shift_out) {
  float z = y + shift_in;
  z = z < 0.f ? z * slope : z;
  return z + shift_out;
}

// A FloatEpilogueRowFn (bconv_epilogue.h). res may alias y: each res[o] is
// read before y[o] is written.
inline void float_epilogue_row(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                               const float* bias, const float* res, bool clamp, float lo, float hi, float* y) {
  if (res != nullptr && clamp) {
    for (int o = 0; o < n; ++o) y[o] = epilogue_clamp(epilogue_transform(acc[o], pow2[o], scale[o], bias[o]) + res[o], lo, hi);
  } else if (res != nullptr) {
    for (int o = 0; o < n; ++o) y[o] = epilogue_transform(acc[o], pow2[o], scale[o], bias[o]) + res[o];
  } else if (clamp) {
    for (int o = 0; o < n; ++o) y[o] = epilogue_clamp(epilogue_transform(acc[o], pow2[o], scale[o], bias[o]), lo, hi);
  } else {
    for (int o = 0; o < n; ++o) y[o] = epilogue_transform(acc[o], pow2[o], scale[o], bias[o]);
  }
}

}  // namespace
}  // namespace irnet
