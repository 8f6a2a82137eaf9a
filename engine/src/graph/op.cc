// Tensor size helpers and the NodeView conveniences declared in graph/op.h.
#include "graph/op.h"

#include "bitpack/bitpack.h"
#include "common/check.h"
#include "common/checked.h"

namespace irnet {

std::size_t tensor_bytes(DType dtype, const Shape& shape) {
  const std::string what = str_cat("tensor of shape ", shape_str(shape), " is too large");
  std::size_t count = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0)
      fail(ErrorKind::kInvalidArgument, "negative dimension in shape ", shape_str(shape));
    // For bits the last dimension becomes words of 8 bytes.
    const bool packed_dim = dtype == DType::kBits && i + 1 == shape.size();
    const auto dim = static_cast<std::uint64_t>(shape[i]);
    count = checked_mul(what.c_str(), count, packed_dim ? packed_words(dim) : dim);
  }
  switch (dtype) {
    case DType::kF32:
    case DType::kI32: return checked_mul(what.c_str(), count, 4);
    case DType::kBits:
      if (shape.empty()) fail(ErrorKind::kInvalidArgument, "a bits tensor needs rank >= 1");
      return checked_mul(what.c_str(), count, sizeof(BitWord));
    case DType::kI8: return count;
  }
  fail(ErrorKind::kInvalidArgument, "unknown dtype code ", static_cast<int>(dtype));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "f32";
    case DType::kI32: return "i32";
    case DType::kBits: return "bits";
    case DType::kI8: return "i8";
  }
  return "unknown";
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

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

const TensorDesc& NodeView::require_const(std::size_t i, DType dtype, const Shape& shape) const {
  const TensorDesc& t = require_input(i, dtype);
  if (t.data == nullptr) fail(str_cat("input ", i, " must be a constant"));
  if (t.shape != shape)
    fail(str_cat("input ", i, " must have shape ", shape_str(shape), ", got ", shape_str(t.shape)));
  return t;
}

void NodeView::fail(const std::string& message) const {
  throw Error(ErrorKind::kModelFormat, str_cat("node '", name(), "' (", op(), "): ", message));
}

}  // namespace irnet
