// bgemm_4x8_avx2: output channels in the vector lanes, nibbles split ahead.
//
// Popcount on AVX2 is a table lookup per 4-bit nibble (vpshufb: count(x) =
// lut[x & 15] + lut[x >> 4], at most 8 per byte). Splitting commutes with
// XOR: (a ^ b) & 0x0F.. = (a & 0x0F..) ^ (b & 0x0F..), and the same for the
// high nibbles shifted down. So both operands are split into their low and
// high nibbles once, before the K loop, and a word pair then costs two XORs
// and two lookups (no shift or mask per pair):
//   A: the rows of a group, words of one K chunk, into a_lo[r][k], a_hi[r][k]
//      (a stack buffer of 2 x 2048 words, rows grouped so that they fit);
//   B: the weights, packed once when the layer is built (pack_bgemm_4x8_avx2):
//      the 8 weight rows of each column panel interleaved word by word, even
//      channels first,
//        packed[k][lane(j)] = B[n0 + j][k]     (0 past N),
//        lane(j) = j / 2 for even j, 4 + j / 2 for odd j,
//      in the order the kernel reads them: K chunk after K chunk (below), and
//      within the chunk [k0, k0 + chunk) panel after panel, panel n0 / 8 at
//      B + (k0 * ceil(N / 8) + n0 / 8 * chunk) * 8: one sequential stream per
//      chunk. Each panel's chunk is split into its nibbles in L1:
//        panel[k][lane(j)] = low nibbles of packed[k][lane(j)],
//        panel[k][8 + lane(j)] = high nibbles,
//      so one 256-bit load holds word k of channels 0, 2, 4, 6 (or 1, 3, 5, 7).
//      (Packing the nibbles themselves would double the weight bytes the
//      kernel streams, which costs the deep layers, whose weights outweigh
//      their few rows, more than the contiguous split does.)
// A C tile is 4 rows x 8 channels. A step broadcasts a_lo and a_hi of one A
// word to the four 64-bit lanes, XORs them with the panel vectors of the even
// and the odd channels, looks up the counts and adds them as bytes; after the
// last step vpsadbw against zero adds the 8 bytes of each 64-bit lane, which
// is exactly the popcount total of that lane's channel (< 2^16, in the lane's
// low dword). So there is no transpose, no per-output reduction and no K
// tail: every step is one word. The odd channels' sums shifted into the high
// dwords, OR the even ones, are the 8 channels in order.
//
// A byte holds at most 255, so at most 31 steps (31 * 8 = 248) are summed in
// bytes: K is cut into equal chunks of <= 31 words (K = 9, 18 for the
// ResNet-18 3x3 layers with 64, 128 channels: one chunk; 36, 72: two, three);
// the first chunk stores C, the later ones add to it.
//
// The step is inline assembly: GCC 12 spills accumulators of the same code
// written with intrinsics (~10 % slower on Zen 3). In the step, 8
// accumulators + table + 4 temporaries = 13 of the 16 ymm registers; the
// panel words are memory operands of vpxor (L1 resident).
#include <immintrin.h>

#include "bgemm/x86/bgemm_4x8_avx2_step.h"
#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

constexpr int kTileRows = 4;
constexpr std::size_t kMaxChunk = 31;                     // 31 steps * at most 8 per byte = 248 <= 255
constexpr std::size_t kSplitWords = 2048;                 // A nibble buffer: 2 x 16 KiB
constexpr BitWord kLowNibbles = 0x0F0F0F0F0F0F0F0Full;

// Panel lane of channel j (< 8): the even channels, then the odd ones.
constexpr std::size_t panel_lane(std::size_t j) { return j % 2 * 4 + j / 2; }

inline BitWord low_nibbles(BitWord w) { return w & kLowNibbles; }
inline BitWord high_nibbles(BitWord w) { return (w >> 4) & kLowNibbles; }

__attribute__((always_inline)) inline __m256i low_nibbles(__m256i v) {
  return _mm256_and_si256(v, _mm256_set1_epi64x(static_cast<long long>(kLowNibbles)));
}
__attribute__((always_inline)) inline __m256i high_nibbles(__m256i v) {
  return low_nibbles(_mm256_srli_epi64(v, 4));
}

// lo[i], hi[i] = the low and high nibbles of src[i], i < n (4 words per vector step).
void split_nibbles(const BitWord* src, std::size_t n, BitWord* lo, BitWord* hi) {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), low_nibbles(v));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), high_nibbles(v));
  }
  for (; i < n; ++i) {
    lo[i] = low_nibbles(src[i]);
    hi[i] = high_nibbles(src[i]);
  }
}

// The K words of `channels` (<= 8) weight rows, interleaved as described
// above, at a 32-byte aligned `packed`; the lanes of missing channels are 0
// (their sums are never stored). A full panel goes 4 words at a time: 4 words
// of 8 rows are two 4x4 blocks of 64-bit words, transposed in registers
// (unpack within 128-bit halves, then swap halves), so each result holds word
// k of 4 channels (rows 0, 2, 4, 6 in the first block, 1, 3, 5, 7 in the
// second). Only words below K are read.
void pack_panel(const BitWord* B, std::size_t ldb, std::size_t channels, std::size_t K, BitWord* packed) {
  std::size_t k = 0;
  if (channels == kBgemm4x8Channels) {
    for (; k + 4 <= K; k += 4) {
      __m256i words[kBgemm4x8Channels / 4][4];  // [channel block][word]: 4 channels' word k + i
      for (std::size_t half = 0; half < kBgemm4x8Channels / 4; ++half) {
        __m256i rows[4];
        for (std::size_t j = 0; j < 4; ++j)  // channel 2j + half
          rows[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B + (2 * j + half) * ldb + k));
        const __m256i even01 = _mm256_unpacklo_epi64(rows[0], rows[1]);  // words 0, 2 of rows 0, 1
        const __m256i odd01 = _mm256_unpackhi_epi64(rows[0], rows[1]);   // words 1, 3 of rows 0, 1
        const __m256i even23 = _mm256_unpacklo_epi64(rows[2], rows[3]);
        const __m256i odd23 = _mm256_unpackhi_epi64(rows[2], rows[3]);
        words[half][0] = _mm256_permute2x128_si256(even01, even23, 0x20);
        words[half][1] = _mm256_permute2x128_si256(odd01, odd23, 0x20);
        words[half][2] = _mm256_permute2x128_si256(even01, even23, 0x31);
        words[half][3] = _mm256_permute2x128_si256(odd01, odd23, 0x31);
      }
      for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t half = 0; half < kBgemm4x8Channels / 4; ++half)
          _mm256_store_si256(reinterpret_cast<__m256i*>(packed + (k + i) * kBgemm4x8Channels + 4 * half),
                             words[half][i]);
    }
  }
  for (; k < K; ++k)
    for (std::size_t j = 0; j < kBgemm4x8Channels; ++j)
      packed[k * kBgemm4x8Channels + panel_lane(j)] = j < channels ? B[j * ldb + k] : 0;
}

// The K chunks: equal, of <= 31 words (K == 0 is one empty chunk).
std::size_t chunk_words(std::size_t K) {
  const std::size_t chunks = K == 0 ? 1 : (K + kMaxChunk - 1) / kMaxChunk;
  return (K + chunks - 1) / chunks;
}

// Words [0, chunk) of one packed panel, split into the nibble panel the
// tiles read: word k's 8 low-nibble words, then its 8 high-nibble words.
void split_panel(const BitWord* packed, std::size_t chunk, BitWord* panel) {
  for (std::size_t k = 0; k < chunk; ++k)
    for (std::size_t half = 0; half < kBgemm4x8Channels / 4; ++half) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(packed + k * kBgemm4x8Channels + 4 * half));
      BitWord* out = panel + k * kBgemm4x8PanelStride + 4 * half;
      _mm256_store_si256(reinterpret_cast<__m256i*>(out), low_nibbles(v));
      _mm256_store_si256(reinterpret_cast<__m256i*>(out + kBgemm4x8Channels), high_nibbles(v));
    }
}

// Asks for the cache lines of the `words` packed words at p: the next
// panel's chunk, one panel ahead, so that the latency of the deep layers'
// weights (which do not stay in L1 or L2 from one call to the next) overlaps
// the tiles of the panel before. Forced inline: GCC deems a function whose
// only effect is a prefetch free of side effects and deletes the call.
__attribute__((always_inline)) inline void prefetch_words(const BitWord* p, std::size_t words) {
  for (std::size_t line = 0; line < words * sizeof(BitWord); line += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p) + line, _MM_HINT_T0);
}

// Rows 0..MR-1 of a tile over one chunk (A rows as nibble words, `chunk`
// apart): stores (or, with `accumulate`, adds to C) the first `channels` sums of each row.
template <int MR>
void tile(std::size_t chunk, const BitWord* alo, const BitWord* ahi, const BitWord* panel, std::int32_t* C,
          std::size_t ldc, std::size_t channels, bool accumulate) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = zero;
  for (std::size_t k = 0; k < chunk; ++k)
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      bgemm_4x8_avx2_step(acc[m][0], acc[m][1], alo[m * chunk + k], ahi[m * chunk + k], panel + k * kBgemm4x8PanelStride, lut);
  // Lane sums of the even and the odd channels: the odd ones in the high dwords.
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    const __m256i even = _mm256_sad_epu8(acc[m][0], zero);
    const __m256i odd = _mm256_sad_epu8(acc[m][1], zero);
    __m256i sums = _mm256_or_si256(even, _mm256_slli_epi64(odd, 32));
    std::int32_t* c = C + m * ldc;
    if (channels == kBgemm4x8Channels) {
      if (accumulate) sums = _mm256_add_epi32(sums, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), sums);
    } else {
      alignas(32) std::int32_t row[kBgemm4x8Channels];
      _mm256_store_si256(reinterpret_cast<__m256i*>(row), sums);
      for (std::size_t j = 0; j < channels; ++j) c[j] = accumulate ? c[j] + row[j] : row[j];
    }
  }
}

}  // namespace

std::size_t bgemm_4x8_avx2_packed_words(std::size_t N, std::size_t K) {
  return (N + kBgemm4x8Channels - 1) / kBgemm4x8Channels * K * kBgemm4x8Channels;
}

void pack_bgemm_4x8_avx2(std::size_t N, std::size_t K, const BitWord* B, std::size_t ldb, BitWord* packed) {
  const std::size_t panels = (N + kBgemm4x8Channels - 1) / kBgemm4x8Channels, words = chunk_words(K);
  for (std::size_t k0 = 0; k0 < K; k0 += words) {
    const std::size_t chunk = K - k0 < words ? K - k0 : words;
    for (std::size_t n0 = 0; n0 < N; n0 += kBgemm4x8Channels)
      pack_panel(B + n0 * ldb + k0, ldb, N - n0 < kBgemm4x8Channels ? N - n0 : kBgemm4x8Channels, chunk,
                 packed + (k0 * panels + n0 / kBgemm4x8Channels * chunk) * kBgemm4x8Channels);
  }
}

// B: the packed weights (pack_bgemm_4x8_avx2), whose layout follows from N and K.
void bgemm_4x8_avx2(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                    const BitWord* B, std::size_t /*ldb*/, std::int32_t* C, std::size_t ldc) {
  // K == 0 is one empty chunk, which stores C = 0.
  const std::size_t chunk_words = irnet::chunk_words(K);
  const std::size_t panels = (N + kBgemm4x8Channels - 1) / kBgemm4x8Channels;
  // Rows per group: as many whole tiles as fit in the A nibble buffer.
  const std::size_t group_rows = (chunk_words == 0 ? kSplitWords : kSplitWords / chunk_words) / kTileRows * kTileRows;
  alignas(32) BitWord panel[kMaxChunk * kBgemm4x8PanelStride];
  alignas(32) BitWord a_nibbles[2 * kSplitWords];
  for (std::size_t g0 = 0; g0 < M; g0 += group_rows) {
    const std::size_t rows = M - g0 < group_rows ? M - g0 : group_rows;
    for (std::size_t k0 = 0;; k0 += chunk_words) {
      const std::size_t chunk = K - k0 < chunk_words ? K - k0 : chunk_words;
      BitWord* alo = a_nibbles;
      BitWord* ahi = a_nibbles + kSplitWords;
      for (std::size_t r = 0; r < rows; ++r)
        split_nibbles(A + (g0 + r) * lda + k0, chunk, alo + r * chunk, ahi + r * chunk);
      for (std::size_t n0 = 0; n0 < N; n0 += kBgemm4x8Channels) {
        const std::size_t channels = N - n0 < kBgemm4x8Channels ? N - n0 : kBgemm4x8Channels;
        const BitWord* packed = B + (k0 * panels + n0 / kBgemm4x8Channels * chunk) * kBgemm4x8Channels;
        split_panel(packed, chunk, panel);
        // The next panel of this chunk, or the first of the next chunk: the words that follow.
        if (n0 + kBgemm4x8Channels < N || k0 + chunk < K) prefetch_words(packed + chunk * kBgemm4x8Channels, chunk * kBgemm4x8Channels);
        const bool accumulate = k0 != 0;
        std::int32_t* c = C + g0 * ldc + n0;
        std::size_t m0 = 0;
        for (; m0 + kTileRows <= rows; m0 += kTileRows)
          tile<kTileRows>(chunk, alo + m0 * chunk, ahi + m0 * chunk, panel, c + m0 * ldc, ldc, channels, accumulate);
        switch (rows - m0) {
          case 3: tile<3>(chunk, alo + m0 * chunk, ahi + m0 * chunk, panel, c + m0 * ldc, ldc, channels, accumulate); break;
          case 2: tile<2>(chunk, alo + m0 * chunk, ahi + m0 * chunk, panel, c + m0 * ldc, ldc, channels, accumulate); break;
          case 1: tile<1>(chunk, alo + m0 * chunk, ahi + m0 * chunk, panel, c + m0 * ldc, ldc, channels, accumulate); break;
          default: break;
        }
      }
      if (k0 + chunk >= K) break;
    }
  }
}

}  // namespace irnet
