// Slice: per axis k, indices start_k, start_k + step_k, ... while before end_k
// (step may be negative: then while after end_k). The converter has already
// clamped starts/ends to the axis (ONNX semantics), so here
//   step > 0: 0 <= start < end <= dim;     step < 0: -1 <= end < start <= dim - 1
// and the output dim is ceil(|end - start| / |step|) >= 1.
// ResNet-20's option-A shortcut is a Slice with steps 2 on H and W.
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/strided_copy.h"

namespace irnet {
std::unique_ptr<Op> make_slice(const NodeView& node) {
  check_arity(node, 1, 1);
  if (node.input(0) == nullptr) node.fail("input 0 is required");
  const TensorDesc& x = *node.input(0);
  const std::size_t elem_size = element_size(node, x.dtype, "input 0");
  const std::size_t rank = x.shape.size();
  for (const char* key : {"starts", "ends"})
    if (!node.has_attr(key)) node.fail(str_cat("attribute '", key, "' is required (one value per axis)"));
  const std::vector<std::int64_t> starts = read_ints(node, "starts", {}, rank, -1);
  const std::vector<std::int64_t> ends = read_ints(node, "ends", {}, rank, -1);
  const std::vector<std::int64_t> steps = node.ints("steps", std::vector<std::int64_t>(rank, 1));
  if (steps.size() != rank)
    node.fail(str_cat("attribute 'steps' must hold ", rank, " integers, has ", steps.size()));
  const std::vector<std::int64_t> in_strides = contiguous_strides(x.shape);
  Shape out_shape(rank);
  StridedView in_view{0, std::vector<std::int64_t>(rank)};
  for (std::size_t k = 0; k < rank; ++k) {
    const std::int64_t dim = x.shape[k], start = starts[k], end = ends[k];
    // A step longer than the axis takes one element either way; clamping it to
    // [-dim, dim] keeps step * stride (and |step|) inside int64.
    const std::int64_t step = std::clamp(steps[k], -dim, dim);
    const bool ok = step > 0 ? (0 <= start && start < end && end <= dim)
                             : (step < 0 && -1 <= end && end < start && start <= dim - 1);
    if (!ok)
      node.fail(str_cat("axis ", k, " (dim ", dim, "): start ", start, ", end ", end, ", step ", steps[k],
                        " is not a clamped, non-empty slice (need step != 0 and 0 <= start < end <= dim"
                        " for step > 0, -1 <= end < start < dim for step < 0)"));
    const std::int64_t magnitude = std::llabs(step);
    out_shape[k] = (std::llabs(end - start) + magnitude - 1) / magnitude;
    in_view.base += start * in_strides[k];
    in_view.strides[k] = step * in_strides[k];
  }
  return make_view_copy_op(x.dtype, out_shape, in_view, elem_size);
}

}  // namespace irnet
