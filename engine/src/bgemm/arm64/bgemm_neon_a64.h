// AArch64 NEON binary GEMM micro-kernels (see bgemm/bgemm.h for the contract).
#pragma once

#include "bgemm/bgemm.h"

namespace irnet {

// 4x4 register-blocked tile: 4 activation rows x 4 weight rows per pass over K,
// sixteen u8 popcount accumulators. Any M, N, K (edge tiles use the same code).
void bgemm_4x4_neon_a64(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc);

// K <= kShortKWords: the short-K panels of bgemm/bgemm_short_k_neon.h (a row
// of A against NR <= 16 weight rows held in up to 18 q registers: with 20, gcc
// 12 spills at K = 5); the columns they leave and longer K (from 10 words the
// assembly tiles need fewer instructions): bgemm_4x4_neon_a64.
constexpr int kShortKWords = 9;
constexpr int kShortKRegisters = 18;
void bgemm_4x4_short_k_neon_a64(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                                std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                                std::size_t ldc);
// Its run_half_words (bgemm.h): K = 1 half words, 16 columns per panel
// (bgemm/bgemm_short_k_neon.h); the columns left: bgemm_4x4_short_k_neon_a64.
void bgemm_4x4_short_k_neon_a64_half_words(std::size_t M, std::size_t N, std::size_t K,
                                           const BitWord* A, std::size_t lda, const BitWord* B,
                                           std::size_t ldb, std::int32_t* C, std::size_t ldc);

}  // namespace irnet
