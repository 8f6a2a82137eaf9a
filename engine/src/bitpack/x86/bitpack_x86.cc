// The table of the x86 bit-packing kernels, best first. Compiled without
// ISA flags: it only takes addresses, the CPU check happens before any call.
#include <iterator>

#include "bitpack/x86/bitpack_x86.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

const BitpackKernel kAvx512 = {"pack_signs_avx512", cpu_runs_avx512_files, &pack_signs_avx512,
                               &pack_signs_threshold_avx512};
const BitpackKernel kAvx2 = {"pack_signs_avx2", cpu_runs_avx2_files, &pack_signs_avx2, &pack_signs_threshold_avx2};
const BitpackKernel* const kKernels[] = {&kAvx512, &kAvx2};

}  // namespace

extern const KernelTable<BitpackKernel> kBitpackKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
