// bgemm_2x4_avx2: 256 bits (4 words) of one A row against one B row per step.
//
// AVX2 has no vector popcount, so each byte is counted with a 16-entry table
// lookup per nibble (vpshufb: count(x) = lut[x & 15] + lut[x >> 4], at most 8
// per byte), and vpsadbw against zero adds the 8 byte counts of each 64-bit
// lane into that lane. Each of the 2×4 outputs owns one accumulator of four
// u64 lanes (8 independent dependency chains); the lanes are summed at the
// end. Register budget: 8 accumulators + 2 A + 1 B + table + mask + temps <= 16.
// A K tail of 1-3 words (e.g. K = 9 for 3x3 x 64 channels) is counted with
// the scalar popcnt instruction, cheaper than a partly empty vector step.
#include <immintrin.h>

#include "bgemm/bgemm_tiles.h"
#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

inline __m256i popcount_bytes(__m256i x, __m256i lut, __m256i low_nibbles) {
  const __m256i lo = _mm256_and_si256(x, low_nibbles);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibbles);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

inline std::int64_t sum_lanes(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

struct Avx2Kernel {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc[MR][NR];
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) acc[m][n] = zero;

    std::size_t k = 0;
    for (; k + 4 <= K; k += 4) {
      __m256i a[MR];
      for (int m = 0; m < MR; ++m) a[m] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A + m * lda + k));
      for (int n = 0; n < NR; ++n) {
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B + n * ldb + k));
        for (int m = 0; m < MR; ++m) {
          const __m256i bytes = popcount_bytes(_mm256_xor_si256(a[m], b), lut, low_nibbles);
          acc[m][n] = _mm256_add_epi64(acc[m][n], _mm256_sad_epu8(bytes, zero));
        }
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) {
        std::int64_t sum = sum_lanes(acc[m][n]);
        for (std::size_t t = k; t < K; ++t)  // 0-3 tail words: scalar popcnt
          sum += _mm_popcnt_u64(A[m * lda + t] ^ B[n * ldb + t]);
        C[m * ldc + n] = static_cast<std::int32_t>(sum);
      }
  }
};

}  // namespace

void bgemm_2x4_avx2(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                    const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  bgemm_detail::bgemm_tiled<Avx2Kernel, 2, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace irnet
