// Reshape: the same elements in the same order under a new logical shape (a copy).
// A bits tensor may be reshaped only when its packed last axis is unchanged.
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

class ReshapeOp final : public Op {
 public:
  ReshapeOp(DType dtype, Shape out_shape, std::size_t bytes)
      : dtype_(dtype), out_shape_(std::move(out_shape)), bytes_(bytes) {}
  std::vector<TensorDesc> outputs() const override { return {{dtype_, out_shape_, nullptr}}; }
  void run(const RunContext& ctx) const override { std::memcpy(ctx.outputs[0], ctx.inputs[0], bytes_); }

 private:
  DType dtype_;
  Shape out_shape_;
  std::size_t bytes_;
};

}  // namespace

std::unique_ptr<Op> make_reshape(const NodeView& node) {
  check_arity(node, 1, 1);
  if (node.input(0) == nullptr) node.fail("input 0 is required");
  const TensorDesc& x = *node.input(0);
  if (!node.has_attr("shape")) node.fail("attribute 'shape' is required");
  const Shape shape = node.ints("shape", {});
  if (shape.empty()) node.fail("attribute 'shape' must not be empty");
  // 64-bit counts (size_t may be 32-bit) compared without overflow.
  const std::uint64_t total = element_count(x.shape);
  std::uint64_t count = 1;
  for (std::int64_t d : shape) {
    if (d < 1) node.fail(str_cat("attribute 'shape' ", shape_str(shape), " has a dim < 1"));
    if (static_cast<std::uint64_t>(d) > total / count)  // count * d > total
      node.fail(str_cat("shape ", shape_str(shape), " has more elements than input ", shape_str(x.shape)));
    count *= static_cast<std::uint64_t>(d);
  }
  if (count != element_count(x.shape))
    node.fail(str_cat("shape ", shape_str(shape), " does not have the ", element_count(x.shape),
                      " elements of input ", shape_str(x.shape)));
  if (x.dtype == DType::kBits && shape.back() != x.shape.back())
    node.fail(str_cat("a bits tensor can only be reshaped keeping its last (packed) axis ",
                      x.shape.back(), ", got shape ", shape_str(shape)));
  return std::make_unique<ReshapeOp>(x.dtype, shape, tensor_bytes(x.dtype, x.shape));
}

}  // namespace irnet
