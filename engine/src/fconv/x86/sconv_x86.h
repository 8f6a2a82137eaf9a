// What the x86 direct column-stride-2 float conv kernels (fconv/phase_conv.h) share
// across their ISA files: the table of variants is in sconv_avx2.cc.
#pragma once

#include <cstddef>

#include "fconv/phase_conv.h"

namespace irnet {

// The phase planes of one padded row (PhaseSplitFn), AVX2 for 3 channels
// (sconv_avx2.cc); the AVX-512 variant uses it as well.
void split_phase_row_avx2(const float* row, int in_w, int channels, int pad_left, std::size_t plane_w,
                          float* planes);

extern const PhaseConvKernel kPhaseConvAvx512;  // sconv_avx512.cc

}  // namespace irnet
