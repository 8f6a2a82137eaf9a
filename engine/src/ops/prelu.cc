// PRelu: y = x < 0 ? x * slope : x, slope per channel (last axis, [C]) or one value ([1]).
#include <algorithm>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

constexpr std::size_t kGrain = 16384;

class PReluOp final : public Op {
 public:
  PReluOp(Shape shape, bool per_channel) : shape_(std::move(shape)), per_channel_(per_channel) {}
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    const auto* slope = static_cast<const float*>(ctx.inputs[1]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    // Rows of `period` elements share the slope vector (period 1: one slope).
    const std::size_t period = per_channel_ ? static_cast<std::size_t>(shape_.back()) : 1;
    parallel_chunks(ctx, element_count(shape_) / period, std::max<std::size_t>(1, kGrain / period),
                    [&](std::size_t begin, std::size_t end) {
                      for (std::size_t r = begin; r < end; ++r)
                        for (std::size_t i = 0; i < period; ++i) {
                          const float v = x[r * period + i];
                          y[r * period + i] = v < 0.f ? v * slope[i] : v;
                        }
                    });
  }

 private:
  Shape shape_;
  bool per_channel_;
};

}  // namespace

std::unique_ptr<Op> make_prelu(const NodeView& node) {
  check_arity(node, 2, 2);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  const TensorDesc& slope = node.require_input(1, DType::kF32);
  if (x.shape.empty()) node.fail("input 0 must have rank >= 1");
  const std::int64_t channels = x.shape.back();
  if (slope.shape != Shape{channels} && slope.shape != Shape{1})
    node.fail(str_cat("slope must have shape [", channels, "] (per channel, last axis) or [1], got ",
                      shape_str(slope.shape)));
  return std::make_unique<PReluOp>(x.shape, slope.shape == Shape{channels} && channels != 1);
}

}  // namespace irnet
