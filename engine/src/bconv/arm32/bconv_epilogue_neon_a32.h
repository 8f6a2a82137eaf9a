// ARMv7 NEON fused epilogue rows of BConv2d (semantics in bconv/bconv_epilogue.h).
#pragma once

#include "bconv/bconv_epilogue.h"

namespace irnet {

// Whether the float rows are exact for these constants: NEON on ARMv7 flushes
// subnormals and returns default NaNs, so every multiplier, bias and clamp
// bound (and with `activation` every activation constant) must be 0, infinite
// or at least 2^-102 in magnitude, and each slope 0, at least 1 in magnitude
// or followed by a nonzero shift_out (the argument is in bconv_epilogue_neon_a32.cc).
bool bconv_epilogue_float_constants_ok_neon_a32(const EpilogueConstants& c, bool activation);

// The float rows compiled for this combination of outputs, residual, clamp and
// activation. Needs store_float or bits (a row with neither has no output).
EpilogueRowsFn bconv_epilogue_float_rows_neon_a32(bool store_float, bool bits, bool residual,
                                                  EpilogueClamp clamp, bool activation);

void bconv_epilogue_threshold_rows_neon_a32(const EpilogueConstants& c, const EpilogueRows& rows);

}  // namespace irnet
