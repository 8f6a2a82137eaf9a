// The baseline float row of BConv2d's portable epilogue and the portable
// variant of the "bconv_epilogue" family (no fused rows).
#include "bconv/bconv_epilogue.h"

#include <iterator>

#include "bconv/bconv_epilogue_row.h"
#include "cpu/kernel_config.h"

namespace irnet {

void bconv_epilogue_float_row_portable(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                                       const float* bias, const float* res, bool clamp, float lo, float hi,
                                       float* y) {
  float_epilogue_row(n, acc, pow2, scale, bias, res, clamp, lo, hi, y);
}

namespace {
const BconvEpilogueKernel kPortable = {"bconv_epilogue_portable", always_supported, nullptr, nullptr, nullptr, 1,
                                       &bconv_epilogue_float_row_portable};
const BconvEpilogueKernel* const kKernels[] = {&kPortable};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
