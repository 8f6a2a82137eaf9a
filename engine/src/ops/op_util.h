// Helpers shared by the float ops: attribute parsing, shape arithmetic and
// chunked parallel loops.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>

#include "fconv/conv2d_f32.h"
#include "graph/op.h"

namespace irnet {

// The fused activation of Conv2d / Gemm / ChannelAffine / Add:
//   act "none" (default) -> no clamp; "relu" -> [0, +inf); "clip" -> clip [lo, hi]
// (the clip attribute is required then, with lo <= hi). Anything else fails.
FloatClamp read_activation(const NodeView& node);
// The required `clip` [lo, hi] attribute (Clip op and act "clip").
FloatClamp read_clip_range(const NodeView& node);

// Fails unless the node has between min_inputs and max_inputs inputs and one output.
void check_arity(const NodeView& node, std::size_t min_inputs, std::size_t max_inputs);

// value as an int (the conv geometry's type), or fails naming `what`.
int checked_int(const NodeView& node, std::int64_t value, const char* what);
// Product of the dims (shapes are validated by the loader: dims >= 1, product fits).
std::size_t element_count(const Shape& shape);
// Fails unless a tensor of this shape (computed by the op, e.g. a padded or
// concatenated output) has dims >= 1 and fits in memory, in 64-bit math.
void check_output_fits(const NodeView& node, DType dtype, const Shape& shape);
// Bytes per element of a non-packed dtype; fails for bits (which data-movement
// ops cannot index per element) naming `what`.
std::size_t element_size(const NodeView& node, DType dtype, const char* what);
// Maps an axis in [-rank, rank) to [0, rank), or fails naming the attribute.
int normalize_axis(const NodeView& node, std::int64_t axis, std::size_t rank, const char* attr);
// Reads an integer attribute of exactly `count` values, each >= min_value.
std::vector<std::int64_t> read_ints(const NodeView& node, const std::string& key,
                                    std::vector<std::int64_t> dflt, std::size_t count,
                                    std::int64_t min_value);

// Runs fn(begin, end) over [0, total) on the context's thread pool, split
// into near-equal chunks once there is more than `grain` items of work.
// Chunk boundaries never change results for the element-wise loops that use it.
void parallel_chunks(const RunContext& ctx, std::size_t total, std::size_t grain,
                     ChunkFn fn);

// The same clamp as the sgemm epilogue: min(max(y, lo), hi).
inline float apply_clamp(float y, FloatClamp c) { return std::min(std::max(y, c.lo), c.hi); }

}  // namespace irnet
