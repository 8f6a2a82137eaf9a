// bgemm_ref: the definition of the binary GEMM, one popcount per word.
#include "bgemm/bgemm.h"

namespace irnet {

void bgemm_ref(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
               const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      std::int64_t count = 0;
      for (std::size_t k = 0; k < K; ++k) count += __builtin_popcountll(A[m * lda + k] ^ B[n * ldb + k]);
      C[m * ldc + n] = static_cast<std::int32_t>(count);
    }
}

}  // namespace irnet
