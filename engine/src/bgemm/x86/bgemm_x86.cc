// The table of the x86 bgemm kernels, best first. Compiled without ISA
// flags: it only takes addresses, the CPU check happens before any call.
#include <iterator>

#include "bgemm/x86/bgemm_x86.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

bool has_popcnt() { return cpu_features().popcnt; }

const BgemmKernel kAvx512 = {"bgemm_6x32_avx512", cpu_runs_avx512_files, &bgemm_6x32_avx512, 6, 32,
                             &bgemm_6x32_avx512_packed_words, &pack_bgemm_6x32_avx512};
const BgemmKernel kAvx2 = {"bgemm_4x8_avx2", cpu_runs_avx2_files, &bgemm_4x8_avx2, 4, 8,
                           &bgemm_4x8_avx2_packed_words, &pack_bgemm_4x8_avx2};
const BgemmKernel kPopcnt = {"bgemm_4x4_popcnt", has_popcnt, &bgemm_4x4_popcnt, 4, 4};
const BgemmKernel* const kKernels[] = {&kAvx512, &kAvx2, &kPopcnt};

}  // namespace

extern const KernelTable<BgemmKernel> kBgemmKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
