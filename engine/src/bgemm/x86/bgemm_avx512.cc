// bgemm_6x32_avx512: output channels in the lanes, one K word per step, with
// AVX-512 VPOPCNTDQ.
//
// The weights are packed once when the layer is built (pack_bgemm_6x32_avx512)
// into panels of 32 output channels, word k of the panel's channels side by side:
//   packed[(p * K + k) * 32 + j] = B[32 p + j][k],
// so one zmm holds word k of 8 channels and a panel row is 4 zmm. The last
// panel is as wide as its channels rounded up to 8 (0 past N), so narrow
// layers (a grouped conv's few channels per group) pack no 32-wide panels. A step
// broadcasts one A word to the 8 lanes and, for each of the 4 vectors,
// accumulates vpopcntq(a ^ b) into that vector's 8 channel sums (vpxorq +
// vpopcntq + vpaddq per 8 word pairs). The sums end in channel order: no
// horizontal reduction and no padding of K to a vector width, which is what
// the short rows of the 3x3 layers with 64-128 channels (K = 9-18 words) and
// the 1x1 layers (K = 1-16 words) are made of. A tile of 6 rows x 32 channels
// holds 24 accumulators + 4 weight vectors + the broadcast and one temporary:
// 30 of the 32 zmm registers.
#include <immintrin.h>

#include <array>
#include <utility>

#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

constexpr int kTileRows = 6;
constexpr int kVectorChannels = 8;  // 64-bit lanes of a zmm
constexpr int kPanelVectors = 4;
constexpr std::size_t kPanelChannels = kVectorChannels * kPanelVectors;

// C[m][0..channels) = the 8 * NV channel sums of row m of a tile over K steps;
// panel: the packed panel, 8 * NV words per k. Forced full unrolling keeps the
// accumulators in registers (GCC 12 indexes a rolled loop's array in memory).
template <int MR, int NV>
void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* panel, std::int32_t* C,
          std::size_t ldc, std::size_t channels) {
  __m512i acc[MR][NV];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_si512();
  for (std::size_t k = 0; k < K; ++k) {
    __m512i b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_si512(panel + (k * NV + v) * kVectorChannels);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512i a = _mm512_set1_epi64(static_cast<long long>(A[m * lda + k]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_add_epi64(acc[m][v], _mm512_popcnt_epi64(_mm512_xor_si512(a, b[v])));
    }
  }
  // The sums are < 2^31 for any K below 2^25 words: narrowed to int32.
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __m256i sums = _mm512_cvtepi64_epi32(acc[m][v]);
      std::int32_t* c = C + m * ldc + v * kVectorChannels;
      const std::size_t left = channels - std::size_t(v) * kVectorChannels;
      if (left >= std::size_t(kVectorChannels))
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), sums);
      else
        _mm256_mask_storeu_epi32(c, static_cast<__mmask8>((1u << left) - 1), sums);
    }
}

using TileFn = void (*)(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* panel, std::int32_t* C,
                        std::size_t ldc, std::size_t channels);

template <std::size_t... I>
constexpr std::array<TileFn, kTileRows * kPanelVectors> make_tiles(std::index_sequence<I...>) {
  // Entry (mr - 1) * 4 + (nv - 1) is tile<mr, nv>.
  return {{&tile<int(I) / kPanelVectors + 1, int(I) % kPanelVectors + 1>...}};
}
constexpr std::array<TileFn, kTileRows * kPanelVectors> kTiles =
    make_tiles(std::make_index_sequence<kTileRows * kPanelVectors>{});

// Channels of the panel at n0: 32, or the rest of N rounded up to 8.
std::size_t panel_width(std::size_t N, std::size_t n0) {
  return N - n0 < kPanelChannels ? (N - n0 + kVectorChannels - 1) / kVectorChannels * kVectorChannels : kPanelChannels;
}

}  // namespace

std::size_t bgemm_6x32_avx512_packed_words(std::size_t N, std::size_t K) {
  return (N + kVectorChannels - 1) / kVectorChannels * kVectorChannels * K;
}

void pack_bgemm_6x32_avx512(std::size_t N, std::size_t K, const BitWord* B, std::size_t ldb, BitWord* packed) {
  for (std::size_t n0 = 0; n0 < N; n0 += kPanelChannels) {
    const std::size_t width = panel_width(N, n0);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < width; ++j) *packed++ = n0 + j < N ? B[(n0 + j) * ldb + k] : 0;
  }
}

// B: the packed weights (pack_bgemm_6x32_avx512), whose layout follows from N and K.
void bgemm_6x32_avx512(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                       const BitWord* B, std::size_t /*ldb*/, std::int32_t* C, std::size_t ldc) {
  // Panel after panel (its K x 256 bytes stay in L1), the row tiles down each.
  for (std::size_t n0 = 0; n0 < N; n0 += kPanelChannels) {
    const std::size_t channels = N - n0 < kPanelChannels ? N - n0 : kPanelChannels;
    const std::size_t vectors = panel_width(N, n0) / kVectorChannels;
    const BitWord* panel = B + n0 * K;
    for (std::size_t m0 = 0; m0 < M; m0 += kTileRows) {
      const std::size_t rows = M - m0 < std::size_t(kTileRows) ? M - m0 : std::size_t(kTileRows);
      kTiles[(rows - 1) * kPanelVectors + (vectors - 1)](K, A + m0 * lda, lda, panel, C + m0 * ldc + n0, ldc, channels);
    }
  }
}

}  // namespace irnet
