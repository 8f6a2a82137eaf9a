// The 2x2 stride-2 AveragePool over whole windows (ReActNet's downsampling
// shortcut), on a vector ISA's float lanes: the arm64, arm32 and x86 "pool"
// variants' AveragePool rows are average_pool_rows with their own lane type.
//
// Per channel, exactly the portable walk's arithmetic (pool/pool_window.h,
// ops/average_pool.cc): sum = 0; sum += x(0,0); sum += x(0,1); sum += x(1,0);
// sum += x(1,1); y = sum / 4. The division is a multiplication by 0.25, the
// same rounded value for every float (the exact quotient and the exact product
// are the same real number), NaNs and infinities included.
//
// Lanes (an architecture's vector, a type only its own files use, so that no
// instantiation compiled for one ISA is shared with another's files; NEON's in
// pool/average_pool_2x2_neon.h):
//   using Vector; static constexpr int kLanes, kBlockVectors (vectors per
//   channel block: all four taps' loaded before the sums, as registers allow);
//   static Vector load(const float*), zero(), quarter();
//   static Vector add(Vector, Vector), mul(Vector, Vector);
//   static void store(float*, Vector);
// Guard (whether the vector arithmetic of a row was IEEE-exact: ARMv7 NEON's
// flush-to-zero, pool/arm32/pool_neon_a32.cc; an empty one elsewhere):
//   void input(Vector x), output(Vector y); bool exact() const;
#pragma once

#include <cstddef>
#include <cstdint>

#include "pool/pool_kernel.h"

namespace irnet {
namespace pool_2x2 {

// kCount vectors of output channels of one pixel, whose window's taps are at
// a, b (top row) and c, d (bottom row); the pointers move on past them.
template <typename Lanes, int kCount, typename Guard>
inline void reduce_channels(const float*& a, const float*& b, const float*& c, const float*& d, float*& out,
                            typename Lanes::Vector zero, typename Lanes::Vector quarter, Guard& guard) {
  constexpr int L = Lanes::kLanes;
  typename Lanes::Vector xa[kCount], xb[kCount], xc[kCount], xd[kCount];
  for (int v = 0; v < kCount; ++v) xa[v] = Lanes::load(a + v * L), xb[v] = Lanes::load(b + v * L);
  for (int v = 0; v < kCount; ++v) xc[v] = Lanes::load(c + v * L), xd[v] = Lanes::load(d + v * L);
  for (int v = 0; v < kCount; ++v) {
    guard.input(xa[v]);
    guard.input(xb[v]);
    guard.input(xc[v]);
    guard.input(xd[v]);
    const auto y =
        Lanes::mul(Lanes::add(Lanes::add(Lanes::add(Lanes::add(zero, xa[v]), xb[v]), xc[v]), xd[v]), quarter);
    guard.output(y);
    Lanes::store(out + v * L, y);
  }
  a += kCount * L, b += kCount * L, c += kCount * L, d += kCount * L, out += kCount * L;
}

// One output row: in0/in1 are the two input rows (W >= 2 * out_w pixels of C
// floats each). The last C % kLanes channels are summed one float at a time
// (scalar arithmetic is IEEE-exact everywhere). Returns guard.exact().
template <typename Lanes, typename Guard>
bool average_2x2_row(const float* in0, const float* in1, std::ptrdiff_t out_w, std::ptrdiff_t C, float* out) {
  constexpr std::ptrdiff_t kBlock = Lanes::kBlockVectors * Lanes::kLanes;
  const auto zero = Lanes::zero(), quarter = Lanes::quarter();
  Guard guard;
  for (std::ptrdiff_t ow = 0; ow < out_w; ++ow) {
    // The pixel's taps: in0/in1 (left column) and +C (right column).
    const float *a = in0 + 2 * ow * C, *b = a + C, *c = in1 + 2 * ow * C, *d = c + C;
    std::ptrdiff_t k = C;
    for (; k >= kBlock; k -= kBlock) reduce_channels<Lanes, Lanes::kBlockVectors>(a, b, c, d, out, zero, quarter, guard);
    for (; k >= Lanes::kLanes; k -= Lanes::kLanes) reduce_channels<Lanes, 1>(a, b, c, d, out, zero, quarter, guard);
    for (; k > 0; --k) *out++ = (((0.f + *a++) + *b++) + *c++ + *d++) / 4.f;
  }
  return guard.exact();
}

// A vector variant's AveragePoolRowsFn: output rows [row_begin, row_end) of
// a pool whose windows are whole 2x2 windows at stride 2
// (is_whole_2x2_stride_2) by kRow (average_2x2_row on Lanes, or a variant's
// own row with its contract), a row whose vector arithmetic was not exact
// again by the portable rows; every other geometry by the portable rows.
template <typename Lanes, typename Guard, auto kRow = &average_2x2_row<Lanes, Guard>>
void average_pool_rows(const PoolGeometry& g, bool count_include_pad, const Shape& x_shape, const float* x, float* y,
                       std::size_t row_begin, std::size_t row_end) {
  if (!is_whole_2x2_stride_2(g)) {
    average_pool_rows_portable(g, count_include_pad, x_shape, x, y, row_begin, row_end);
    return;
  }
  const std::int64_t H = x_shape[1], W = x_shape[2], C = x_shape[3];
  for (std::size_t row = row_begin; row < row_end; ++row) {
    const std::int64_t n = static_cast<std::int64_t>(row) / g.h.out, oh = static_cast<std::int64_t>(row) % g.h.out;
    const float* in0 = x + (n * H + 2 * oh) * W * C;
    float* out = y + static_cast<std::ptrdiff_t>(row) * g.w.out * C;
    if (!kRow(in0, in0 + W * C, static_cast<std::ptrdiff_t>(g.w.out), static_cast<std::ptrdiff_t>(C), out))
      average_pool_rows_portable(g, count_include_pad, x_shape, x, y, row, row + 1);
  }
}

// The Guard of IEEE-exact vector arithmetic.
struct ExactLanes {
  template <typename Vector>
  void input(const Vector&) {}
  template <typename Vector>
  void output(const Vector&) {}
  bool exact() const { return true; }
};

}  // namespace pool_2x2
}  // namespace irnet
