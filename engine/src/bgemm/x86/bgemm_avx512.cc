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

// Sum of the 8 u64 lanes, through memory: once per tile, off the hot loop
// (GCC 12's extract/reduce intrinsics raise spurious -Wuninitialized warnings).
inline std::int64_t sum_lanes(__m512i v) {
  alignas(64) std::int64_t lanes[8];
  _mm512_store_si512(lanes, v);
  std::int64_t sum = 0;
  for (std::int64_t lane : lanes) sum += lane;
  return sum;
}

struct Avx512Kernel {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    __m512i acc[MR][NR];
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_setzero_si512();

    auto step = [&](__mmask8 mask, std::size_t k) {
      __m512i a[MR];
      for (int m = 0; m < MR; ++m) a[m] = _mm512_maskz_loadu_epi64(mask, A + m * lda + k);
      for (int n = 0; n < NR; ++n) {
        const __m512i b = _mm512_maskz_loadu_epi64(mask, B + n * ldb + k);
        for (int m = 0; m < MR; ++m)
          acc[m][n] = _mm512_add_epi64(acc[m][n], _mm512_popcnt_epi64(_mm512_xor_si512(a[m], b)));
      }
    };
    std::size_t k = 0;
    for (; k + 8 <= K; k += 8) step(__mmask8(0xFF), k);
    if (k < K) step(__mmask8((1u << (K - k)) - 1), k);
    for (int m = 0; m < MR; ++m)
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
