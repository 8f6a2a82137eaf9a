// ARMv7: MaxPool folds on NEON (pool/arm32/max_pool_neon_a32.h) for chunks of
// output rows whose input rows hold no subnormal, else on VFP (the portable
// rows); AveragePool takes the portable rows.
#include <algorithm>
#include <cstdint>
#include <iterator>

#include "cpu/kernel_config.h"
#include "pool/arm32/max_pool_neon_a32.h"
#include "pool/pool_kernel.h"

namespace irnet {
namespace {

// Whether an input row that output rows [begin, end) read holds a subnormal
// (then ARMv7 NEON's compare would not be exact): per image, the input rows
// from the first output row's window to the last one's.
bool rows_read_have_subnormals(const PoolGeometry& g, const Shape& in, const float* x, std::size_t begin,
                               std::size_t end) {
  const std::int64_t H = in[1], row_floats = in[2] * in[3];
  for (std::int64_t row = static_cast<std::int64_t>(begin); row < static_cast<std::int64_t>(end);) {
    const std::int64_t n = row / g.h.out, first_oh = row % g.h.out;
    const std::int64_t last_oh = std::min(g.h.out, first_oh + static_cast<std::int64_t>(end) - row) - 1;
    const std::int64_t lo = std::max<std::int64_t>(0, g.h.start(first_oh));
    const std::int64_t hi = std::min(H, g.h.start(last_oh) + (g.h.kernel - 1) * g.h.dilation + 1);
    if (hi > lo && inputs_have_subnormals(x + (n * H + lo) * row_floats, static_cast<std::size_t>((hi - lo) * row_floats)))
      return true;
    row += last_oh - first_oh + 1;
  }
  return false;
}

void max_pool_rows_neon_a32(const PoolGeometry& g, const Shape& x_shape, const float* x, float* y,
                            std::size_t row_begin, std::size_t row_end) {
  if (rows_read_have_subnormals(g, x_shape, x, row_begin, row_end))
    max_pool_rows_portable(g, x_shape, x, y, row_begin, row_end);
  else
    pool_rows(MaxReductionNeonA32{}, g, x_shape, x, y, row_begin, row_end);
}

const PoolKernel kNeonA32 = {"pool_neon_a32", always_supported, &max_pool_rows_neon_a32,
                             &average_pool_rows_portable};
const PoolKernel* const kKernels[] = {&kNeonA32};

}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
