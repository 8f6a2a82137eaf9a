#include "fconv/sgemm.h"

#include <algorithm>

namespace irnet {

void sgemm_pack_b(const float* w, std::size_t ldw, std::size_t K, std::size_t kp, std::size_t N,
                  std::size_t nr, float* packed) {
  const std::size_t panels = (N + nr - 1) / nr;
  std::fill(packed, packed + panels * kp * nr, 0.f);
  for (std::size_t p = 0; p < panels; ++p) {
    float* panel = packed + p * kp * nr;
    const std::size_t cols = std::min(nr, N - p * nr);
    for (std::size_t j = 0; j < cols; ++j) {
      const float* w_row = w + (p * nr + j) * ldw;
      for (std::size_t k = 0; k < K; ++k) panel[k * nr + j] = w_row[k];
    }
  }
}

std::vector<float> sgemm_pack_bias(const float* bias, std::size_t N, std::size_t nr) {
  std::vector<float> packed((N + nr - 1) / nr * nr, 0.f);
  if (bias != nullptr) std::copy(bias, bias + N, packed.begin());
  return packed;
}

void sgemm_ref(std::size_t M, std::size_t N, std::size_t K, const float* A, std::size_t lda,
               const float* w, std::size_t ldw, const float* bias, float lo, float hi, float* C,
               std::size_t ldc) {
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      float sum = 0.f;
      for (std::size_t k = 0; k < K; ++k) sum += A[m * lda + k] * w[n * ldw + k];
      if (bias != nullptr) sum += bias[n];
      C[m * ldc + n] = std::min(std::max(sum, lo), hi);
    }
}

}  // namespace irnet
