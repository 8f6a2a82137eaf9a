#include "graph/boundary_layout.h"

#include <algorithm>

namespace irnet {

namespace {

// Three rows interleaved: dst[3j + i] = src[i * cols + j]. Plain element-wise
// code over three independent planes: the compiler emits ld1 x3 + st3 (NEON)
// or shuffles (SSE/AVX) for it.
void interleave_three_rows(const float* __restrict src, std::size_t cols, float* __restrict dst) {
  const float* __restrict r0 = src;
  const float* __restrict r1 = src + cols;
  const float* __restrict r2 = src + 2 * cols;
  for (std::size_t j = 0; j < cols; ++j) {
    dst[3 * j] = r0[j];
    dst[3 * j + 1] = r1[j];
    dst[3 * j + 2] = r2[j];
  }
}

}  // namespace

void transpose_matrix(const float* src, std::size_t rows, std::size_t cols, float* dst) {
  if (rows == 3) {
    interleave_three_rows(src, cols, dst);
    return;
  }
  constexpr std::size_t kTile = 16;
  for (std::size_t i0 = 0; i0 < rows; i0 += kTile) {
    const std::size_t i1 = std::min(rows, i0 + kTile);
    for (std::size_t j0 = 0; j0 < cols; j0 += kTile) {
      const std::size_t j1 = std::min(cols, j0 + kTile);
      for (std::size_t j = j0; j < j1; ++j)
        for (std::size_t i = i0; i < i1; ++i) dst[j * rows + i] = src[i * cols + j];
    }
  }
}

void nchw_to_nhwc(const float* src, float* dst, const Shape& shape_nhwc) {
  const std::size_t pixels = static_cast<std::size_t>(shape_nhwc[1] * shape_nhwc[2]);
  const std::size_t c = static_cast<std::size_t>(shape_nhwc[3]);
  for (std::int64_t b = 0; b < shape_nhwc[0]; ++b, src += pixels * c, dst += pixels * c)
    transpose_matrix(src, c, pixels, dst);
}

void nhwc_to_nchw(const float* src, float* dst, const Shape& shape_nhwc) {
  const std::size_t pixels = static_cast<std::size_t>(shape_nhwc[1] * shape_nhwc[2]);
  const std::size_t c = static_cast<std::size_t>(shape_nhwc[3]);
  for (std::int64_t b = 0; b < shape_nhwc[0]; ++b, src += pixels * c, dst += pixels * c)
    transpose_matrix(src, pixels, c, dst);
}

}  // namespace irnet
