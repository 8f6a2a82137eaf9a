// AArch64 NEON binary GEMM micro-kernels (see bgemm/bgemm.h for the contract).
#pragma once

#include "bgemm/bgemm.h"

namespace irnet {

// 4x4 register-blocked tile: 4 activation rows x 4 weight rows per pass over K,
// sixteen u8 popcount accumulators. Any M, N, K (edge tiles use the same code).
void bgemm_4x4_neon_a64(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc);

}  // namespace irnet
