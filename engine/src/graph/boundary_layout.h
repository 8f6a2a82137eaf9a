// NCHW <-> NHWC at the graph boundary (user tensors are NCHW, the engine's
// 4-D activations NHWC). Both directions are the transpose of each batch
// item's [rows, cols] matrix:
//   NCHW -> NHWC: [C, H*W] -> [H*W, C];   NHWC -> NCHW: [H*W, C] -> [C, H*W].
#pragma once

#include <cstddef>

#include "graph/op.h"

namespace irnet {

// dst[j * rows + i] = src[i * cols + j] for i < rows, j < cols.
// rows == 3 (an RGB image into NHWC) interleaves three planes in one pass
// (NEON st3); otherwise square tiles keep reads and writes in cache lines.
void transpose_matrix(const float* src, std::size_t rows, std::size_t cols, float* dst);

// shape_nhwc = [N, H, W, C].
void nchw_to_nhwc(const float* src, float* dst, const Shape& shape_nhwc);
void nhwc_to_nchw(const float* src, float* dst, const Shape& shape_nhwc);

}  // namespace irnet
