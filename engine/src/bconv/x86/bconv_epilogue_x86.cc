// The table of the x86 "bconv_epilogue" variants. Compiled without ISA flags:
// it only takes addresses, the CPU check happens before any call.
#include <iterator>

#include "bconv/x86/bconv_epilogue_avx2.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {
const BconvEpilogueKernel kAvx2 = {"bconv_epilogue_avx2", cpu_runs_avx2_files, bconv_epilogue_float_rows_avx2,
                                   bconv_epilogue_threshold_rows_avx2, nullptr, 8, bconv_epilogue_float_row_avx2};
const BconvEpilogueKernel* const kKernels[] = {&kAvx2};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
