// Registry table of the x86 bit-packing kernels, best first. Compiled without
// ISA flags: it only takes addresses, the CPU check happens before any call.
#include "bitpack/x86/bitpack_x86.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

const KernelVariant kVariants[] = {
    {"pack_signs_avx512", cpu_runs_avx512_files, as_kernel_fn(&pack_signs_avx512)},
    {"pack_signs_avx2", cpu_runs_avx2_files, as_kernel_fn(&pack_signs_avx2)},
};
const KernelVariant kThresholdVariants[] = {
    {"pack_signs_threshold_avx512", cpu_runs_avx512_files, as_kernel_fn(&pack_signs_threshold_avx512)},
    {"pack_signs_threshold_avx2", cpu_runs_avx2_files, as_kernel_fn(&pack_signs_threshold_avx2)},
};

}  // namespace

extern const KernelTable kBitpackKernelsX86 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};
extern const KernelTable kBitpackThresholdKernelsX86 = {
    kThresholdVariants, sizeof(kThresholdVariants) / sizeof(kThresholdVariants[0])};

}  // namespace irnet
