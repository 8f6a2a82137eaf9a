// Registry table of the x86 bit-packing kernels, best first. Compiled without
// ISA flags: it only takes addresses, the CPU check happens before any call.
#include "bitpack/x86/bitpack_x86.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

bool has_avx512bw() { return cpu_features().avx512f && cpu_features().avx512bw; }
bool has_avx2() { return cpu_features().avx2; }

const KernelVariant kVariants[] = {
    {"pack_signs_avx512", has_avx512bw, as_kernel_fn(&pack_signs_avx512)},
    {"pack_signs_avx2", has_avx2, as_kernel_fn(&pack_signs_avx2)},
};

}  // namespace

extern const KernelTable kBitpackKernelsX86 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
