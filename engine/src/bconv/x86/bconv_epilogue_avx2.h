// x86 AVX2 fused epilogue rows of BConv2d (semantics in bconv/bconv_epilogue.h).
// Callable only where cpu_runs_avx2_files() (cpu/cpu_features.h).
#pragma once

#include "bconv/bconv_epilogue.h"

namespace irnet {

// The float rows compiled for this combination of outputs, residual, clamp and
// activation. Needs store_float or bits (a row with neither has no output).
EpilogueRowsFn bconv_epilogue_float_rows_avx2(bool store_float, bool bits, bool residual, EpilogueClamp clamp,
                                              bool activation);

void bconv_epilogue_threshold_rows_avx2(const EpilogueConstants& c, const EpilogueRows& rows);

// The portable passes' float row (a FloatEpilogueRowFn) compiled for AVX2.
void bconv_epilogue_float_row_avx2(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                                   const float* bias, const float* res, bool clamp, float lo, float hi, float* y);

}  // namespace irnet
