// AVX-512F direct kernels for 3- and 7-wide, column-stride-2 float
// convolutions on column-phase planes (layout and math: fconv/phase_conv.h),
// one template of the kernel width.
//
// The AVX2 kernel's scheme (sconv_avx2.cc) on 16-float vectors, two weight
// tiles at once: one call is up to 48 output pixels (one row) x all output
// channels, 8 at a time (the weight tiles 2k and 2k+1; the last 1..4 channels
// alone). With NV = ceil(pixels / 16) pixel vectors (3 for a full tile; 2 or 1
// for the last tile of a row: a stem row of 112 = 2 * 48 + 16 wastes no lane),
// the accumulators are acc[v][o] = channel o of pixels 16v .. 16v+15 (24 zmm
// for NV = 3). Per tap, the NV input vectors are NV unaligned loads of
// consecutive plane floats; each of the 8 weights is broadcast once and used
// by NV fused multiply-adds:
//   acc[v][o] += x[16v .. 16v+15] * w[o]
// For NV = 3: 3 loads + 8 broadcasts per 24 FMAs (384 MACs): the two FMA
// ports bound the loop; 24 + 3 + 1 = 28 zmm registers. Why 8 channels and not
// 4 channels x 64 pixels (16 accumulators): the input loads are nearly all
// cache-line splits (the taps start at every float offset), which slow the
// loop down at 4 loads per 16 FMAs; 8 channels halve the loads per FMA.
//
// Epilogue: + bias (an add, as the reference), clamp, then a 4x4 transpose in
// each 128-bit lane turns the 4 channel vectors of 16 pixels into 16 pixels of
// 4 contiguous channels, one 16-byte store each.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "cpu/cpu_features.h"
#include "fconv/phase_conv.h"
#include "fconv/x86/sconv_x86.h"

namespace irnet {
namespace {

constexpr std::size_t kTileChannels = kPhaseTileChannels;  // 4: one packed weight tile
constexpr std::size_t kMaxTiles = 2;                       // weight tiles per pass: 8 channels
constexpr std::size_t kVectorPixels = 16;                  // floats per zmm
constexpr std::size_t kMaxVectors = 3;                     // 48 pixels per call

// Stores 16 pixels x 4 channels (a[o] = channel o of the 16 pixels) at
// dst[p * stride + o].
inline void store_pixels_x4(const __m512 a[4], float* dst, std::size_t stride) {
  const __m512 t0 = _mm512_unpacklo_ps(a[0], a[1]);  // per 128-bit lane k: a0 a1 of pixels 4k, 4k+1
  const __m512 t1 = _mm512_unpackhi_ps(a[0], a[1]);  // pixels 4k+2, 4k+3
  const __m512 t2 = _mm512_unpacklo_ps(a[2], a[3]);
  const __m512 t3 = _mm512_unpackhi_ps(a[2], a[3]);
  // r[p], lane k: the 4 channels of pixel 4k + p.
  const __m512 r[4] = {
      _mm512_shuffle_ps(t0, t2, 0x44),
      _mm512_shuffle_ps(t0, t2, 0xEE),
      _mm512_shuffle_ps(t1, t3, 0x44),
      _mm512_shuffle_ps(t1, t3, 0xEE),
  };
  for (std::size_t p = 0; p < 4; ++p) {
    _mm_storeu_ps(dst + p * stride, _mm512_castps512_ps128(r[p]));
    _mm_storeu_ps(dst + (p + 4) * stride, _mm512_extractf32x4_ps(r[p], 1));
    _mm_storeu_ps(dst + (p + 8) * stride, _mm512_extractf32x4_ps(r[p], 2));
    _mm_storeu_ps(dst + (p + 12) * stride, _mm512_extractf32x4_ps(r[p], 3));
  }
}

// NT weight tiles (4 * NT channels from o0 on) x NV pixel vectors (pixels in
// (16 * (NV - 1), 16 * NV]), kernel width KW; w and bias point at the first tile's.
template <int KW, std::size_t NV, std::size_t NT>
void sconv_pass(const float* x, std::size_t steps, std::size_t plane_w, const float* w, const float* bias,
                float lo, float hi, float* y, std::size_t ldc, std::size_t pixels, std::size_t cols) {
  const std::size_t pair = 2 * plane_w;  // one (i, c) pair of planes
  const std::size_t tile_floats = steps * KW * kTileChannels;
  constexpr std::size_t kChannels = NT * kTileChannels;
  __m512 acc[NV][kChannels];
  for (std::size_t v = 0; v < NV; ++v)
    for (std::size_t o = 0; o < kChannels; ++o) acc[v][o] = _mm512_setzero_ps();
  const float* phase0 = x;
  const float* phase1 = x + plane_w;
  // One tap: acc[v][o] += x[src + 16v ..] * wt[o] (wt: the first tile's 4 weights of the tap).
  const auto tap = [&](const float* src, const float* wt) {
    __m512 xv[NV];
    for (std::size_t v = 0; v < NV; ++v) xv[v] = _mm512_loadu_ps(src + v * kVectorPixels);
    for (std::size_t o = 0; o < kChannels; ++o) {
      const __m512 wv = _mm512_set1_ps(wt[o / kTileChannels * tile_floats + o % kTileChannels]);
      for (std::size_t v = 0; v < NV; ++v) acc[v][o] = _mm512_fmadd_ps(xv[v], wv, acc[v][o]);
    }
  };
  // Taps in the order of phase_tap_column: phase 0 at q + 0 .. phase0_taps(KW) - 1,
  // then phase 1 at q + 0, 1, ... The loops stay rolled: unrolled, GCC spills
  // accumulators (28 of the 32 zmm are live). For KW = 3 GCC unrolls a phase-0
  // loop of 2 taps all the same and spills 2 accumulators per (i, c) pair; one
  // loop over the 3 taps stays rolled. For KW = 7 that loop's tap address
  // select costs more than the two loops (5 % on the stem).
  constexpr int taps0 = phase0_taps(KW);
  for (std::size_t s = 0; s < steps; ++s, phase0 += pair, phase1 += pair) {
    if constexpr (taps0 > 2) {
#pragma GCC unroll 1
      for (int t = 0; t < taps0; ++t, w += kTileChannels) tap(phase0 + t, w);
#pragma GCC unroll 1
      for (int t = 0; t < KW - taps0; ++t, w += kTileChannels) tap(phase1 + t, w);
    } else {
#pragma GCC unroll 1
      for (int t = 0; t < KW; ++t, w += kTileChannels) tap(t < taps0 ? phase0 + t : phase1 + (t - taps0), w);
    }
  }
  // The bound is max/min's first operand, so that a NaN sum stays NaN (sgemm_tile_x86.h).
  const __m512 lo_v = _mm512_set1_ps(lo), hi_v = _mm512_set1_ps(hi);
  for (std::size_t o = 0; o < kChannels; ++o) {
    const __m512 b = _mm512_set1_ps(bias[o]);
    for (std::size_t v = 0; v < NV; ++v)
      acc[v][o] = _mm512_min_ps(hi_v, _mm512_max_ps(lo_v, _mm512_add_ps(acc[v][o], b)));
  }
  if (pixels == NV * kVectorPixels && cols == kChannels) {
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t k = 0; k < NT; ++k)
        store_pixels_x4(acc[v] + k * kTileChannels, y + v * kVectorPixels * ldc + k * kTileChannels, ldc);
    return;
  }
  // A partial tile goes through `tile`.
  alignas(64) float tile[NV * kVectorPixels * kChannels];
  for (std::size_t v = 0; v < NV; ++v)
    for (std::size_t k = 0; k < NT; ++k)
      store_pixels_x4(acc[v] + k * kTileChannels, tile + v * kVectorPixels * kChannels + k * kTileChannels, kChannels);
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o] = tile[p * kChannels + o];
}

// One call with NV pixel vectors: 8 channels per pass while more than 4 remain.
template <int KW, std::size_t NV>
void sconv_tiles(const float* x, std::size_t steps, std::size_t plane_w, const float* w, const float* bias,
                 float lo, float hi, float* y, std::size_t ldc, std::size_t pixels, std::size_t channels) {
  const std::size_t tile_floats = steps * KW * kTileChannels;
  std::size_t o0 = 0;
  for (; o0 + kTileChannels < channels; o0 += kMaxTiles * kTileChannels)
    sconv_pass<KW, NV, kMaxTiles>(x, steps, plane_w, w + o0 / kTileChannels * tile_floats, bias + o0, lo, hi,
                              y + o0, ldc, pixels, std::min(kMaxTiles * kTileChannels, channels - o0));
  if (o0 < channels)
    sconv_pass<KW, NV, 1>(x, steps, plane_w, w + o0 / kTileChannels * tile_floats, bias + o0, lo, hi, y + o0, ldc,
                      pixels, channels - o0);
}

template <int KW>
void sconv_x2_8x48_avx512(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                          const float* bias, float lo, float hi, float* y, std::size_t ldc,
                          std::size_t pixels, std::size_t channels) {
  // By NV = ceil(pixels / 16), pixels in [1, 48].
  constexpr PhaseConvFn kByVectors[kMaxVectors] = {&sconv_tiles<KW, 1>, &sconv_tiles<KW, 2>,
                                                   &sconv_tiles<KW, 3>};
  kByVectors[(pixels - 1) / kVectorPixels](x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
}

}  // namespace

extern const PhaseConvKernel kPhaseConvAvx512 = {"phase_conv_8x48_avx512",
                                                 cpu_runs_avx512_files,
                                                 {{"sconv_3x2_8x48_avx512", &sconv_x2_8x48_avx512<3>},
                                                  {"sconv_7x2_8x48_avx512", &sconv_x2_8x48_avx512<7>}},
                                                 &split_phase_row_avx2,
                                                 kMaxVectors * kVectorPixels};

}  // namespace irnet
