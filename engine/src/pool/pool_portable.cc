// The portable pool rows and the "pool" family's portable variant.
#include <algorithm>
#include <iterator>
#include <limits>

#include "cpu/kernel_config.h"
#include "pool/pool_kernel.h"
#include "pool/pool_window.h"

namespace irnet {
namespace {

// MaxPool's fold: acc = x > acc ? x : acc, from -inf (ops/max_pool.cc).
struct MaxReduction {
  static constexpr float kInit = -std::numeric_limits<float>::infinity();
  template <typename Lanes>
  static Lanes step(Lanes acc, Lanes x) { return x > acc ? x : acc; }
  template <typename Lanes>
  Lanes finish(Lanes acc, const PoolWindow&) const { return acc; }
};

// AveragePool's sum and divisor (ops/average_pool.cc).
struct AverageReduction {
  static constexpr float kInit = 0.f;
  template <typename Lanes>
  static Lanes step(Lanes sum, Lanes x) { return sum + x; }
  template <typename Lanes>
  Lanes finish(Lanes sum, const PoolWindow& w) const { return sum / divisor(w); }
  float divisor(const PoolWindow& w) const {
    return static_cast<float>(
        count_include_pad ? (std::min(w.hs + g->h.kernel, g->h.in + g->h.pad_end) - w.hs) *
                                (std::min(w.ws + g->w.kernel, g->w.in + g->w.pad_end) - w.ws)
                          : (w.i1 - w.i0) * (w.j1 - w.j0));
  }
  const PoolGeometry* g;
  bool count_include_pad;
};

}  // namespace

void max_pool_rows_portable(const PoolGeometry& g, const Shape& x_shape, const float* x, float* y,
                            std::size_t row_begin, std::size_t row_end) {
  pool_rows(MaxReduction{}, g, x_shape, x, y, row_begin, row_end);
}

void average_pool_rows_portable(const PoolGeometry& g, bool count_include_pad, const Shape& x_shape,
                                const float* x, float* y, std::size_t row_begin, std::size_t row_end) {
  pool_rows(AverageReduction{&g, count_include_pad}, g, x_shape, x, y, row_begin, row_end);
}

bool is_whole_2x2_stride_2(const PoolGeometry& g) {
  const auto whole = [](const WindowAxis& a) {
    return a.kernel == 2 && a.stride == 2 && a.dilation == 1 && a.pad_begin == 0 && 2 * a.out <= a.in;
  };
  return whole(g.h) && whole(g.w);
}

namespace {
const PoolKernel kPortable = {"pool_portable", always_supported, &max_pool_rows_portable,
                              &average_pool_rows_portable};
const PoolKernel* const kKernels[] = {&kPortable};
}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
