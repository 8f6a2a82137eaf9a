// AVX2 + FMA sgemm micro-kernel: 6 rows × 16 columns (12 ymm accumulators),
// row-major A panel (the conv's im2col copies contiguous runs into it).
#include "fconv/x86/sgemm_x86.h"
#include "fconv/x86/sgemm_tile_x86.h"

namespace irnet {
namespace {

struct Avx2 {
  using Reg = __m256;
  static constexpr std::size_t kWidth = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(float x) { return _mm256_set1_ps(x); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg x) { _mm256_storeu_ps(p, x); }
  static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
};

void sgemm_6x16_avx2(std::size_t K, const float* a, const float* b, const float* bias, float lo,
                     float hi, float* C, std::size_t ldc, std::size_t rows, std::size_t cols) {
  sgemm_tile_x86<Avx2, 6, 2, true>(K, a, b, bias, lo, hi, C, ldc, rows, cols);
}

}  // namespace

extern const SgemmKernel kSgemm6x16Avx2 = {"sgemm_6x16_avx2", cpu_runs_sgemm_avx2, 6, 16, 1, SgemmALayout::kRowMajor, &sgemm_6x16_avx2};

}  // namespace irnet
