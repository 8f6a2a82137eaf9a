// Tensor size helpers declared in core/types.h.
#include "core/types.h"

#include "core/check.h"
#include "core/checked.h"

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

}  // namespace irnet
