// The table of the x86 sgemm variants, best first. Compiled without ISA flags:
// only the supported() predicates run here, on any x86-64 CPU.
#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"
#include "fconv/x86/sgemm_x86.h"

namespace irnet {

bool cpu_runs_sgemm_avx512() { return cpu_features().avx512f && cpu_features().fma; }
bool cpu_runs_sgemm_avx2() { return cpu_features().avx2 && cpu_features().fma; }

namespace {
const SgemmKernel* const kKernels[] = {&kSgemm12x32Avx512, &kSgemm6x16Avx2};
}  // namespace

extern const KernelTable<SgemmKernel> kSgemmKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
