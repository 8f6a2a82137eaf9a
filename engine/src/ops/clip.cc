// Clip and Relu: both are the clamp y = min(max(x, lo), hi), Relu with [0, +inf).
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

constexpr std::size_t kGrain = 16384;

class ClampOp final : public Op {
 public:
  ClampOp(Shape shape, FloatClamp clamp) : shape_(std::move(shape)), clamp_(clamp) {}
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const FloatClamp c = clamp_;
    parallel_chunks(ctx, element_count(shape_), kGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) y[i] = apply_clamp(x[i], c);
    });
  }

 private:
  Shape shape_;
  FloatClamp clamp_;
};

}  // namespace

std::unique_ptr<Op> make_clip(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  return std::make_unique<ClampOp>(x.shape, read_clip_range(node));
}

std::unique_ptr<Op> make_relu(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  return std::make_unique<ClampOp>(x.shape, FloatClamp{0.f});
}

}  // namespace irnet
