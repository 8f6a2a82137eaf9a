// AArch64 NEON direct kernels for 3- and 7-wide, column-stride-2 float
// convolutions on column-phase planes (layout and math: fconv/phase_conv.h):
// 16 output pixels x 4 output channels per tile, the channels in the vector
// lanes. The tiles are the assembly routines in sconv3x2_4x16_neon_a64.S and
// sconv7x2_4x16_neon_a64.S (their arithmetic, schedule and registers are
// described there and in sconv_tile_a64.h); this file sends the partial tiles
// through a buffer and splits the input rows into phase planes.
#include <arm_neon.h>

#include <algorithm>
#include <iterator>

#include "cpu/kernel_config.h"
#include "fconv/phase_conv.h"

// `tiles` tiles of 16 pixels x 4 channels, tile t stored at dst + 16t bytes
// (pixel p at + p * dst_step_bytes), the weights and biases walked on: the
// assembly routines for 3- and 7-wide kernels, whose contract and registers
// are described in sconv_tile_a64.h.
using SconvTilesFn = void (*)(const float* x, std::size_t steps, std::size_t plane_bytes, const float* w,
                              const float* bias, float lo, float hi, float* dst, std::size_t dst_step_bytes,
                              std::size_t tiles);
extern "C" void irnet_sconv3x2_4x16_neon_a64(const float* x, std::size_t steps, std::size_t plane_bytes,
                                             const float* w, const float* bias, float lo, float hi, float* dst,
                                             std::size_t dst_step_bytes, std::size_t tiles);
extern "C" void irnet_sconv7x2_4x16_neon_a64(const float* x, std::size_t steps, std::size_t plane_bytes,
                                             const float* w, const float* bias, float lo, float hi, float* dst,
                                             std::size_t dst_step_bytes, std::size_t tiles);

namespace irnet {
namespace {

// The kernel of width KW on its assembly routine `tiles_fn`.
template <int KW, SconvTilesFn tiles_fn>
void sconv_x2_4x16_neon_a64(const float* x, std::size_t steps, std::size_t plane_w,
                            const float* w, const float* bias, float lo, float hi, float* y,
                            std::size_t ldc, std::size_t pixels, std::size_t channels) {
  const std::size_t plane_bytes = plane_w * sizeof(float);
  // Full tiles (16 pixels x 4 channels) go straight to y, in one call; a
  // partial one through `tile`.
  const std::size_t full_tiles = pixels == kPhaseTilePixels ? channels / kPhaseTileChannels : 0;
  if (full_tiles > 0) tiles_fn(x, steps, plane_bytes, w, bias, lo, hi, y, ldc * sizeof(float), full_tiles);
  const std::size_t tile_weights = steps * KW * kPhaseTileChannels;
  for (std::size_t o0 = full_tiles * kPhaseTileChannels; o0 < channels; o0 += kPhaseTileChannels) {
    float tile[kPhaseTilePixels * kPhaseTileChannels];
    tiles_fn(x, steps, plane_bytes, w + o0 / kPhaseTileChannels * tile_weights, bias + o0, lo, hi, tile,
             kPhaseTileChannels * sizeof(float), 1);
    const std::size_t cols = std::min(kPhaseTileChannels, channels - o0);
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kPhaseTileChannels + o];
  }
}

// Phase planes of one padded row. For 3 channels (RGB input) the columns go
// 4 at a time: columns q .. q+3 are the 8 padded pixels from 2q - pad_left,
// de-interleaved by two ld3 into 3 channels x 2 vectors, then uzp1 / uzp2 take
// the even (phase 0) and odd (phase 1) pixels. The blocks whose pixels all lie
// inside the row read it in one tight run; the others, near the borders, read
// a zero-filled copy of their pixels where they reach into the padding, and the
// last block is moved back to end at plane_w (it rewrites some columns of the
// previous one with the same values). Other channel counts, padding rows and
// planes narrower than a block take the plain loop.
void split_phase_row_neon_a64(const float* row, int in_w, int channels, int pad_left,
                              std::size_t plane_w, float* planes) {
  constexpr long kBlockPixels = 8;
  constexpr std::size_t kBlockColumns = 4;
  if (channels != 3 || row == nullptr || plane_w < kBlockColumns) {
    split_phase_columns(row, in_w, channels, pad_left, plane_w, 0, plane_w, planes);
    return;
  }
  float* c0 = planes;
  float* c1 = planes + 2 * plane_w;
  float* c2 = planes + 4 * plane_w;
  // Columns q .. q+3 of the 6 planes from the 24 floats of 8 pixels at src.
  const auto split_block = [&](std::size_t q, const float* src) {
    const float32x4x3_t lo = vld3q_f32(src);
    const float32x4x3_t hi = vld3q_f32(src + 12);
    vst1q_f32(c0 + q, vuzp1q_f32(lo.val[0], hi.val[0]));
    vst1q_f32(c0 + plane_w + q, vuzp2q_f32(lo.val[0], hi.val[0]));
    vst1q_f32(c1 + q, vuzp1q_f32(lo.val[1], hi.val[1]));
    vst1q_f32(c1 + plane_w + q, vuzp2q_f32(lo.val[1], hi.val[1]));
    vst1q_f32(c2 + q, vuzp1q_f32(lo.val[2], hi.val[2]));
    vst1q_f32(c2 + plane_w + q, vuzp2q_f32(lo.val[2], hi.val[2]));
  };
  // Interior blocks q in [q_in, q_out), q a multiple of 4: 2q >= pad_left,
  // 2q <= room = in_w + pad_left - 8 (the block ends inside the row) and
  // q + 4 <= plane_w.
  const long q_in = ((pad_left + 1) / 2 + 3) & ~3L;
  const long room = static_cast<long>(in_w) + pad_left - kBlockPixels;
  const long q_fit = room < 0 ? -1 : std::min(room / 2, static_cast<long>(plane_w - kBlockColumns));
  const long q_out = q_fit < q_in ? q_in : (q_fit & ~3L) + 4;
  for (long q = q_in; q < q_out; q += 4) split_block(static_cast<std::size_t>(q), row + (2 * q - pad_left) * 3);
  // The other blocks.
  for (std::size_t q_next = 0; q_next < plane_w; q_next += kBlockColumns) {
    if (static_cast<long>(q_next) == q_in) q_next = q_out;
    if (q_next >= plane_w) break;
    const std::size_t q = std::min(q_next, plane_w - kBlockColumns);
    const long first = 2 * static_cast<long>(q) - pad_left;  // first pixel of the block
    if (first >= 0 && first + kBlockPixels <= in_w) {
      split_block(q, row + first * 3);
      continue;
    }
    float padded[kBlockPixels * 3];
    std::fill(padded, padded + kBlockPixels * 3, 0.f);
    const long begin = std::max(first, 0L), end = std::min(first + kBlockPixels, static_cast<long>(in_w));
    if (end > begin) std::copy(row + begin * 3, row + end * 3, padded + (begin - first) * 3);
    split_block(q, padded);
  }
}

const PhaseConvKernel kNeonA64 = {
    "phase_conv_4x16_neon_a64",
    always_supported,
    {{"sconv_3x2_4x16_neon_a64", &sconv_x2_4x16_neon_a64<3, irnet_sconv3x2_4x16_neon_a64>},
     {"sconv_7x2_4x16_neon_a64", &sconv_x2_4x16_neon_a64<7, irnet_sconv7x2_4x16_neon_a64>}},
    &split_phase_row_neon_a64};
const PhaseConvKernel* const kKernels[] = {&kNeonA64};

}  // namespace

extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
