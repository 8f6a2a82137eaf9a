// ChannelAffine (a folded BatchNormalization): y = clamp(x * scale[c] + bias[c]),
// c = index on the last axis; multiply then add, rounded separately (no FMA).
#include <algorithm>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

constexpr std::size_t kGrain = 16384;

class ChannelAffineOp final : public Op {
 public:
  ChannelAffineOp(Shape shape, FloatClamp clamp) : shape_(std::move(shape)), clamp_(clamp) {}
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    const auto* scale = static_cast<const float*>(ctx.inputs[1]);
    const auto* bias = static_cast<const float*>(ctx.inputs[2]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    const std::size_t channels = static_cast<std::size_t>(shape_.back());
    const std::size_t rows = element_count(shape_) / channels;
    const FloatClamp c = clamp_;
    parallel_chunks(ctx, rows, std::max<std::size_t>(1, kGrain / channels),
                    [&](std::size_t begin, std::size_t end) {
                      for (std::size_t r = begin; r < end; ++r) {
                        const float* xr = x + r * channels;
                        float* yr = y + r * channels;
                        for (std::size_t i = 0; i < channels; ++i)
                          yr[i] = apply_clamp(xr[i] * scale[i] + bias[i], c);
                      }
                    });
  }
  OpStats stats() const override {
    OpStats s;
    s.param_bytes = shape_.back() * 8;
    return s;
  }

 private:
  Shape shape_;
  FloatClamp clamp_;
};

}  // namespace

std::unique_ptr<Op> make_channel_affine(const NodeView& node) {
  check_arity(node, 3, 3);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  if (x.shape.empty()) node.fail("input 0 must have rank >= 1 (channels are the last axis)");
  const Shape per_channel = {x.shape.back()};
  for (std::size_t i : {std::size_t{1}, std::size_t{2}}) {
    const TensorDesc& t = node.require_input(i, DType::kF32);
    if (t.shape != per_channel)
      node.fail(str_cat(i == 1 ? "scale" : "bias", " must have shape ", shape_str(per_channel),
                        " (one value per channel of the last axis), got ", shape_str(t.shape)));
  }
  return std::make_unique<ChannelAffineOp>(x.shape, read_activation(node));
}

}  // namespace irnet
