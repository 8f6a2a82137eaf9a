// The window walk shared by MaxPool and AveragePool (NHWC).
//
// For output pixel (n, oh, ow) and every channel c, the taps of the window
// that fall inside the input are visited in (i, j) order (tap (i, j) reads
// x[n, hs + i*dh, ws + j*dw, c], hs/ws the window start, taps from
// WindowAxis::first_tap/last_tap) and folded into one accumulator:
//   acc = Reduction::kInit;  for each tap: acc = Reduction::step(acc, x)
//   y[n, oh, ow, c] = reduction.finish(acc, window)
// where `window` (PoolWindow) says which pixel it is and which taps it had.
// Channels are contiguous in NHWC, so the accumulators of a block of 64
// (AArch64) or 32 channels (then 4, then 1) stay in registers over all taps, as
// float vectors. step and finish take and return them by value (with Lanes&
// parameters GCC kept the accumulators in memory, even inlined); they are
// element-wise and templated on the lane type, and the order of the taps per
// channel is the scalar walk's, so every result bit is too.
// A 3x3 or 2x2 pool's interior windows (all taps inside the input: nearly
// every output of a stem max pool, every output of a 2x2/2 average-pool
// shortcut) skip the per-pixel window bookkeeping and run with compile-time
// taps; the border windows take the general walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__aarch64__) || defined(__arm__)
#include <arm_neon.h>
#endif

#include "pool/pool_kernel.h"

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
// float, unless the reduction brings its own (MaxPool's NEON compare, used
// where no input it reads is subnormal: pool/arm32/max_pool_neon_a32.h).
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
// The vector a reduction folds with: its own `Vector` if it declares one (an
// ARMv7 NEON max, pool/arm32/max_pool_neon_a32.h), else Floats4.
template <typename Reduction, typename = void>
struct VectorOf {
  using type = Floats4;
};
template <typename Reduction>
struct VectorOf<Reduction, std::void_t<typename Reduction::Vector>> {
  using type = typename Reduction::Vector;
};

template <typename Lanes>
constexpr int kLanes = sizeof(Lanes) / sizeof(float);

template <typename Lanes>
inline Lanes load(const float* p) {
  if constexpr (std::is_same_v<Lanes, float>) return *p;
#if defined(__arm__) && !defined(__aarch64__)
  else if constexpr (std::is_same_v<Lanes, float32x4_t>) return vld1q_f32(p);
#endif
  else return *reinterpret_cast<const Floats4Unaligned*>(p);
}

template <typename Lanes>
inline Lanes broadcast(float v) {
  if constexpr (std::is_same_v<Lanes, float>) return v;
#if defined(__arm__) && !defined(__aarch64__)
  else if constexpr (std::is_same_v<Lanes, float32x4_t>) return vdupq_n_f32(v);
#endif
  else return Lanes{} + v;
}

template <typename Lanes>
inline void store(float* p, const Lanes& v) {
  if constexpr (std::is_same_v<Lanes, float>) *p = v;
#if defined(__arm__) && !defined(__aarch64__)
  else if constexpr (std::is_same_v<Lanes, float32x4_t>) vst1q_f32(p, v);
#endif
  else *reinterpret_cast<Floats4Unaligned*>(p) = v;
}

// Reads the Lanes x[0..kCount) at p and advances p past them. On AArch64
// four float vectors are one ld1 of four registers with post-increment (GCC
// would issue one ldp per two vectors and an address per tap; its
// vld1q_f32_x4 loads into fixed registers and copies them out; Clang, which
// has no operand modifiers for register tuples, gets the intrinsic).
template <typename Lanes, int kCount>
inline void load_advance(const float*& p, Lanes (&x)[kCount]) {
#if defined(__aarch64__)
  if constexpr (std::is_same_v<Lanes, Floats4> && kCount == 4) {
#if defined(__clang__)
    const float32x4x4_t t = vld1q_f32_x4(p);
    p += 16;
#else
    float32x4x4_t t;
    __asm__("ld1 {%S0.4s - %V0.4s}, [%1], #64" : "=w"(t), "+r"(p) : "m"(*reinterpret_cast<const float(*)[16]>(p)));
#endif
    for (int l = 0; l < 4; ++l) x[l] = Floats4(t.val[l]);
    return;
  }
#endif
  for (int v = 0; v < kCount; ++v) x[v] = load<Lanes>(p + v * kLanes<Lanes>);
  p += kCount * kLanes<Lanes>;
}

// Folds one tap into the accumulators: x = the kCount Lanes at p, read four
// vectors at a time, acc[v] = step(acc[v], x[v]).
template <typename Reduction, typename Lanes, int kCount>
inline void fold_tap(Lanes (&acc)[kCount], const float* p) {
  constexpr int kGroup = kCount % 4 == 0 ? 4 : 1;
  for (int g = 0; g < kCount; g += kGroup) {
    Lanes x[kGroup];
    load_advance(p, x);
    for (int l = 0; l < kGroup; ++l) acc[g + l] = Reduction::step(acc[g + l], x[l]);
  }
}

// The taps a window visits, counted from its first inside tap: rows x cols,
// tap (i, j) at tap0 + i * row_step + j * col_step, visited in (i, j) order.
// Border windows know their taps at run time; the interior windows of a 3x3
// or 2x2 pool have all of them at compile time, unrolled into straight-line code.
struct RuntimeTaps {
  std::int64_t rows, cols;
};
template <int kRows, int kCols>
struct FixedTaps {
  static constexpr int rows = kRows, cols = kCols;
};

// Channels [c, c + kCount * kLanes<Lanes>) of one output pixel, in kCount
// accumulators of type Lanes. `tap0` points at channel c of the window's
// first inside tap. (Taps and the reduction come by value and the tap loops
// are written out, not passed as a lambda: either way GCC would keep the
// accumulators in memory.)
template <typename Lanes, int kCount, typename Reduction, typename Taps>
inline void reduce_channels(Reduction reduction, const PoolWindow& w, Taps taps, const float* tap0,
                            std::ptrdiff_t row_step, std::ptrdiff_t col_step, float* out) {
  Lanes acc[kCount];
  for (int v = 0; v < kCount; ++v) acc[v] = broadcast<Lanes>(Reduction::kInit);
  if constexpr (std::is_same_v<Taps, RuntimeTaps>) {
    for (std::int64_t i = 0; i < taps.rows; ++i, tap0 += row_step) {
      const float* tap = tap0;
      for (std::int64_t j = 0; j < taps.cols; ++j, tap += col_step) fold_tap<Reduction>(acc, tap);
    }
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < Taps::rows; ++i, tap0 += row_step) {
      const float* tap = tap0;
#pragma GCC unroll 16
      for (int j = 0; j < Taps::cols; ++j, tap += col_step) fold_tap<Reduction>(acc, tap);
    }
  }
  for (int v = 0; v < kCount; ++v) store(out + v * kLanes<Lanes>, reduction.finish(acc[v], w));
}

// Channels [c, c + kCount * kLanes<Lanes>) of `count` consecutive output
// pixels of one row, the first with window w and first inside tap tap0, each
// next one `stride` input columns on (its taps tap_step floats on).
template <typename Lanes, int kCount, typename Reduction, typename Taps>
inline void reduce_channels_of_pixels(Reduction reduction, PoolWindow w, Taps taps, std::int64_t count,
                                      std::int64_t stride, std::ptrdiff_t tap_step, const float* tap0,
                                      std::ptrdiff_t row_step, std::ptrdiff_t col_step, std::int64_t C, float* out) {
  for (; count > 0; --count, w.ws += stride, tap0 += tap_step, out += C)
    reduce_channels<Lanes, kCount>(reduction, w, taps, tap0, row_step, col_step, out);
}

// All C channels of `count` consecutive output pixels of one row (as above):
// blocks of kBlockVectors accumulators (AArch64: 16 accumulators + 4 inputs +
// 4 masks of its 32 NEON registers; elsewhere 8), then at most one block of
// half as many (32 channels on AArch64 run as one block, not 8 single
// vectors), then single vectors, then the last C % 4 channels one float at a
// time; each block over all the pixels.
template <typename Reduction, typename Taps>
inline void reduce_pixels(Reduction reduction, const PoolWindow& w, Taps taps, std::int64_t count,
                          std::int64_t stride, const float* tap0, std::ptrdiff_t row_step, std::ptrdiff_t col_step,
                          std::int64_t C, float* out) {
  using Vector = typename VectorOf<Reduction>::type;
#if defined(__aarch64__)
  constexpr int kBlockVectors = 16;
#elif defined(__arm__)
  constexpr int kBlockVectors = std::is_same_v<Vector, float> ? 8 : 4;  // 16 q registers: 4 + 4 inputs + 4 masks
#else
  constexpr int kBlockVectors = 8;
#endif
  constexpr int kBlock = kBlockVectors * kLanes<Vector>, kHalfBlock = kBlock / 2;
  const std::ptrdiff_t tap_step = static_cast<std::ptrdiff_t>(stride * C);
  std::int64_t c = 0;
  for (; c + kBlock <= C; c += kBlock)
    reduce_channels_of_pixels<Vector, kBlockVectors>(reduction, w, taps, count, stride, tap_step, tap0 + c,
                                                     row_step, col_step, C, out + c);
  if (c + kHalfBlock <= C) {
    reduce_channels_of_pixels<Vector, kBlockVectors / 2>(reduction, w, taps, count, stride, tap_step, tap0 + c,
                                                         row_step, col_step, C, out + c);
    c += kHalfBlock;
  }
  for (; c + kLanes<Vector> <= C; c += kLanes<Vector>)
    reduce_channels_of_pixels<Vector, 1>(reduction, w, taps, count, stride, tap_step, tap0 + c, row_step,
                                         col_step, C, out + c);
  for (; c < C; ++c)
    reduce_channels_of_pixels<float, 1>(reduction, w, taps, count, stride, tap_step, tap0 + c, row_step, col_step,
                                        C, out + c);
}

// The interior run of a row: `count` pixels whose windows have every tap
// inside (as above). Kept out of line: inlined into pool_rows, GCC spills and
// reloads the walk's state around every pixel.
template <int kRows, int kCols, typename Reduction>
__attribute__((noinline)) void reduce_full_windows(Reduction reduction, const PoolWindow& w, std::int64_t count,
                                                   std::int64_t stride, const float* tap0, std::ptrdiff_t row_step,
                                                   std::ptrdiff_t col_step, std::int64_t C, float* out) {
  reduce_pixels(reduction, w, FixedTaps<kRows, kCols>{}, count, stride, tap0, row_step, col_step, C, out);
}

// Output columns [begin, end) whose windows have every tap inside the input
// along the width (a contiguous range, possibly empty).
inline void full_window_columns(const WindowAxis& a, std::int64_t* begin, std::int64_t* end) {
  const auto full = [&](std::int64_t o) { return a.first_tap(o) == 0 && a.last_tap(o) == a.kernel; };
  std::int64_t b = 0, e = a.out;
  while (b < e && !full(b)) ++b;
  while (e > b && !full(e - 1)) --e;
  *begin = b;
  *end = e;
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
  // The square kernel size whose interior windows have compile-time taps, or 0.
  const std::int64_t fixed_k = g.h.kernel == g.w.kernel && (g.h.kernel == 2 || g.h.kernel == 3) ? g.h.kernel : 0;
  std::int64_t full_begin, full_end;
  pool_detail::full_window_columns(g.w, &full_begin, &full_end);
  for (std::size_t row = row_begin; row < row_end; ++row) {
    const std::int64_t n = static_cast<std::int64_t>(row) / g.h.out, oh = static_cast<std::int64_t>(row) % g.h.out;
    PoolWindow w;
    w.hs = g.h.start(oh);
    w.i0 = g.h.first_tap(oh);
    w.i1 = g.h.last_tap(oh);
    float* const out_row = y + static_cast<std::ptrdiff_t>(row) * g.w.out * C;
    const bool has_rows = w.i0 < w.i1;
    const float* const in_row = has_rows ? x + (n * H + w.hs + w.i0 * g.h.dilation) * W * C : x;  // first tap row
    // Any window, its taps counted at run time. With dilation a window can
    // skip over the whole input (no tap inside): then no tap is read and the
    // output is finish(kInit).
    const auto any_window = [&](std::int64_t ow) {
      w.ws = g.w.start(ow);
      w.j0 = g.w.first_tap(ow);
      w.j1 = g.w.last_tap(ow);
      const bool has_taps = has_rows && w.j0 < w.j1;
      const float* tap0 = has_taps ? in_row + (w.ws + w.j0 * g.w.dilation) * C : x;
      pool_detail::reduce_pixels(reduction, w, pool_detail::RuntimeTaps{w.i1 - w.i0, w.j1 - w.j0}, 1, 0, tap0,
                                 row_step, col_step, C, out_row + ow * C);
    };
    std::int64_t ow = 0;
    if (fixed_k != 0 && w.i0 == 0 && w.i1 == fixed_k) {
      for (; ow < full_begin; ++ow) any_window(ow);
      if (ow < full_end) {
        w.ws = g.w.start(ow);
        w.j0 = 0;
        w.j1 = fixed_k;
        const auto full_windows = fixed_k == 3 ? pool_detail::reduce_full_windows<3, 3, Reduction>
                                               : pool_detail::reduce_full_windows<2, 2, Reduction>;
        full_windows(reduction, w, full_end - ow, g.w.stride, in_row + w.ws * C, row_step, col_step, C,
                     out_row + ow * C);
        ow = full_end;
      }
    }
    for (; ow < g.w.out; ++ow) any_window(ow);
  }
}

}  // namespace irnet
