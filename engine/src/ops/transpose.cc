// Transpose: y has dims y[k] = x[perm[k]], y[i_0..] = x[i at positions perm].
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/strided_copy.h"

namespace irnet {
std::unique_ptr<Op> make_transpose(const NodeView& node) {
  check_arity(node, 1, 1);
  if (node.input(0) == nullptr) node.fail("input 0 is required");
  const TensorDesc& x = *node.input(0);
  const std::size_t elem_size = element_size(node, x.dtype, "input 0");
  const std::size_t rank = x.shape.size();
  std::vector<std::int64_t> dflt(rank);
  for (std::size_t k = 0; k < rank; ++k) dflt[k] = static_cast<std::int64_t>(rank - 1 - k);
  const std::vector<std::int64_t> perm = node.ints("perm", dflt);
  std::vector<bool> seen(rank, false);
  bool valid = perm.size() == rank;
  for (std::size_t k = 0; valid && k < rank; ++k) {
    valid = perm[k] >= 0 && perm[k] < static_cast<std::int64_t>(rank) && !seen[perm[k]];
    if (valid) seen[perm[k]] = true;
  }
  if (!valid)
    node.fail(str_cat("attribute 'perm' ", shape_str(perm), " is not a permutation of 0..", rank - 1));
  const std::vector<std::int64_t> in_strides = contiguous_strides(x.shape);
  Shape out_shape(rank);
  StridedView in_view{0, std::vector<std::int64_t>(rank)};
  for (std::size_t k = 0; k < rank; ++k) {
    out_shape[k] = x.shape[perm[k]];
    in_view.strides[k] = in_strides[perm[k]];
  }
  return make_view_copy_op(x.dtype, out_shape, in_view, elem_size);
}

}  // namespace irnet
