// The x86 sgemm variants, each defined in the file compiled with its ISA flags.
#pragma once

#include "fconv/sgemm.h"

namespace irnet {

extern const SgemmKernel kSgemm12x32Avx512;  // sgemm_avx512.cc
extern const SgemmKernel kSgemm6x16Avx2;     // sgemm_avx2.cc

// Their supported() predicates (sgemm_x86.cc): the instructions the kernels use.
bool cpu_runs_sgemm_avx512();
bool cpu_runs_sgemm_avx2();

}  // namespace irnet
