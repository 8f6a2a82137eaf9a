#include "ops/op_util.h"

#include <algorithm>
#include <limits>

#include "core/check.h"
#include "core/checked.h"

namespace irnet {

FloatClamp read_clip_range(const NodeView& node) {
  if (!node.has_attr("clip")) node.fail("attribute 'clip' [lo, hi] is required");
  const std::vector<float> range = node.floats("clip", {});
  if (range.size() != 2)
    node.fail(str_cat("attribute 'clip' must hold 2 floats [lo, hi], has ", range.size()));
  if (!(range[0] <= range[1]))
    node.fail(str_cat("attribute 'clip' [", range[0], ", ", range[1], "] is empty (need lo <= hi)"));
  return FloatClamp{range[0], range[1]};
}

FloatClamp read_activation(const NodeView& node) {
  const std::string act = node.str("act", "none");
  if (act == "none") return FloatClamp{};
  if (act == "relu") return FloatClamp{0.f};
  if (act == "clip") return read_clip_range(node);
  node.fail(str_cat("unsupported act '", act, "' (supported: none, relu, clip)"));
}

void check_arity(const NodeView& node, std::size_t min_inputs, std::size_t max_inputs) {
  const std::size_t n = node.num_inputs();
  if (n < min_inputs || n > max_inputs)
    node.fail(min_inputs == max_inputs
                  ? str_cat("takes ", min_inputs, " input(s), has ", n)
                  : str_cat("takes ", min_inputs, " to ", max_inputs, " inputs, has ", n));
  if (node.num_outputs() != 1) node.fail(str_cat("has 1 output, declared ", node.num_outputs()));
}

int checked_int(const NodeView& node, std::int64_t value, const char* what) {
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max())
    node.fail(str_cat(what, " = ", value, " is out of range"));
  return static_cast<int>(value);
}

std::size_t element_count(const Shape& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) n = checked_mul("element count", n, d);
  return n;
}

void check_output_fits(const NodeView& node, DType dtype, const Shape& shape) {
  for (std::int64_t d : shape)
    if (d < 1) node.fail(str_cat("output shape ", shape_str(shape), " is empty or too large"));
  try {
    checked_mul("output size", element_count(shape), 8);  // the widest element: 8 bytes
    tensor_bytes(dtype, shape);
  } catch (const Error&) {
    node.fail(str_cat("output shape ", shape_str(shape), " is empty or too large"));
  }
}

std::size_t element_size(const NodeView& node, DType dtype, const char* what) {
  switch (dtype) {
    case DType::kF32:
    case DType::kI32: return 4;
    case DType::kI8: return 1;
    case DType::kBits: break;
  }
  node.fail(str_cat(what, " must be f32, i32 or i8, got ", dtype_name(dtype)));
}

int normalize_axis(const NodeView& node, std::int64_t axis, std::size_t rank, const char* attr) {
  const auto r = static_cast<std::int64_t>(rank);
  if (axis < -r || axis >= r)
    node.fail(str_cat("attribute '", attr, "' = ", axis, " is out of range for rank ", rank,
                      " (valid: ", -r, " .. ", r - 1, ")"));
  return static_cast<int>(axis < 0 ? axis + r : axis);
}

std::vector<std::int64_t> read_ints(const NodeView& node, const std::string& key,
                                    std::vector<std::int64_t> dflt, std::size_t count,
                                    std::int64_t min_value) {
  const std::vector<std::int64_t> v = node.ints(key, std::move(dflt));
  if (v.size() != count)
    node.fail(str_cat("attribute '", key, "' must hold ", count, " integers, has ", v.size()));
  for (std::int64_t x : v)
    if (x < min_value)
      node.fail(str_cat("attribute '", key, "' value ", x, " must be >= ", min_value));
  return v;
}

void parallel_chunks(const RunContext& ctx, std::size_t total, std::size_t grain,
                     ChunkFn fn) {
  // Work worth splitting (over one grain) goes into a multiple of kChunkMultiple
  // chunks, chunk c starting at item floor(c * total / chunks): chunk sizes
  // differ by at most one item, so ThreadPool's contiguous split over k threads
  // (k dividing kChunkMultiple) gives every thread within one item of total / k
  // (whole grains had left a 7 x 7 x 1024 tensor's 49 rows as 16 + 16 + 16 + 1).
  // At most kMaxChunks, so c * (total % chunks) cannot overflow a 32-bit size_t.
  constexpr std::size_t kChunkMultiple = 16;
  constexpr std::size_t kMaxChunks = 4096;
  std::size_t chunks = (total + grain - 1) / grain;
  if (chunks > 1)
    chunks = std::min({total, (chunks + kChunkMultiple - 1) / kChunkMultiple * kChunkMultiple, kMaxChunks});
  if (chunks == 0) return;
  const std::size_t base = total / chunks, extra = total % chunks;
  const auto first_item = [=](std::size_t c) { return c * base + c * extra / chunks; };
  (*ctx.parallel_for)(chunks, [&](std::size_t begin, std::size_t end) {
    fn(first_item(begin), first_item(end));
  });
}

}  // namespace irnet
