// x86 AVX2: AveragePool's whole 2x2 stride-2 windows on 8-float vectors
// (pool/average_pool_2x2.h; MXCSR's FTZ/DAZ are off, the arithmetic is IEEE);
// every other AveragePool and MaxPool take the portable rows.
#include <immintrin.h>

#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"
#include "pool/average_pool_2x2.h"

namespace irnet {
namespace {

struct LanesAvx2 {
  using Vector = __m256;
  static constexpr int kLanes = 8;
  static constexpr int kBlockVectors = 4;
  static Vector load(const float* p) { return _mm256_loadu_ps(p); }
  static Vector zero() { return _mm256_setzero_ps(); }
  static Vector quarter() { return _mm256_set1_ps(0.25f); }
  static Vector add(Vector a, Vector b) { return _mm256_add_ps(a, b); }
  static Vector mul(Vector a, Vector b) { return _mm256_mul_ps(a, b); }
  static void store(float* p, Vector v) { _mm256_storeu_ps(p, v); }
};

const PoolKernel kAvx2 = {"pool_avx2", cpu_runs_avx2_files, &max_pool_rows_portable,
                          &pool_2x2::average_pool_rows<LanesAvx2, pool_2x2::ExactLanes>};
const PoolKernel* const kKernels[] = {&kAvx2};

}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
