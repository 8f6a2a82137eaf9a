// The x86 bgemm micro-kernels (BgemmFn), each in a file compiled with its ISA flags.
#pragma once

#include "bgemm/bgemm.h"

namespace irnet {

// Reads its weights packed by pack_bgemm_4x8_avx2 (bgemm_avx2.cc).
void bgemm_4x8_avx2(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                    const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc);
std::size_t bgemm_4x8_avx2_packed_words(std::size_t N, std::size_t K);
void pack_bgemm_4x8_avx2(std::size_t N, std::size_t K, const BitWord* B, std::size_t ldb, BitWord* packed);
// Reads its weights packed by pack_bgemm_6x32_avx512 (bgemm_avx512.cc).
void bgemm_6x32_avx512(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                       const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc);
std::size_t bgemm_6x32_avx512_packed_words(std::size_t N, std::size_t K);
void pack_bgemm_6x32_avx512(std::size_t N, std::size_t K, const BitWord* B, std::size_t ldb, BitWord* packed);

void bgemm_4x4_popcnt(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                      std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                      std::size_t ldc);

}  // namespace irnet
