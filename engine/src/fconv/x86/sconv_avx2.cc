// AVX2 + FMA direct kernels for 3- and 7-wide, column-stride-2 float
// convolutions on column-phase planes (layout and math: fconv/phase_conv.h),
// one template of the kernel width.
//
// One call: up to 24 output pixels (one row) x all output channels, one tile of
// 4 channels at a time. With NV = ceil(pixels / 8) pixel vectors (3 for a full
// tile; 2 or 1 for the last tile of a row, so no lanes are wasted on a row of
// 112 = 4*24 + 16), the accumulators are acc[v][o] = channel o of pixels
// 8v .. 8v+7 (12 ymm for NV = 3). Per tap, the NV input vectors are NV
// unaligned loads of consecutive plane floats; each of the tile's 4 weights is
// broadcast once and used by NV fused multiply-adds:
//   acc[v][o] += x[8v .. 8v+7] * w[o]
// For NV = 3: 3 loads + 4 broadcasts per 12 FMAs (96 MACs): the FMA units, not
// the load ports, bound the loop; 12 independent accumulators cover the FMA
// latency. 12 + 3 + 1 = 16 ymm registers.
//
// Epilogue: + bias (an add, as the reference), clamp, then a 4x4 transpose in
// each 128-bit half turns the 4 channel vectors of 8 pixels into 8 pixels of 4
// contiguous channels, one 16-byte store each.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"
#include "fconv/phase_conv.h"
#include "fconv/x86/sconv_x86.h"

namespace irnet {
namespace {

constexpr std::size_t kTileChannels = kPhaseTileChannels;  // 4
constexpr std::size_t kVectorPixels = 8;                   // floats per ymm
constexpr std::size_t kMaxVectors = 3;                     // 24 pixels per call

// Stores 8 pixels x 4 channels (a[o] = channel o of the 8 pixels) at
// dst[p * stride + o].
inline void store_pixels_x4(const __m256 a[4], float* dst, std::size_t stride) {
  const __m256 t0 = _mm256_unpacklo_ps(a[0], a[1]);  // a0p0 a1p0 a0p1 a1p1 | p4 p5
  const __m256 t1 = _mm256_unpackhi_ps(a[0], a[1]);  // p2 p3 | p6 p7
  const __m256 t2 = _mm256_unpacklo_ps(a[2], a[3]);
  const __m256 t3 = _mm256_unpackhi_ps(a[2], a[3]);
  const __m256 r[4] = {
      _mm256_shuffle_ps(t0, t2, 0x44),  // pixel 0 | pixel 4
      _mm256_shuffle_ps(t0, t2, 0xEE),  // pixel 1 | pixel 5
      _mm256_shuffle_ps(t1, t3, 0x44),  // pixel 2 | pixel 6
      _mm256_shuffle_ps(t1, t3, 0xEE),  // pixel 3 | pixel 7
  };
  for (std::size_t p = 0; p < 4; ++p) {
    _mm_storeu_ps(dst + p * stride, _mm256_castps256_ps128(r[p]));
    _mm_storeu_ps(dst + (p + 4) * stride, _mm256_extractf128_ps(r[p], 1));
  }
}

// One call with NV pixel vectors (pixels in (8 * (NV - 1), 8 * NV]), kernel width KW.
template <int KW, std::size_t NV>
void sconv_tiles(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                 const float* bias, float lo, float hi, float* y, std::size_t ldc,
                 std::size_t pixels, std::size_t channels) {
  const __m256 lo_v = _mm256_set1_ps(lo), hi_v = _mm256_set1_ps(hi);
  const std::size_t pair = 2 * plane_w;  // one (i, c) pair of planes
  alignas(32) float tile[kMaxVectors * kVectorPixels * kTileChannels];
  for (std::size_t o0 = 0; o0 < channels; o0 += kTileChannels, bias += kTileChannels) {
    __m256 acc[NV][kTileChannels];
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t o = 0; o < kTileChannels; ++o) acc[v][o] = _mm256_setzero_ps();
    const float* phase0 = x;
    const float* phase1 = x + plane_w;
    for (std::size_t s = 0; s < steps; ++s, phase0 += pair, phase1 += pair) {
#pragma GCC unroll 7
      for (int t = 0; t < KW; ++t, w += kTileChannels) {
        // Tap phase_tap_column(KW, t): phase 0 at q + t for the first
        // phase0_taps(KW), then phase 1 at q + 0, 1, ...
        constexpr int taps0 = phase0_taps(KW);
        const float* src = t < taps0 ? phase0 + t : phase1 + (t - taps0);
        __m256 xv[NV];
        for (std::size_t v = 0; v < NV; ++v) xv[v] = _mm256_loadu_ps(src + v * kVectorPixels);
        for (std::size_t o = 0; o < kTileChannels; ++o) {
          const __m256 wv = _mm256_broadcast_ss(w + o);
          for (std::size_t v = 0; v < NV; ++v) acc[v][o] = _mm256_fmadd_ps(xv[v], wv, acc[v][o]);
        }
      }
    }
    // The bound is max/min's first operand, so that a NaN sum stays NaN (sgemm_tile_x86.h).
    for (std::size_t o = 0; o < kTileChannels; ++o) {
      const __m256 b = _mm256_broadcast_ss(bias + o);
      for (std::size_t v = 0; v < NV; ++v)
        acc[v][o] = _mm256_min_ps(hi_v, _mm256_max_ps(lo_v, _mm256_add_ps(acc[v][o], b)));
    }
    const std::size_t cols = std::min(kTileChannels, channels - o0);
    if (pixels == NV * kVectorPixels && cols == kTileChannels) {
      for (std::size_t v = 0; v < NV; ++v) store_pixels_x4(acc[v], y + v * kVectorPixels * ldc + o0, ldc);
      continue;
    }
    // A partial tile goes through `tile`.
    for (std::size_t v = 0; v < NV; ++v) store_pixels_x4(acc[v], tile + v * kVectorPixels * kTileChannels, kTileChannels);
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kTileChannels + o];
  }
}

template <int KW>
void sconv_x2_4x24_avx2(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                        const float* bias, float lo, float hi, float* y, std::size_t ldc,
                        std::size_t pixels, std::size_t channels) {
  if (pixels > 2 * kVectorPixels)
    sconv_tiles<KW, 3>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
  else if (pixels > kVectorPixels)
    sconv_tiles<KW, 2>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
  else
    sconv_tiles<KW, 1>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
}

}  // namespace

// Phase planes of one padded row. For 3 channels (RGB input) the columns q
// whose both phases are inside the row go 8 at a time: the 16 pixels from
// column 2q - pad_left are 48 floats f, and plane (c, phase)[q + k] =
// f[6k + m] with m = 3 * phase + c, a stride-6 de-interleave. Each 128-bit
// half does 4 columns (k = 0..3 from f[0, 24), k = 4..7 from f[24, 48)): its
// 24 floats are 4 rows of 6, rows r_k = f[6k .. 6k+5]; a 4x4 transpose of the
// rows' first 4 floats gives m = 0..3, two shuffles their last 2 (m = 4, 5).
// The rest (borders, other channel counts) takes the plain loop.
void split_phase_row_avx2(const float* row, int in_w, int channels, int pad_left, std::size_t plane_w,
                          float* planes) {
  std::size_t q = 0;
  if (channels == 3 && row != nullptr) {
    // Both phases inside: 2q - pad_left >= 0 and 2q + 1 - pad_left <= in_w - 1.
    const std::size_t q_first = (pad_left + 1) / 2;
    const long q_limit = (static_cast<long>(in_w) - 2 + pad_left) / 2 + 1;  // exclusive
    const std::size_t q_end = q_limit < 0 ? 0 : std::min<std::size_t>(q_limit, plane_w);
    if (q_first + 8 <= q_end) {
      split_phase_columns(row, in_w, channels, pad_left, plane_w, 0, q_first, planes);
      // Plane of m = 3 * phase + c: (c * 2 + phase) * plane_w.
      float* const dst[6] = {planes, planes + 2 * plane_w, planes + 4 * plane_w,
                             planes + plane_w, planes + 3 * plane_w, planes + 5 * plane_w};
      for (q = q_first; q + 8 <= q_end; q += 8) {
        const float* f = row + (2 * q - pad_left) * 3;
        // x_i: f[4i .. 4i+3] in the low half, f[24 + 4i ..] in the high half.
        __m256 x[6];
        for (int i = 0; i < 6; ++i) x[i] = _mm256_loadu2_m128(f + 24 + 4 * i, f + 4 * i);
        // Rows' floats 0..3: r0 = x0, r1 = x1[2,3] x2[0,1], r2 = x3, r3 = x4[2,3] x5[0,1].
        const __m256 r1 = _mm256_shuffle_ps(x[1], x[2], _MM_SHUFFLE(1, 0, 3, 2));
        const __m256 r3 = _mm256_shuffle_ps(x[4], x[5], _MM_SHUFFLE(1, 0, 3, 2));
        const __m256 t0 = _mm256_unpacklo_ps(x[0], r1);  // r0[0] r1[0] r0[1] r1[1]
        const __m256 t1 = _mm256_unpackhi_ps(x[0], r1);  // r0[2] r1[2] r0[3] r1[3]
        const __m256 t2 = _mm256_unpacklo_ps(x[3], r3);
        const __m256 t3 = _mm256_unpackhi_ps(x[3], r3);
        // Rows' floats 4, 5: r0 = x1[0,1], r1 = x2[2,3], r2 = x4[0,1], r3 = x5[2,3].
        const __m256 u = _mm256_shuffle_ps(x[1], x[2], _MM_SHUFFLE(3, 2, 1, 0));  // r0[4] r0[5] r1[4] r1[5]
        const __m256 v = _mm256_shuffle_ps(x[4], x[5], _MM_SHUFFLE(3, 2, 1, 0));  // r2[4] r2[5] r3[4] r3[5]
        const __m256 out[6] = {
            _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
            _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)),
            _mm256_shuffle_ps(u, v, _MM_SHUFFLE(2, 0, 2, 0)),   _mm256_shuffle_ps(u, v, _MM_SHUFFLE(3, 1, 3, 1)),
        };
        for (int m = 0; m < 6; ++m) _mm256_storeu_ps(dst[m] + q, out[m]);
      }
    }
  }
  split_phase_columns(row, in_w, channels, pad_left, plane_w, q, plane_w, planes);
}

namespace {

const PhaseConvKernel kAvx2 = {"phase_conv_4x24_avx2",
                               cpu_runs_avx2_files,
                               {{"sconv_3x2_4x24_avx2", &sconv_x2_4x24_avx2<3>},
                                {"sconv_7x2_4x24_avx2", &sconv_x2_4x24_avx2<7>}},
                               &split_phase_row_avx2,
                               kMaxVectors * kVectorPixels};
const PhaseConvKernel* const kKernels[] = {&kPhaseConvAvx512, &kAvx2};

}  // namespace

extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
