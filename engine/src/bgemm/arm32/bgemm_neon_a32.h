// ARMv7 NEON binary GEMM micro-kernels (see bgemm/bgemm.h for the contract).
#pragma once

#include "bgemm/bgemm.h"

namespace irnet {

// 4x2 register-blocked tile: 4 activation rows x 2 weight rows per pass over K,
// eight u8 popcount accumulators (ARMv7 has 16 q registers). Any M, N, K.
void bgemm_4x2_neon_a32(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc);

}  // namespace irnet
