// ARMv7 NEON sgemm micro-kernel: 4 rows × 8 columns.
//
// ARMv7 has 16 q registers: 8 accumulators (4 rows × 2 vectors), one for the
// 4 A values of a k step and two for the 8 B values. Each accumulator gets a
// by-scalar multiply-accumulate acc[r][v] += b_v * a[r] (vmlaq_lane_f32, which
// on ARMv7 rounds the product before the add, like the reference; NEON on
// AArch32 flushes denormals to zero, which the reference does not).
#include <arm_neon.h>

#include <iterator>

#include "cpu/kernel_config.h"
#include "fconv/sgemm.h"

namespace irnet {
namespace {

constexpr std::size_t kMr = 4;
constexpr std::size_t kNr = 8;

void sgemm_4x8_neon_a32(std::size_t K, const float* a, const float* b, const float* bias,
                        float lo, float hi, float* C, std::size_t ldc, std::size_t rows,
                        std::size_t cols) {
  float32x4_t c00 = vdupq_n_f32(0.f), c01 = c00, c10 = c00, c11 = c00;
  float32x4_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (std::size_t k = 0; k < K; ++k, a += kMr, b += kNr) {
    const float32x4_t av = vld1q_f32(a);
    const float32x2_t a_lo = vget_low_f32(av), a_hi = vget_high_f32(av);
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    c00 = vmlaq_lane_f32(c00, b0, a_lo, 0);
    c01 = vmlaq_lane_f32(c01, b1, a_lo, 0);
    c10 = vmlaq_lane_f32(c10, b0, a_lo, 1);
    c11 = vmlaq_lane_f32(c11, b1, a_lo, 1);
    c20 = vmlaq_lane_f32(c20, b0, a_hi, 0);
    c21 = vmlaq_lane_f32(c21, b1, a_hi, 0);
    c30 = vmlaq_lane_f32(c30, b0, a_hi, 1);
    c31 = vmlaq_lane_f32(c31, b1, a_hi, 1);
  }
  // Epilogue: + bias, then clamp to [lo, hi] (same order as the reference).
  const float32x4_t bias0 = vld1q_f32(bias), bias1 = vld1q_f32(bias + 4);
  const float32x4_t lo_v = vdupq_n_f32(lo), hi_v = vdupq_n_f32(hi);
  const float32x4_t out[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  float tile[kMr * kNr];
  const bool full = rows == kMr && cols == kNr;
  for (std::size_t r = 0; r < kMr; ++r) {
    float* dst = full ? C + r * ldc : tile + r * kNr;
    vst1q_f32(dst, vminq_f32(vmaxq_f32(vaddq_f32(out[r][0], bias0), lo_v), hi_v));
    vst1q_f32(dst + 4, vminq_f32(vmaxq_f32(vaddq_f32(out[r][1], bias1), lo_v), hi_v));
  }
  if (full) return;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) C[r * ldc + j] = tile[r * kNr + j];
}

const SgemmKernel kKernel = {"sgemm_4x8_neon_a32", always_supported, kMr, kNr, 1, SgemmALayout::kKMajor,
                             &sgemm_4x8_neon_a32};
const SgemmKernel* const kKernels[] = {&kKernel};

}  // namespace

extern const KernelTable<SgemmKernel> kSgemmKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
