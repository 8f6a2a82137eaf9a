// Add: y = clamp(a + b), b either shaped like a, or [C] (broadcast along the
// last axis, C = a's last dim) or [1] (a scalar).
#include <algorithm>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

constexpr std::size_t kGrain = 16384;

class AddOp final : public Op {
 public:
  // b_period: b repeats every b_period elements of a (a's size, C or 1).
  AddOp(Shape shape, std::size_t b_period, FloatClamp clamp)
      : shape_(std::move(shape)), b_period_(b_period), clamp_(clamp) {}
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* a = static_cast<const float*>(ctx.inputs[0]);
    const auto* b = static_cast<const float*>(ctx.inputs[1]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const std::size_t total = element_count(shape_);
    const FloatClamp c = clamp_;
    if (b_period_ == total) {
      parallel_chunks(ctx, total, kGrain, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) y[i] = apply_clamp(a[i] + b[i], c);
      });
      return;
    }
    const std::size_t period = b_period_;
    parallel_chunks(ctx, total / period, std::max<std::size_t>(1, kGrain / period),
                    [&](std::size_t begin, std::size_t end) {
                      for (std::size_t r = begin; r < end; ++r)
                        for (std::size_t i = 0; i < period; ++i)
                          y[r * period + i] = apply_clamp(a[r * period + i] + b[i], c);
                    });
  }

 private:
  Shape shape_;
  std::size_t b_period_;
  FloatClamp clamp_;
};

}  // namespace

std::unique_ptr<Op> make_add(const NodeView& node) {
  check_arity(node, 2, 2);
  const TensorDesc& a = node.require_input(0, DType::kF32);
  const TensorDesc& b = node.require_input(1, DType::kF32);
  std::size_t period = 0;
  if (b.shape == a.shape)
    period = element_count(a.shape);
  else if (!a.shape.empty() && b.shape == Shape{a.shape.back()})
    period = static_cast<std::size_t>(a.shape.back());
  else if (b.shape == Shape{1})
    period = 1;
  else
    node.fail(str_cat("b ", shape_str(b.shape), " must have a's shape ", shape_str(a.shape),
                      ", or [C] with C = a's last dim, or [1]"));
  return std::make_unique<AddOp>(a.shape, period, read_activation(node));
}

}  // namespace irnet
