// bgemm_4x8_avx2: output channels in the vector lanes, no horizontal sums.
//
// A C tile is 4 rows x 8 channels. The 8 weight rows of a panel are first
// interleaved word by word into a small stack buffer,
//   panel[k][j] = B[n0 + j][k0 + k]     (j < 8; 0 for channels past N),
// so that one 256-bit load holds word k of 4 channels. A step broadcasts word
// k of one A row to the four 64-bit lanes, XORs it with the two panel vectors
// (channels 0-3 and 4-7) and counts the bits of every byte with the nibble
// table (vpshufb: count(x) = lut[x & 15] + lut[x >> 4], at most 8 per byte).
// The byte counts are summed as bytes; after the last step vpsadbw against
// zero adds the 8 bytes of each 64-bit lane, which is exactly the popcount
// total of that lane's channel. So there is no transpose, no per-output
// reduction and no K tail: every step is one word, for any K.
//
// A byte holds at most 255, so at most 31 steps (31 * 8 = 248) are summed in
// bytes: K is cut into equal chunks of <= 31 words (K = 9, 18 for the
// ResNet-18 3x3 layers with 64, 128 channels: one chunk; 36, 72: two, three);
// the first chunk stores C, the later ones add to it.
//
// The step is inline assembly: GCC 12 spills three of the eight accumulators
// of the same code written with intrinsics (~10 % slower on Zen 3). In the
// step, 8 accumulators + table + mask + 3 temporaries = 13 of the 16 ymm
// registers; the panel words are memory operands of vpxor (L1 resident).
#include <immintrin.h>

#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

constexpr int kTileRows = 4;
constexpr std::size_t kTileChannels = 8;
constexpr std::size_t kMaxChunk = 31;  // 31 steps * at most 8 per byte = 248 <= 255

// Interleaves words [k0, k0 + chunk) of `channels` (<= 8) weight rows into
// panel[k * 8 + j]; the lanes of missing channels are 0 (their sums are never stored).
void pack_panel(const BitWord* B, std::size_t ldb, std::size_t channels, std::size_t k0, std::size_t chunk,
                BitWord* panel) {
  for (std::size_t k = 0; k < chunk; ++k)
    for (std::size_t j = 0; j < kTileChannels; ++j)
      panel[k * kTileChannels + j] = j < channels ? B[j * ldb + k0 + k] : 0;
}

// acc0 += byte popcounts of (a, a, a, a) ^ channels[0..4),
// acc1 += byte popcounts of (a, a, a, a) ^ channels[4..8).
__attribute__((always_inline)) inline void step(__m256i& acc0, __m256i& acc1, const BitWord& a,
                                                const BitWord* channels, __m256i lut, __m256i low_nibbles) {
  __m256i x, lo, hi;
  asm("vpbroadcastq %[a], %[x]\n\t"
      "vpxor %[b0], %[x], %[lo]\n\t"
      "vpxor %[b1], %[x], %[x]\n\t"
      "vpsrlw $4, %[lo], %[hi]\n\t"
      "vpand %[mask], %[lo], %[lo]\n\t"
      "vpand %[mask], %[hi], %[hi]\n\t"
      "vpshufb %[lo], %[lut], %[lo]\n\t"
      "vpshufb %[hi], %[lut], %[hi]\n\t"
      "vpaddb %[lo], %[acc0], %[acc0]\n\t"
      "vpaddb %[hi], %[acc0], %[acc0]\n\t"
      "vpsrlw $4, %[x], %[hi]\n\t"
      "vpand %[mask], %[x], %[x]\n\t"
      "vpand %[mask], %[hi], %[hi]\n\t"
      "vpshufb %[x], %[lut], %[x]\n\t"
      "vpshufb %[hi], %[lut], %[hi]\n\t"
      "vpaddb %[x], %[acc1], %[acc1]\n\t"
      "vpaddb %[hi], %[acc1], %[acc1]"
      : [acc0] "+x"(acc0), [acc1] "+x"(acc1), [x] "=&x"(x), [lo] "=&x"(lo), [hi] "=&x"(hi)
      : [a] "m"(a), [b0] "m"(*reinterpret_cast<const __m256i*>(channels)),
        [b1] "m"(*reinterpret_cast<const __m256i*>(channels + 4)), [lut] "x"(lut), [mask] "x"(low_nibbles));
}

// Rows 0..MR-1 of a tile over one chunk: stores (or, with `accumulate`, adds
// to C) the first `channels` sums of each row.
template <int MR>
void tile(std::size_t chunk, const BitWord* A, std::size_t lda, const BitWord* panel, std::int32_t* C,
          std::size_t ldc, std::size_t channels, bool accumulate) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = zero;
  for (std::size_t k = 0; k < chunk; ++k)
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      step(acc[m][0], acc[m][1], A[m * lda + k], panel + k * kTileChannels, lut, low_nibbles);
  // Lane sums (< 2^16) of channels 0-3 and 4-7: put 4-7 in the odd dwords,
  // then reorder the dwords to channels 0..7.
  const __m256i channel_order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    const __m256i s03 = _mm256_sad_epu8(acc[m][0], zero);
    const __m256i s47 = _mm256_sad_epu8(acc[m][1], zero);
    __m256i sums = _mm256_permutevar8x32_epi32(_mm256_or_si256(s03, _mm256_slli_epi64(s47, 32)), channel_order);
    std::int32_t* c = C + m * ldc;
    if (channels == kTileChannels) {
      if (accumulate) sums = _mm256_add_epi32(sums, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), sums);
    } else {
      alignas(32) std::int32_t row[kTileChannels];
      _mm256_store_si256(reinterpret_cast<__m256i*>(row), sums);
      for (std::size_t j = 0; j < channels; ++j) c[j] = accumulate ? c[j] + row[j] : row[j];
    }
  }
}

}  // namespace

void bgemm_4x8_avx2(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                    const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  // Equal chunks of <= 31 words; K == 0 is one empty chunk, which stores C = 0.
  const std::size_t chunks = K == 0 ? 1 : (K + kMaxChunk - 1) / kMaxChunk;
  const std::size_t chunk_words = (K + chunks - 1) / chunks;
  alignas(32) BitWord panel[kMaxChunk * kTileChannels];
  for (std::size_t n0 = 0; n0 < N; n0 += kTileChannels) {
    const std::size_t channels = N - n0 < kTileChannels ? N - n0 : kTileChannels;
    for (std::size_t k0 = 0;; k0 += chunk_words) {
      const std::size_t chunk = K - k0 < chunk_words ? K - k0 : chunk_words;
      pack_panel(B + n0 * ldb, ldb, channels, k0, chunk, panel);
      const bool accumulate = k0 != 0;
      const BitWord* a = A + k0;
      std::int32_t* c = C + n0;
      std::size_t m0 = 0;
      for (; m0 + kTileRows <= M; m0 += kTileRows)
        tile<kTileRows>(chunk, a + m0 * lda, lda, panel, c + m0 * ldc, ldc, channels, accumulate);
      switch (M - m0) {
        case 3: tile<3>(chunk, a + m0 * lda, lda, panel, c + m0 * ldc, ldc, channels, accumulate); break;
        case 2: tile<2>(chunk, a + m0 * lda, lda, panel, c + m0 * ldc, ldc, channels, accumulate); break;
        case 1: tile<1>(chunk, a + m0 * lda, lda, panel, c + m0 * ldc, ldc, channels, accumulate); break;
        default: break;
      }
      if (k0 + chunk >= K) break;
    }
  }
}

}  // namespace irnet
