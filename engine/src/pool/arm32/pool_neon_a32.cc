// ARMv7: MaxPool folds on NEON (pool/arm32/max_pool_neon_a32.h) for chunks of
// output rows whose input rows hold no subnormal, else on VFP (the portable
// rows). AveragePool's whole 2x2 stride-2 windows sum on NEON
// (pool/average_pool_2x2.h) row by row, each row checked as it goes
// (FlushGuardNeonA32) and computed again on VFP (the portable rows) where
// NEON's flush-to-zero or default NaN could have changed a bit; every other
// AveragePool takes the portable rows.
#include <algorithm>
#include <cstdint>
#include <iterator>

#include "common/arm32/float_neon_a32.h"
#include "cpu/kernel_config.h"
#include "pool/arm32/max_pool_neon_a32.h"
#include "pool/average_pool_2x2.h"
#include "pool/average_pool_2x2_neon.h"
#include "pool/pool_kernel.h"

namespace irnet {
namespace {

// Whether a row's NEON sums were the IEEE ones (common/arm32/float_neon_a32.h
// says what NEON changes). Every input x is 0 or |x| >= 2^-101
// (kTinyInputBits), checked as min over inputs of 2*|bits| - 2 (0 wraps to the
// top): then x is a multiple of 2^-124, so is every partial sum, exactly or
// rounded, and a nonzero one has |s| >= 2^-124, so nothing is subnormal,
// neither an operand nor a sum nor s / 4. No output is a NaN, checked as max
// over outputs of 2*|bits|: an input NaN (whose payload NEON would replace)
// makes the output a NaN. Infinities and overflow are the same on NEON.
struct FlushGuardNeonA32 {
  static constexpr std::uint32_t kTinyInputBits = 0x0D000000u;  // 2^-101
  uint32x4_t min_input = vdupq_n_u32(~0u);
  uint32x4_t max_output = vdupq_n_u32(0);
  void input(float32x4_t x) {
    min_input = vminq_u32(min_input, vsubq_u32(doubled_magnitude_bits(x), vdupq_n_u32(2)));
  }
  void output(float32x4_t y) { max_output = vmaxq_u32(max_output, doubled_magnitude_bits(y)); }
  bool exact() const {
    return min_lane(min_input) >= 2 * kTinyInputBits - 2 && max_lane(max_output) <= 2 * kFloatInfBits;
  }
};

// Whether an input row that output rows [begin, end) read holds a subnormal
// (then ARMv7 NEON's compare would not be exact): per image, the input rows
// from the first output row's window to the last one's.
bool rows_read_have_subnormals(const PoolGeometry& g, const Shape& in, const float* x, std::size_t begin,
                               std::size_t end) {
  const std::int64_t H = in[1], row_floats = in[2] * in[3];
  for (std::int64_t row = static_cast<std::int64_t>(begin); row < static_cast<std::int64_t>(end);) {
    const std::int64_t n = row / g.h.out, first_oh = row % g.h.out;
    const std::int64_t last_oh = std::min(g.h.out, first_oh + static_cast<std::int64_t>(end) - row) - 1;
    const std::int64_t lo = std::max<std::int64_t>(0, g.h.start(first_oh));
    const std::int64_t hi = std::min(H, g.h.start(last_oh) + (g.h.kernel - 1) * g.h.dilation + 1);
    if (hi > lo && inputs_have_subnormals(x + (n * H + lo) * row_floats, static_cast<std::size_t>((hi - lo) * row_floats)))
      return true;
    row += last_oh - first_oh + 1;
  }
  return false;
}

void max_pool_rows_neon_a32(const PoolGeometry& g, const Shape& x_shape, const float* x, float* y,
                            std::size_t row_begin, std::size_t row_end) {
  if (rows_read_have_subnormals(g, x_shape, x, row_begin, row_end))
    max_pool_rows_portable(g, x_shape, x, y, row_begin, row_end);
  else
    pool_rows(MaxReductionNeonA32{}, g, x_shape, x, y, row_begin, row_end);
}

// One output row of whole 2x2 windows (pool_2x2::average_2x2_row's contract). C a
// multiple of 4 (every layer of ReActNet-A): one loop over all of the row's
// vectors, the four taps' pointers walked with post-increment and moved past
// the right-hand pixel at the end of each output pixel, both loops do-while
// (with loops that may run zero times gcc copied the guard's registers every
// iteration). Other C: average_2x2_row. One vector per step: the check shares
// the 16 q registers (4 loaded first spilled).
bool average_2x2_row_neon_a32(const float* in0, const float* in1, std::ptrdiff_t out_w, std::ptrdiff_t C,
                              float* out) {
  using Lanes = pool_2x2::LanesNeon<1>;
  if (C % Lanes::kLanes != 0 || C == 0 || out_w == 0)
    return pool_2x2::average_2x2_row<Lanes, FlushGuardNeonA32>(in0, in1, out_w, C, out);
  const float32x4_t zero = Lanes::zero(), quarter = Lanes::quarter();
  FlushGuardNeonA32 guard;
  const float *a = in0, *b = in0 + C, *c = in1, *d = in1 + C;  // the window's taps, per channel
  std::ptrdiff_t pixels_left = out_w;
  do {
    const float* const pixel_end = a + C;
    do {
      pool_2x2::reduce_channels<Lanes, 1>(a, b, c, d, out, zero, quarter, guard);  // moves the pointers on
    } while (a != pixel_end);
    a += C, b += C, c += C, d += C;  // past the right-hand taps' pixel
  } while (--pixels_left != 0);
  return guard.exact();
}

const PoolKernel kNeonA32 = {
    "pool_neon_a32", always_supported, &max_pool_rows_neon_a32,
    &pool_2x2::average_pool_rows<pool_2x2::LanesNeon<1>, FlushGuardNeonA32, &average_2x2_row_neon_a32>};
const PoolKernel* const kKernels[] = {&kNeonA32};

}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
