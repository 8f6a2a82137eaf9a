// Concat: inputs with equal dims except on `axis` are placed one after the
// other along it.
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/strided_copy.h"

namespace irnet {
namespace {

class ConcatOp final : public Op {
 public:
  ConcatOp(DType dtype, std::vector<Shape> in_shapes, Shape out_shape, int axis, std::size_t elem_size)
      : dtype_(dtype), in_shapes_(std::move(in_shapes)), out_shape_(std::move(out_shape)), axis_(axis),
        elem_size_(elem_size) {}
  std::vector<TensorDesc> outputs() const override { return {{dtype_, out_shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    StridedView out_view{0, contiguous_strides(out_shape_)};
    for (std::size_t i = 0; i < in_shapes_.size(); ++i) {
      strided_copy(ctx.inputs[i], {0, contiguous_strides(in_shapes_[i])}, ctx.outputs[0], out_view,
                   in_shapes_[i], elem_size_);
      out_view.base += in_shapes_[i][axis_] * out_view.strides[axis_];
    }
  }

 private:
  DType dtype_;
  std::vector<Shape> in_shapes_;
  Shape out_shape_;
  int axis_;
  std::size_t elem_size_;
};

}  // namespace

std::unique_ptr<Op> make_concat(const NodeView& node) {
  if (node.num_inputs() < 1) node.fail("takes at least 1 input, has 0");
  if (node.num_outputs() != 1) node.fail(str_cat("has 1 output, declared ", node.num_outputs()));
  if (node.input(0) == nullptr) node.fail("input 0 is required");
  const TensorDesc& first = *node.input(0);
  const std::size_t elem_size = element_size(node, first.dtype, "input 0");
  if (first.shape.empty()) node.fail("inputs must have rank >= 1");
  if (!node.has_attr("axis")) node.fail("attribute 'axis' is required");
  const int axis = normalize_axis(node, node.int_attr("axis", 0), first.shape.size(), "axis");
  std::vector<Shape> shapes;
  Shape out_shape = first.shape;
  out_shape[axis] = 0;
  for (std::size_t i = 0; i < node.num_inputs(); ++i) {
    const TensorDesc& t = node.require_input(i, first.dtype);
    Shape expected = first.shape;
    expected[axis] = t.shape.size() == expected.size() ? t.shape[axis] : 0;
    if (t.shape != expected)
      node.fail(str_cat("input ", i, " ", shape_str(t.shape), " must match input 0 ", shape_str(first.shape),
                        " on every axis but ", axis));
    out_shape[axis] += t.shape[axis];
    shapes.push_back(t.shape);
  }
  check_output_fits(node, first.dtype, out_shape);
  return std::make_unique<ConcatOp>(first.dtype, std::move(shapes), out_shape, axis, elem_size);
}

}  // namespace irnet
