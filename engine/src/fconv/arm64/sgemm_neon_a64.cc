// AArch64 NEON sgemm micro-kernel: 12 rows × 8 columns.
//
// 24 q-register accumulators (12 rows × 2 vectors of 4 columns). Per k step:
// the 12 A values arrive as three q registers (a0 = rows 0-3, a1 = rows 4-7,
// a2 = rows 8-11), the 8 B values as two (b0, b1), and each accumulator gets
// one by-element FMA: acc[r][v] += b_v * a_{r/4}[r%4] (vfmaq_laneq_f32).
// That is 24 FMAs (96 MACs) for 5 q loads per k: ~3.5 MACs per instruction.
// An 8-column tile fits every channel count of ResNet (64·i) and the fc (1000).
#include <arm_neon.h>

#include <iterator>

#include "cpu/kernel_registry.h"
#include "fconv/sgemm.h"

namespace irnet {
namespace {

constexpr std::size_t kMr = 12;
constexpr std::size_t kNr = 8;

#define IRNET_ROW_FMA(r, a, lane)                           \
  c##r##0 = vfmaq_laneq_f32(c##r##0, b0, a, lane);          \
  c##r##1 = vfmaq_laneq_f32(c##r##1, b1, a, lane)

#define IRNET_ROWS(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11)

void sgemm_12x8_neon_a64(std::size_t K, const float* a, const float* b, const float* bias,
                         float lo, float hi, float* C, std::size_t ldc, std::size_t rows,
                         std::size_t cols) {
#define IRNET_DECLARE(r) float32x4_t c##r##0 = vdupq_n_f32(0.f), c##r##1 = vdupq_n_f32(0.f);
  IRNET_ROWS(IRNET_DECLARE)
#undef IRNET_DECLARE
  for (std::size_t k = 0; k < K; ++k, a += kMr, b += kNr) {
    const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4), a2 = vld1q_f32(a + 8);
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    IRNET_ROW_FMA(0, a0, 0); IRNET_ROW_FMA(1, a0, 1); IRNET_ROW_FMA(2, a0, 2);
    IRNET_ROW_FMA(3, a0, 3); IRNET_ROW_FMA(4, a1, 0); IRNET_ROW_FMA(5, a1, 1);
    IRNET_ROW_FMA(6, a1, 2); IRNET_ROW_FMA(7, a1, 3); IRNET_ROW_FMA(8, a2, 0);
    IRNET_ROW_FMA(9, a2, 1); IRNET_ROW_FMA(10, a2, 2); IRNET_ROW_FMA(11, a2, 3);
  }
  // Epilogue: + bias, then clamp to [lo, hi] (same order as the reference).
  const float32x4_t bias0 = vld1q_f32(bias), bias1 = vld1q_f32(bias + 4);
  const float32x4_t lo_v = vdupq_n_f32(lo), hi_v = vdupq_n_f32(hi);
  float tile[kMr * kNr];
  const bool full = rows == kMr && cols == kNr;
#define IRNET_STORE(r)                                                                  \
  {                                                                                     \
    float* dst = full ? C + r * ldc : tile + r * kNr;                                   \
    vst1q_f32(dst, vminq_f32(vmaxq_f32(vaddq_f32(c##r##0, bias0), lo_v), hi_v));        \
    vst1q_f32(dst + 4, vminq_f32(vmaxq_f32(vaddq_f32(c##r##1, bias1), lo_v), hi_v));    \
  }
  IRNET_ROWS(IRNET_STORE)
#undef IRNET_STORE
  if (full) return;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) C[r * ldc + j] = tile[r * kNr + j];
}

#undef IRNET_ROW_FMA
#undef IRNET_ROWS

const SgemmKernel kKernel = {"sgemm_12x8_neon_a64", kMr, kNr, &sgemm_12x8_neon_a64};
const SgemmKernel* get_kernel() { return &kKernel; }

const KernelVariant kVariants[] = {
    {"sgemm_12x8_neon_a64", always_supported, as_kernel_fn(&get_kernel)},
};

}  // namespace

extern const KernelTable kSgemmKernelsArm64 = {kVariants, std::size(kVariants)};

}  // namespace irnet
