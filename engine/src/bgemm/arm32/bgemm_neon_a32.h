// ARMv7 NEON binary GEMM micro-kernels (see bgemm/bgemm.h for the contract).
#pragma once

#include "bgemm/bgemm.h"

namespace irnet {

// 4x2 register-blocked tile: 4 activation rows x 2 weight rows per pass over K,
// eight u8 popcount accumulators (ARMv7 has 16 q registers). Any M, N, K.
void bgemm_4x2_neon_a32(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc);

// K <= kShortKWords: the short-K panels of bgemm/bgemm_short_k_neon.h (a row
// of A against NR weight rows held in 8 q registers); the columns they leave
// and longer K (from 13 words gcc 12 spills the row and the 4x2 tiles need
// fewer instructions): bgemm_4x2_neon_a32.
constexpr int kShortKWords = 12;
constexpr int kShortKRegisters = 8;
void bgemm_4x2_short_k_neon_a32(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                                std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                                std::size_t ldc);
// Its run_half_words (bgemm.h): K = 1 half words, 16 columns per panel
// (bgemm/bgemm_short_k_neon.h); the columns left: bgemm_4x2_short_k_neon_a32.
void bgemm_4x2_short_k_neon_a32_half_words(std::size_t M, std::size_t N, std::size_t K,
                                           const BitWord* A, std::size_t lda, const BitWord* B,
                                           std::size_t ldb, std::int32_t* C, std::size_t ldc);

}  // namespace irnet
