// AveragePool (NHWC): y = (sum of the window's taps inside the input) / divisor,
// summed in (i, j) order, with the ONNX/PyTorch divisor:
//   count_include_pad 0: the number of taps inside the input;
//   count_include_pad 1: the window clipped to the *padded* input,
//     (min(hs + kh, H + pad_bottom) - hs) * (min(ws + kw, W + pad_right) - ws),
//     i.e. explicit padding counts, the extra space ceil_mode adds does not.
#include <algorithm>
#include <memory>

#include "common/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/pool_geometry.h"

namespace irnet {
namespace {

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
    const std::int64_t C = in_[3];
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0] * g_.h.out), 1, [&](std::size_t begin, std::size_t end) {
      for (std::size_t row = begin; row < end; ++row) {
        const std::int64_t n = row / g_.h.out, oh = row % g_.h.out;
        const std::int64_t hs = g_.h.start(oh);
        const std::int64_t i0 = g_.h.first_tap(oh), i1 = g_.h.last_tap(oh);
        for (std::int64_t ow = 0; ow < g_.w.out; ++ow) {
          float* out = y + (row * g_.w.out + ow) * C;
          for (std::int64_t c = 0; c < C; ++c) out[c] = 0.f;
          const std::int64_t ws = g_.w.start(ow);
          const std::int64_t j0 = g_.w.first_tap(ow), j1 = g_.w.last_tap(ow);
          for (std::int64_t i = i0; i < i1; ++i)
            for (std::int64_t j = j0; j < j1; ++j) {
              const float* in = x + ((n * in_[1] + hs + i) * in_[2] + ws + j) * C;
              for (std::int64_t c = 0; c < C; ++c) out[c] += in[c];
            }
          const float divisor = static_cast<float>(
              count_include_pad_ ? (std::min(hs + g_.h.kernel, g_.h.in + g_.h.pad_end) - hs) *
                                       (std::min(ws + g_.w.kernel, g_.w.in + g_.w.pad_end) - ws)
                                 : (i1 - i0) * (j1 - j0));
          for (std::int64_t c = 0; c < C; ++c) out[c] /= divisor;
        }
      }
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
