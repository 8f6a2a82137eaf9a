// Pad (constant): y has dims x_k + begin_k + end_k, holds `value` everywhere
// except the block at offset begin_k, which holds x. Any axis, including the
// channels (ResNet-20's option-A shortcut pads zero channels).
#include <algorithm>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/strided_copy.h"

namespace irnet {
namespace {

class PadOp final : public Op {
 public:
  PadOp(Shape in_shape, Shape out_shape, StridedView out_view, float value)
      : in_shape_(std::move(in_shape)), out_shape_(std::move(out_shape)), out_view_(std::move(out_view)),
        value_(value) {}
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, out_shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    auto* y = static_cast<float*>(ctx.outputs[0]);
    std::fill(y, y + element_count(out_shape_), value_);
    strided_copy(ctx.inputs[0], {0, contiguous_strides(in_shape_)}, y, out_view_, in_shape_, sizeof(float));
  }

 private:
  Shape in_shape_, out_shape_;
  StridedView out_view_;
  float value_;
};

}  // namespace

std::unique_ptr<Op> make_pad(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  const std::size_t rank = x.shape.size();
  if (!node.has_attr("pads")) node.fail(str_cat("attribute 'pads' is required (", 2 * rank, " values)"));
  const std::vector<std::int64_t> pads = node.ints("pads", {});
  if (pads.size() != 2 * rank)
    node.fail(str_cat("attribute 'pads' must hold 2 * rank = ", 2 * rank, " values [begin per axis..., "
                      "end per axis...], has ", pads.size()));
  for (std::int64_t p : pads)
    if (p < 0 || p > (std::int64_t{1} << 40))
      node.fail(str_cat("pad ", p, " is not supported (need 0 <= pad <= 2^40; negative pads crop)"));
  const float value = node.float_attr("value", 0.f);
  Shape out_shape(rank);
  for (std::size_t k = 0; k < rank; ++k) out_shape[k] = x.shape[k] + pads[k] + pads[rank + k];
  check_output_fits(node, DType::kF32, out_shape);
  StridedView out_view{0, contiguous_strides(out_shape)};
  for (std::size_t k = 0; k < rank; ++k) out_view.base += pads[k] * out_view.strides[k];
  return std::make_unique<PadOp>(x.shape, out_shape, out_view, value);
}

}  // namespace irnet
