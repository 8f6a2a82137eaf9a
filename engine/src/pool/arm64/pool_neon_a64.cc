// AArch64: AveragePool's whole 2x2 stride-2 windows on NEON
// (pool/average_pool_2x2.h; AArch64 NEON arithmetic is IEEE, FPCR.FZ off);
// every other AveragePool and MaxPool take the portable rows.
#include <arm_neon.h>

#include <iterator>

#include "cpu/kernel_config.h"
#include "pool/average_pool_2x2.h"

namespace irnet {
namespace {

struct LanesNeonA64 {
  using Vector = float32x4_t;
  static constexpr int kLanes = 4;
  static constexpr int kBlockVectors = 4;
  static Vector load(const float* p) { return vld1q_f32(p); }
  static Vector zero() { return vdupq_n_f32(0.f); }
  static Vector quarter() { return vdupq_n_f32(0.25f); }
  static Vector add(Vector a, Vector b) { return vaddq_f32(a, b); }
  static Vector mul(Vector a, Vector b) { return vmulq_f32(a, b); }
  static void store(float* p, Vector v) { vst1q_f32(p, v); }
};

const PoolKernel kNeonA64 = {"pool_neon_a64", always_supported, &max_pool_rows_portable,
                             &pool_2x2::average_pool_rows<LanesNeonA64, pool_2x2::ExactLanes>};
const PoolKernel* const kKernels[] = {&kNeonA64};

}  // namespace

extern const KernelTable<PoolKernel> kPoolKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
