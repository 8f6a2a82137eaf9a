// MaxPool (NHWC): y[n,oh,ow,c] = max over the window's taps inside the input
// (padding never wins; a window with no tap inside gives -inf). The max keeps
// the first of equal values in tap order and skips NaN taps:
//   acc = x > acc ? x : acc, from -inf
// (so -0 and +0 come out as the first one seen, like the reference). On ARMv7
// the fold runs on NEON for chunks whose input rows hold no subnormal
// (ops/arm32/max_pool_neon_a32.h), else on VFP.
#include <algorithm>
#include <limits>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/pool_geometry.h"
#include "ops/pool_window.h"
#if defined(__arm__) && !defined(__aarch64__)
#include "ops/arm32/max_pool_neon_a32.h"
#endif

namespace irnet {
namespace {

struct MaxReduction {
  static constexpr float kInit = -std::numeric_limits<float>::infinity();
  template <typename Lanes>
  static Lanes step(Lanes acc, Lanes x) { return x > acc ? x : acc; }
  template <typename Lanes>
  Lanes finish(Lanes acc, const PoolWindow&) const { return acc; }
};

class MaxPoolOp final : public Op {
 public:
  MaxPoolOp(Shape in_shape, PoolGeometry g) : in_(std::move(in_shape)), g_(g) {}
  std::vector<TensorDesc> outputs() const override {
    return {{DType::kF32, {in_[0], g_.h.out, g_.w.out, in_[3]}, nullptr}};
  }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    // Work items: output rows (n, oh).
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0] * g_.h.out), 1, [&](std::size_t begin, std::size_t end) {
#if defined(__arm__) && !defined(__aarch64__)
      if (!rows_read_have_subnormals(x, begin, end)) {
        pool_rows(MaxReductionNeonA32{}, g_, in_, x, y, begin, end);
        return;
      }
#endif
      pool_rows(MaxReduction{}, g_, in_, x, y, begin, end);
    });
  }

 private:
#if defined(__arm__) && !defined(__aarch64__)
  // Whether an input row that output rows [begin, end) read holds a subnormal
  // (then ARMv7 NEON's compare would not be exact): per image, the input rows
  // from the first output row's window to the last one's.
  bool rows_read_have_subnormals(const float* x, std::size_t begin, std::size_t end) const {
    const std::int64_t H = in_[1], row_floats = in_[2] * in_[3];
    for (std::int64_t row = static_cast<std::int64_t>(begin); row < static_cast<std::int64_t>(end);) {
      const std::int64_t n = row / g_.h.out, first_oh = row % g_.h.out;
      const std::int64_t last_oh = std::min(g_.h.out, first_oh + static_cast<std::int64_t>(end) - row) - 1;
      const std::int64_t lo = std::max<std::int64_t>(0, g_.h.start(first_oh));
      const std::int64_t hi = std::min(H, g_.h.start(last_oh) + (g_.h.kernel - 1) * g_.h.dilation + 1);
      if (hi > lo && inputs_have_subnormals(x + (n * H + lo) * row_floats,
                                            static_cast<std::size_t>((hi - lo) * row_floats)))
        return true;
      row += last_oh - first_oh + 1;
    }
    return false;
  }
#endif

  Shape in_;
  PoolGeometry g_;
};

}  // namespace

std::unique_ptr<Op> make_max_pool(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32, 4);
  return std::make_unique<MaxPoolOp>(x.shape, read_pool_geometry(node, x.shape, true));
}

}  // namespace irnet
