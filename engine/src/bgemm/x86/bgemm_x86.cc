// Registry table of the x86 bgemm kernels, best first. Compiled without ISA
// flags: it only takes addresses, the CPU check happens before any call.
#include "bgemm/x86/bgemm_x86.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

bool has_popcnt() { return cpu_features().popcnt; }

const KernelVariant kVariants[] = {
    {"bgemm_4x4_avx512", cpu_runs_avx512_files, as_kernel_fn(&bgemm_4x4_avx512)},
    {"bgemm_4x8_avx2", cpu_runs_avx2_files, as_kernel_fn(&bgemm_4x8_avx2)},
    {"bgemm_4x4_popcnt", has_popcnt, as_kernel_fn(&bgemm_4x4_popcnt)},
};

}  // namespace

extern const KernelTable kBgemmKernelsX86 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
