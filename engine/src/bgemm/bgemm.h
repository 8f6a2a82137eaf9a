// Binary GEMM: the xor-popcount core of every binary convolution and
// binary fully-connected layer.
//
// For ±1 vectors a, w of K values packed as bits (bit 1 <=> -1),
//   a·w = K - 2 * popcount(a XOR w)
// because each position where the signs agree adds +1 and each where they
// differ adds -1. A bgemm micro-kernel computes only the popcounts; the
// caller (bconv/, which also corrects for padding) turns them into dot products.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace irnet {

// C[m*ldc + n] = sum_{k<K} popcount(A[m*lda + k] ^ B[n*ldb + k])   for m<M, n<N.
// A: M rows of K words (im2col'd activations); B: N rows of K words
// (packed weights, one row per output channel, exactly as stored in .irb).
// Any M, N, K >= 0; no alignment requirement. C is overwritten, not accumulated.
using BgemmFn = void (*)(std::size_t M, std::size_t N, std::size_t K,
                         const BitWord* A, std::size_t lda,
                         const BitWord* B, std::size_t ldb,
                         std::int32_t* C, std::size_t ldc);

// The plain reference: three loops, one popcount per word.
void bgemm_ref(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
               std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
               std::size_t ldc);

}  // namespace irnet
