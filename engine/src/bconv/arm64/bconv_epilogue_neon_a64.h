// AArch64 NEON fused epilogue rows of BConv2d (semantics in bconv/bconv_epilogue.h).
#pragma once

#include "bconv/bconv_epilogue.h"

namespace irnet {

// The float rows compiled for this combination of outputs, residual, clamp and
// activation. Needs store_float or bits (a row with neither has no output).
EpilogueRowsFn bconv_epilogue_float_rows_neon_a64(bool store_float, bool bits, bool residual,
                                                  EpilogueClamp clamp, bool activation);

void bconv_epilogue_threshold_rows_neon_a64(const EpilogueConstants& c, const EpilogueRows& rows);

}  // namespace irnet
