// bgemm_2x4_avx2: 256 bits (4 words) of one A row against one B row per step.
//
// AVX2 has no vector popcount, so each byte is counted with a 16-entry table
// lookup per nibble (vpshufb: count(x) = lut[x & 15] + lut[x >> 4], at most 8
// per byte), and vpsadbw against zero adds the 8 byte counts of each 64-bit
// lane into that lane. Each of the 2×4 outputs owns one accumulator of four
// u64 lanes (8 independent dependency chains); the lanes are summed at the
// end with a 4x4 transpose-and-add (one vector of 4 sums per A row, no
// spills). Register budget: 8 accumulators + 2 A + 1 B + table + mask + temps
// <= 16. A K tail of 1-3 words (K = 9 for 3x3 x 64 channels) is counted with
// scalar popcnt (cheaper than a mostly empty vector step; vpmaskmovq is also
// slow on AMD) and added to those sums.
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

// The four u64 lane sums of a0..a3 as four int32 (each sum < 2^31):
// [sum(a0), sum(a1), sum(a2), sum(a3)] by a 4x4 transpose-and-add.
inline __m128i sum_lanes_x4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s01 = _mm256_add_epi64(_mm256_unpacklo_epi64(a0, a1), _mm256_unpackhi_epi64(a0, a1));
  const __m256i s23 = _mm256_add_epi64(_mm256_unpacklo_epi64(a2, a3), _mm256_unpackhi_epi64(a2, a3));
  const __m256i sums = _mm256_add_epi64(_mm256_permute2x128_si256(s01, s23, 0x20),
                                        _mm256_permute2x128_si256(s01, s23, 0x31));
  const __m256i low_halves = _mm256_permutevar8x32_epi32(sums, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
  return _mm256_castsi256_si128(low_halves);
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
    alignas(16) std::int32_t tail[MR][4] = {};  // 0-3 tail words: scalar popcnt
    for (; k < K; ++k)
      for (int m = 0; m < MR; ++m)
        for (int n = 0; n < NR; ++n)
          tail[m][n] += static_cast<std::int32_t>(_mm_popcnt_u64(A[m * lda + k] ^ B[n * ldb + k]));
    for (int m = 0; m < MR; ++m) {
      const __m128i tail_m = _mm_load_si128(reinterpret_cast<const __m128i*>(tail[m]));
      if constexpr (NR == 4) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(C + m * ldc),
                         _mm_add_epi32(sum_lanes_x4(acc[m][0], acc[m][1], acc[m][2], acc[m][3]), tail_m));
      } else {
        alignas(16) std::int32_t sums[4];
        for (int n = 0; n < NR; ++n) {
          _mm_store_si128(reinterpret_cast<__m128i*>(sums), sum_lanes_x4(acc[m][n], zero, zero, zero));
          C[m * ldc + n] = sums[0] + tail[m][n];
        }
      }
    }
  }
};

}  // namespace

void bgemm_2x4_avx2(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                    const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  bgemm_detail::bgemm_tiled<Avx2Kernel, 2, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace irnet
