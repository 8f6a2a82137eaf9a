// The x86 sgemm variants for the kernel registry, best first. Compiled without
// ISA flags: only the supported() predicates run here, on any x86-64 CPU.
#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_registry.h"
#include "fconv/sgemm.h"

namespace irnet {

const SgemmKernel* get_sgemm_12x32_avx512();  // sgemm_avx512.cc
const SgemmKernel* get_sgemm_6x16_avx2();     // sgemm_avx2.cc

namespace {

bool has_avx512f() { return cpu_features().avx512f && cpu_features().fma; }
bool has_avx2_fma() { return cpu_features().avx2 && cpu_features().fma; }

const KernelVariant kVariants[] = {
    {"sgemm_12x32_avx512", has_avx512f, as_kernel_fn(&get_sgemm_12x32_avx512)},
    {"sgemm_6x16_avx2", has_avx2_fma, as_kernel_fn(&get_sgemm_6x16_avx2)},
};

}  // namespace

extern const KernelTable kSgemmKernelsX86 = {kVariants, std::size(kVariants)};

}  // namespace irnet
