// AVX-512F sgemm micro-kernel: 12 rows × 32 columns (24 zmm accumulators).
#include "fconv/x86/sgemm_x86.h"
#include "fconv/x86/sgemm_tile_x86.h"

namespace irnet {
namespace {

struct Avx512 {
  using Reg = __m512;
  static constexpr std::size_t kWidth = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(float x) { return _mm512_set1_ps(x); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Reg x) { _mm512_storeu_ps(p, x); }
  static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
};

void sgemm_12x32_avx512(std::size_t K, const float* a, const float* b, const float* bias,
                        float lo, float hi, float* C, std::size_t ldc, std::size_t rows,
                        std::size_t cols) {
  sgemm_tile_x86<Avx512, 12, 2, false>(K, a, b, bias, lo, hi, C, ldc, rows, cols);
}

}  // namespace

extern const SgemmKernel kSgemm12x32Avx512 = {"sgemm_12x32_avx512", cpu_runs_sgemm_avx512, 12, 32, 1, SgemmALayout::kKMajor, &sgemm_12x32_avx512};

}  // namespace irnet
