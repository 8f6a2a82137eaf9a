// AVX-512F direct kernel for 7-wide, column-stride-2 float convolutions on
// column-phase planes (layout and math: fconv/phase_conv.h).
//
// The AVX2 kernel's scheme (sconv_avx2.cc) on 16-float vectors: one call is up
// to 64 output pixels (one row) x all output channels, one tile of 4 channels
// at a time. With NV = ceil(pixels / 16) pixel vectors (4 for a full tile; 3,
// 2 or 1 for the last tile of a row, so a stem row of 112 = 64 + 48 wastes no
// lane), the accumulators are acc[v][o] = channel o of pixels 16v .. 16v+15
// (16 zmm for NV = 4). Per tap, the NV input vectors are NV unaligned loads of
// consecutive plane floats; each of the tile's 4 weights is broadcast once and
// used by NV fused multiply-adds:
//   acc[v][o] += x[16v .. 16v+15] * w[o]
// For NV = 4: 4 loads + 4 broadcasts per 16 FMAs (256 MACs): the two FMA
// ports bound the loop, and 16 independent accumulators cover twice the FMA
// latency times the ports. 16 + 4 + 1 = 21 zmm registers.
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

constexpr std::size_t kTileChannels = kPhaseTileChannels;  // 4
constexpr std::size_t kVectorPixels = 16;                  // floats per zmm
constexpr std::size_t kMaxVectors = 4;                     // 64 pixels per call

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

// One call with NV pixel vectors (pixels in (16 * (NV - 1), 16 * NV]).
template <std::size_t NV>
void sconv_tiles(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                 const float* bias, float lo, float hi, float* y, std::size_t ldc,
                 std::size_t pixels, std::size_t channels) {
  const __m512 lo_v = _mm512_set1_ps(lo), hi_v = _mm512_set1_ps(hi);
  const std::size_t pair = 2 * plane_w;  // one (i, c) pair of planes
  alignas(64) float tile[kMaxVectors * kVectorPixels * kTileChannels];
  for (std::size_t o0 = 0; o0 < channels; o0 += kTileChannels, bias += kTileChannels) {
    __m512 acc[NV][kTileChannels];
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t o = 0; o < kTileChannels; ++o) acc[v][o] = _mm512_setzero_ps();
    const float* phase0 = x;
    const float* phase1 = x + plane_w;
    for (std::size_t s = 0; s < steps; ++s, phase0 += pair, phase1 += pair) {
#pragma GCC unroll 7
      for (int t = 0; t < kPhaseKernelW; ++t, w += kTileChannels) {
        // Tap kPhaseTapOrder[t]: phase 0 at q + t for t < 4, phase 1 at q + t - 4.
        const float* src = t < 4 ? phase0 + t : phase1 + (t - 4);
        __m512 xv[NV];
        for (std::size_t v = 0; v < NV; ++v) xv[v] = _mm512_loadu_ps(src + v * kVectorPixels);
        for (std::size_t o = 0; o < kTileChannels; ++o) {
          const __m512 wv = _mm512_set1_ps(w[o]);
          for (std::size_t v = 0; v < NV; ++v) acc[v][o] = _mm512_fmadd_ps(xv[v], wv, acc[v][o]);
        }
      }
    }
    // The bound is max/min's first operand, so that a NaN sum stays NaN (sgemm_tile_x86.h).
    for (std::size_t o = 0; o < kTileChannels; ++o) {
      const __m512 b = _mm512_set1_ps(bias[o]);
      for (std::size_t v = 0; v < NV; ++v)
        acc[v][o] = _mm512_min_ps(hi_v, _mm512_max_ps(lo_v, _mm512_add_ps(acc[v][o], b)));
    }
    const std::size_t cols = std::min(kTileChannels, channels - o0);
    if (pixels == NV * kVectorPixels && cols == kTileChannels) {
      for (std::size_t v = 0; v < NV; ++v) store_pixels_x4(acc[v], y + v * kVectorPixels * ldc + o0, ldc);
      continue;
    }
    // A partial tile goes through `tile`.
    for (std::size_t v = 0; v < NV; ++v)
      store_pixels_x4(acc[v], tile + v * kVectorPixels * kTileChannels, kTileChannels);
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kTileChannels + o];
  }
}

void sconv_7x2_4x64_avx512(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                           const float* bias, float lo, float hi, float* y, std::size_t ldc,
                           std::size_t pixels, std::size_t channels) {
  if (pixels > 3 * kVectorPixels)
    sconv_tiles<4>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
  else if (pixels > 2 * kVectorPixels)
    sconv_tiles<3>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
  else if (pixels > kVectorPixels)
    sconv_tiles<2>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
  else
    sconv_tiles<1>(x, steps, plane_w, w, bias, lo, hi, y, ldc, pixels, channels);
}

}  // namespace

extern const PhaseConvKernel kSconv7x2Avx512 = {"sconv_7x2_4x64_avx512", cpu_runs_avx512_files,
                                                &sconv_7x2_4x64_avx512, &split_phase_row_avx2,
                                                kMaxVectors * kVectorPixels};

}  // namespace irnet
