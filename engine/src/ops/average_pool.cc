// AveragePool (NHWC): y = (sum of the window's taps inside the input) / divisor,
// summed in (i, j) order from 0, with the ONNX/PyTorch divisor:
//   count_include_pad 0: the number of taps inside the input;
//   count_include_pad 1: the window clipped to the *padded* input,
//     (min(hs + kh, H + pad_bottom) - hs) * (min(ws + kw, W + pad_right) - ws),
//     i.e. explicit padding counts, the extra space ceil_mode adds does not.
#include <algorithm>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/pool_geometry.h"
#include "ops/pool_window.h"

namespace irnet {
namespace {

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

class AveragePoolOp final : public Op {
 public:
  AveragePoolOp(Shape in_shape, PoolGeometry g, bool count_include_pad)
      : in_(std::move(in_shape)), g_(g), count_include_pad_(count_include_pad) {}
  std::vector<TensorDesc> outputs() const override {
    return {{DType::kF32, {in_[0], g_.h.out, g_.w.out, in_[3]}, nullptr}};
  }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const AverageReduction reduction{&g_, count_include_pad_};
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0] * g_.h.out), 1, [&](std::size_t begin, std::size_t end) {
      pool_rows(reduction, g_, in_, x, y, begin, end);
    });
  }

 private:
  Shape in_;
  PoolGeometry g_;
  bool count_include_pad_;
};

}  // namespace

std::unique_ptr<Op> make_average_pool(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32, 4);
  const std::int64_t count_include_pad = node.int_attr("count_include_pad", 0);
  if (count_include_pad != 0 && count_include_pad != 1)
    node.fail(str_cat("attribute 'count_include_pad' must be 0 or 1, got ", count_include_pad));
  return std::make_unique<AveragePoolOp>(x.shape, read_pool_geometry(node, x.shape, false),
                                         count_include_pad == 1);
}

}  // namespace irnet
