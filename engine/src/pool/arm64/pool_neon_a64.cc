// AArch64: AveragePool's whole 2x2 stride-2 windows on NEON
// (pool/average_pool_2x2.h; AArch64 NEON arithmetic is IEEE, FPCR.FZ off);
// every other AveragePool and MaxPool take the portable rows.
#include <iterator>

#include "cpu/kernel_config.h"
#include "pool/average_pool_2x2.h"
#include "pool/average_pool_2x2_neon.h"

namespace irnet {
namespace {

const PoolKernel kNeonA64 = {"pool_neon_a64", always_supported, &max_pool_rows_portable,
                             &pool_2x2::average_pool_rows<pool_2x2::LanesNeon<4>, pool_2x2::ExactLanes>};
const PoolKernel* const kKernels[] = {&kNeonA64};

}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
