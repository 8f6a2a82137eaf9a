// MaxPool (NHWC): y[n,oh,ow,c] = max over the window's taps inside the input
// (padding never wins; a window with no tap inside gives -inf). One output
// pixel at a time, the channel loop innermost (contiguous, vectorizable).
#include <limits>
#include <memory>

#include "common/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/pool_geometry.h"

namespace irnet {
namespace {

class MaxPoolOp final : public Op {
 public:
  MaxPoolOp(Shape in_shape, PoolGeometry g) : in_(std::move(in_shape)), g_(g) {}
  std::vector<TensorDesc> outputs() const override {
    return {{DType::kF32, {in_[0], g_.h.out, g_.w.out, in_[3]}, nullptr}};
  }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const std::int64_t C = in_[3];
    // Work items: output rows (n, oh).
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0] * g_.h.out), 1, [&](std::size_t begin, std::size_t end) {
      for (std::size_t row = begin; row < end; ++row) {
        const std::int64_t n = row / g_.h.out, oh = row % g_.h.out;
        const std::int64_t hs = g_.h.start(oh);
        for (std::int64_t ow = 0; ow < g_.w.out; ++ow) {
          float* out = y + (row * g_.w.out + ow) * C;
          for (std::int64_t c = 0; c < C; ++c) out[c] = -std::numeric_limits<float>::infinity();
          const std::int64_t ws = g_.w.start(ow);
          for (std::int64_t i = g_.h.first_tap(oh); i < g_.h.last_tap(oh); ++i)
            for (std::int64_t j = g_.w.first_tap(ow); j < g_.w.last_tap(ow); ++j) {
              const float* in = x + ((n * in_[1] + hs + i * g_.h.dilation) * in_[2] + ws + j * g_.w.dilation) * C;
              for (std::int64_t c = 0; c < C; ++c) out[c] = in[c] > out[c] ? in[c] : out[c];
            }
        }
      }
    });
  }

 private:
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
