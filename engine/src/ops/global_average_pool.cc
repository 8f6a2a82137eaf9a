// GlobalAveragePool (NHWC): y[n,0,0,c] = (sum over h, w in order of x[n,h,w,c]) / (H*W).
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

class GlobalAveragePoolOp final : public Op {
 public:
  explicit GlobalAveragePoolOp(Shape in_shape) : in_(std::move(in_shape)) {}
  std::vector<TensorDesc> outputs() const override {
    return {{DType::kF32, {in_[0], 1, 1, in_[3]}, nullptr}};
  }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const std::size_t pixels = static_cast<std::size_t>(in_[1] * in_[2]);
    const std::size_t C = static_cast<std::size_t>(in_[3]);
    const float divisor = static_cast<float>(pixels);
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0]), 1, [&](std::size_t begin, std::size_t end) {
      for (std::size_t n = begin; n < end; ++n) {
        float* out = y + n * C;
        for (std::size_t c = 0; c < C; ++c) out[c] = 0.f;
        for (std::size_t p = 0; p < pixels; ++p) {
          const float* in = x + (n * pixels + p) * C;
          for (std::size_t c = 0; c < C; ++c) out[c] += in[c];
        }
        for (std::size_t c = 0; c < C; ++c) out[c] /= divisor;
      }
    });
  }

 private:
  Shape in_;
};

}  // namespace

std::unique_ptr<Op> make_global_average_pool(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32, 4);
  return std::make_unique<GlobalAveragePoolOp>(x.shape);
}

}  // namespace irnet
