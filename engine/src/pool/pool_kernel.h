// The pool kernels: MaxPool and AveragePool output rows (NHWC), the "pool"
// kernel family (cpu/kernel_config.h). Semantics in ops/max_pool.cc and
// ops/average_pool.cc; the window walk in pool/pool_window.h.
#pragma once

#include <cstddef>

#include "common/window_axis.h"
#include "core/types.h"

namespace irnet {

// The window geometry per spatial axis (read and validated by ops/pool_geometry.h).
struct PoolGeometry {
  WindowAxis h, w;
};

// Output rows [row_begin, row_end) (row = n * out_h + oh) of a pool over
// x [N, H, W, C] into y [N, out_h, out_w, C].
using MaxPoolRowsFn = void (*)(const PoolGeometry& g, const Shape& x_shape, const float* x, float* y,
                               std::size_t row_begin, std::size_t row_end);
using AveragePoolRowsFn = void (*)(const PoolGeometry& g, bool count_include_pad, const Shape& x_shape,
                                   const float* x, float* y, std::size_t row_begin, std::size_t row_end);

struct PoolKernel {
  const char* name;     // e.g. "pool_neon_a32"
  bool (*supported)();  // can this CPU run it
  MaxPoolRowsFn max_rows;
  AveragePoolRowsFn average_rows;
};

// The portable pools (pool/pool_portable.cc): float vectors of the compiler,
// one float at a time on ARMv7 (whose NEON flushes subnormals).
void max_pool_rows_portable(const PoolGeometry& g, const Shape& x_shape, const float* x, float* y,
                            std::size_t row_begin, std::size_t row_end);
void average_pool_rows_portable(const PoolGeometry& g, bool count_include_pad, const Shape& x_shape,
                                const float* x, float* y, std::size_t row_begin, std::size_t row_end);

// Whether every window of g is a whole 2x2 window at stride 2 (no dilation,
// no padding read; an odd input's last row or column is not read): the
// geometry of the vector variants' AveragePool rows (pool/average_pool_2x2.h).
bool is_whole_2x2_stride_2(const PoolGeometry& g);

}  // namespace irnet
