// bgemm_4x4_avx512: 512 bits (8 words) per step with AVX-512 VPOPCNTDQ.
//
// vpopcntq counts each 64-bit lane directly, so an xor-popcount step is
// vpxorq + vpopcntq + vpaddq per output. The 4×4 tile holds 16 zmm
// accumulators (8 u64 lanes each) + 4 A rows + 1 B row: 21 of the 32 zmm
// registers. A K tail of 1-7 words is a zero-masked load (missing words read
// as 0 in both operands and XOR to 0). Lanes are summed once at the end.
#include <immintrin.h>

#include "bgemm/bgemm_tiles.h"
#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

// Sum of the 8 u64 lanes, in registers: fold the high 256 bits onto the low
// ones (vshufi64x2), then the AVX2 halving. (GCC 12's _mm512_reduce_add_epi64
// and extract intrinsics raise spurious -Wuninitialized warnings.)
inline std::int64_t sum_lanes(__m512i v) {
  const __m512i folded = _mm512_add_epi64(v, _mm512_shuffle_i64x2(v, v, 0xEE));
  const __m256i s4 = _mm512_castsi512_si256(folded);
  const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
  return _mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1);
}

// acc[m][n] += popcount(A[m][0..8) ^ B[n][0..8)) per lane, loading only the
// words in `mask` (the others read as 0). Forced inline so that the
// accumulators stay in registers across the K loop.
template <int MR, int NR>
__attribute__((always_inline)) inline void step(__m512i (&acc)[MR][NR], const BitWord* A, std::size_t lda,
                                                const BitWord* B, std::size_t ldb, __mmask8 mask) {
  __m512i a[MR];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) a[m] = _mm512_maskz_loadu_epi64(mask, A + m * lda);
#pragma GCC unroll 4
  for (int n = 0; n < NR; ++n) {
    const __m512i b = _mm512_maskz_loadu_epi64(mask, B + n * ldb);
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      acc[m][n] = _mm512_add_epi64(acc[m][n], _mm512_popcnt_epi64(_mm512_xor_si512(a[m], b)));
  }
}

struct Avx512Kernel {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    __m512i acc[MR][NR];
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_setzero_si512();

    // The partial step (K % 8 words) first, then the full steps. Every loop
    // over the tile is fully unrolled (the pragmas): GCC 12 keeps an array of
    // zmm accumulators that a rolled loop indexes in memory, storing all 16
    // of them on every step.
    std::size_t k = K % 8;
    if (k != 0) step<MR, NR>(acc, A, lda, B, ldb, __mmask8((1u << k) - 1));
    for (; k < K; k += 8) step<MR, NR>(acc, A + k, lda, B + k, ldb, __mmask8(0xFF));
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
      for (int n = 0; n < NR; ++n)
        C[m * ldc + n] = static_cast<std::int32_t>(sum_lanes(acc[m][n]));
  }
};

}  // namespace

void bgemm_4x4_avx512(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                      std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                      std::size_t ldc) {
  bgemm_detail::bgemm_tiled<Avx512Kernel, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace irnet
