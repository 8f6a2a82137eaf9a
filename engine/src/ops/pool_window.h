// The window walk shared by MaxPool and AveragePool (NHWC).
//
// For output pixel (n, oh, ow) and every channel c, the taps of the window
// that fall inside the input are visited in (i, j) order (tap (i, j) reads
// x[n, hs + i*dh, ws + j*dw, c], hs/ws the window start, taps from
// PoolAxis::first_tap/last_tap) and folded into one accumulator:
//   acc = Reduction::kInit;  for each tap: Reduction::step(acc, x)  (acc updated in place)
//   reduction.finish(acc, window); y[n, oh, ow, c] = acc
// where `window` (PoolWindow) says which pixel it is and which taps it had.
// Channels are contiguous in NHWC, so the accumulators of a block of 32 (then
// 4, then 1) channels stay in registers over all taps, as float vectors
// (references, not values, cross the function boundaries: no vector ABI):
// step and finish are element-wise and templated on the lane type, the order
// of the taps per channel is the scalar walk's, so every result bit is too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "graph/op.h"
#include "ops/pool_geometry.h"

namespace irnet {

struct PoolWindow {
  std::int64_t hs, ws;  // window start in the input (may be negative: padding)
  std::int64_t i0, i1;  // taps [i0, i1) along the height are inside the input
  std::int64_t j0, j1;  // taps [j0, j1) along the width
};

namespace pool_detail {

// Accumulators are GCC/Clang vectors of 4 floats (NEON q, SSE xmm), whose
// element-wise operations are IEEE-exact per lane. armv7 NEON flushes
// subnormals to zero, which a scalar walk does not: there a "vector" is one
// float.
#if defined(__arm__) && !defined(__aarch64__)
using Floats4 = float;
using Floats4Unaligned = float;
#else
using Floats4 = float __attribute__((vector_size(16)));
// The same, at any float address (and allowed to alias float). Loads and
// stores go through it rather than memcpy, which would make GCC keep the
// accumulators in memory instead of registers.
using Floats4Unaligned = float __attribute__((vector_size(16), aligned(alignof(float)), may_alias));
#endif
template <typename Lanes>
constexpr int kLanes = sizeof(Lanes) / sizeof(float);

template <typename Lanes>
inline Lanes load(const float* p) {
  if constexpr (std::is_same_v<Lanes, float>) return *p;
  else return *reinterpret_cast<const Floats4Unaligned*>(p);
}

template <typename Lanes>
inline void store(float* p, const Lanes& v) {
  if constexpr (std::is_same_v<Lanes, float>) *p = v;
  else *reinterpret_cast<Floats4Unaligned*>(p) = v;
}

// Channels [c, c + kCount * kLanes<Lanes>) of one output pixel, in kCount
// accumulators of type Lanes. `tap0` points at channel c of the window's
// first inside tap, row_step/col_step advance one tap down/right.
template <typename Lanes, int kCount, typename Reduction>
inline void reduce_channels(const Reduction& reduction, const PoolWindow& w, const float* tap0,
                            std::ptrdiff_t row_step, std::ptrdiff_t col_step, float* out) {
  constexpr int kStep = kLanes<Lanes>;
  Lanes acc[kCount];
  for (int v = 0; v < kCount; ++v) acc[v] = Lanes{} + Reduction::kInit;
  const float* row = tap0;
  for (std::int64_t i = w.i0; i < w.i1; ++i, row += row_step) {
    const float* tap = row;
    for (std::int64_t j = w.j0; j < w.j1; ++j, tap += col_step)
      for (int v = 0; v < kCount; ++v) Reduction::step(acc[v], load<Lanes>(tap + v * kStep));
  }
  for (int v = 0; v < kCount; ++v) {
    reduction.finish(acc[v], w);
    store(out + v * kStep, acc[v]);
  }
}

}  // namespace pool_detail

// Computes the output rows [row_begin, row_end) (row = n * out_h + oh) of a
// pool over x [N, H, W, C] into y [N, out_h, out_w, C].
template <typename Reduction>
void pool_rows(const Reduction& reduction, const PoolGeometry& geometry, const Shape& x_shape, const float* x,
               float* y, std::size_t row_begin, std::size_t row_end) {
  const PoolGeometry g = geometry;  // a local copy: the output stores cannot alias it
  const std::int64_t H = x_shape[1], W = x_shape[2], C = x_shape[3];
  const std::ptrdiff_t row_step = static_cast<std::ptrdiff_t>(g.h.dilation * W * C);
  const std::ptrdiff_t col_step = static_cast<std::ptrdiff_t>(g.w.dilation * C);
  for (std::size_t row = row_begin; row < row_end; ++row) {
    const std::int64_t n = static_cast<std::int64_t>(row) / g.h.out, oh = static_cast<std::int64_t>(row) % g.h.out;
    PoolWindow w;
    w.hs = g.h.start(oh);
    w.i0 = g.h.first_tap(oh);
    w.i1 = g.h.last_tap(oh);
    float* out = y + static_cast<std::ptrdiff_t>(row) * g.w.out * C;
    for (std::int64_t ow = 0; ow < g.w.out; ++ow, out += C) {
      w.ws = g.w.start(ow);
      w.j0 = g.w.first_tap(ow);
      w.j1 = g.w.last_tap(ow);
      // With dilation a window can skip over the whole input (no tap inside):
      // then no tap is read and the output is finish(kInit).
      const bool has_taps = w.i0 < w.i1 && w.j0 < w.j1;
      const float* tap0 =
          has_taps ? x + ((n * H + w.hs + w.i0 * g.h.dilation) * W + w.ws + w.j0 * g.w.dilation) * C : x;
      using pool_detail::Floats4;
      using pool_detail::reduce_channels;
      constexpr int kBlockVectors = 8;  // 32 channels: 8 accumulators + 8 inputs + 8 masks in NEON registers
      constexpr int kBlock = kBlockVectors * pool_detail::kLanes<Floats4>;
      std::int64_t c = 0;
      for (; c + kBlock <= C; c += kBlock)
        reduce_channels<Floats4, kBlockVectors>(reduction, w, tap0 + c, row_step, col_step, out + c);
      for (; c + pool_detail::kLanes<Floats4> <= C; c += pool_detail::kLanes<Floats4>)
        reduce_channels<Floats4, 1>(reduction, w, tap0 + c, row_step, col_step, out + c);
      for (; c < C; ++c)  // the last C % 4 channels, one float at a time
        reduce_channels<float, 1>(reduction, w, tap0 + c, row_step, col_step, out + c);
    }
  }
}

}  // namespace irnet
