// The NodeView conveniences declared in graph/op.h.
#include "graph/op.h"

#include "core/check.h"

namespace irnet {

std::int64_t NodeView::int_attr(const std::string& key, std::int64_t dflt) const {
  const std::vector<std::int64_t> v = ints(key, {dflt});
  if (v.size() != 1) fail(str_cat("attribute '", key, "' must hold one integer, has ", v.size()));
  return v[0];
}

float NodeView::float_attr(const std::string& key, float dflt) const {
  const std::vector<float> v = floats(key, {dflt});
  if (v.size() != 1) fail(str_cat("attribute '", key, "' must hold one float, has ", v.size()));
  return v[0];
}

const TensorDesc& NodeView::require_input(std::size_t i, DType dtype, int rank) const {
  if (i >= num_inputs() || input(i) == nullptr)
    fail(str_cat("input ", i, " is required but absent (", num_inputs(), " inputs given)"));
  const TensorDesc& t = *input(i);
  if (t.dtype != dtype)
    fail(str_cat("input ", i, " must be ", dtype_name(dtype), ", got ", dtype_name(t.dtype)));
  if (rank >= 0 && t.shape.size() != static_cast<std::size_t>(rank))
    fail(str_cat("input ", i, " must have rank ", rank, ", got shape ", shape_str(t.shape)));
  return t;
}

const TensorDesc& NodeView::require_const(std::size_t i, DType dtype, const Shape& shape, const char* what) const {
  const TensorDesc& t = require_input(i, dtype);
  const std::string input = what == nullptr ? str_cat("input ", i) : str_cat("input ", i, " (", what, ")");
  if (t.data == nullptr) fail(str_cat(input, " must be a constant"));
  if (t.shape != shape) fail(str_cat(input, " must have shape ", shape_str(shape), ", got ", shape_str(t.shape)));
  return t;
}

void NodeView::fail(const std::string& message) const {
  throw Error(ErrorKind::kModelFormat, str_cat("node '", name(), "' (", op(), "): ", message));
}

}  // namespace irnet
