// One strided copy for every data-movement op:
//
//   for each index (i_0, ..., i_{r-1}) < dims:
//     out[out_base + sum_k i_k * out_strides[k]] = in[in_base + sum_k i_k * in_strides[k]]
//
// (offsets and strides in elements; strides may be negative). Transpose permutes
// the input strides, Slice multiplies them by the steps and offsets the base by
// the starts, Pad and Concat place the input inside a larger output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "graph/op.h"

namespace irnet {

struct StridedView {
  std::int64_t base = 0;
  std::vector<std::int64_t> strides;
};

// Row-major strides of a shape, in elements.
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& dims);

// elem_size is 1 or 4 bytes (the non-packed dtypes).
void strided_copy(const void* in, const StridedView& in_view, void* out, const StridedView& out_view,
                  const std::vector<std::int64_t>& dims, std::size_t elem_size);

// The op whose output (contiguous, out_shape) reads its single input through
// in_view: Slice and Transpose are both this, with different views.
std::unique_ptr<Op> make_view_copy_op(DType dtype, Shape out_shape, StridedView in_view, std::size_t elem_size);

}  // namespace irnet
