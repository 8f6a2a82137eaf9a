// AArch64 NEON sgemm micro-kernels.
//
// sgemm_8x8_neon_a64 (preferred): A micro-panel row-major (8 rows of Kp values,
// Kp a multiple of 4), 16 q-register accumulators (8 rows × 2 vectors of 4
// columns). Per 4 k steps it loads 4 consecutive k of each A row into one q
// register (8 loads) and the 4 x 8 B values (8 registers), then for each of
// the 4 lanes issues 16 by-element FMAs: acc[r][v] += b_v * a_r[lane]
// (its k loop and epilogue are sgemm8x8_neon_a64.S). 64 FMAs (256 MACs) per
// 79 instructions: ~3.2 MACs per instruction, and the row-major A panel is
// filled by plain copies (im2col runs are contiguous), not by a strided
// transpose.
//
// sgemm_12x8_neon_a64: A micro-panel k-major (12 values per k step), 24
// accumulators; 24 FMAs per 5 q loads per k step (~3.2 MACs per instruction
// after 4x unrolling) but its panel needs a strided im2col.
//
// An 8-column tile fits every channel count of ResNet (64·i) and the fc (1000).
#include <arm_neon.h>

#include <iterator>

#include "cpu/kernel_config.h"
#include "fconv/sgemm.h"

// The 8x8 tile's k loop and epilogue (bias, clamp, store; row r at
// dst + r * dst_step_bytes): the assembly routine in sgemm8x8_neon_a64.S,
// where its contract and registers are described.
extern "C" void irnet_sgemm8x8_neon_a64(std::size_t K, const float* a, const float* b, const float* bias,
                                        float lo, float hi, float* dst, std::size_t dst_step_bytes);

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
  // Unrolled 4x: the loop overhead (pointer and counter updates, branch) is
  // then ~1 instruction per 96 MACs.
#pragma GCC unroll 4
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

// A panel with a single row (the fc at batch 1, a last panel of one row) of
// the 8x8 kernel's row-major layout: y[j] = clamp(sum_k a[k] * b[k][j] + bias[j]).
// Per 4 k steps: one A load, two ld1 {4 regs} of B, 8 by-element FMAs into 4
// accumulator pairs (one per k mod 4, summed at the end: (s0 + s1) + (s2 + s3)),
// so that consecutive FMAs do not wait on each other: ~14 instructions instead
// of the 8-row loop's 78.
void sgemm_1x8_row(std::size_t K, const float* a, const float* b, const float* bias, float lo,
                   float hi, float* C, std::size_t cols) {
  float32x4_t s0l = vdupq_n_f32(0.f), s0h = s0l, s1l = s0l, s1h = s0l, s2l = s0l, s2h = s0l,
              s3l = s0l, s3h = s0l;
  for (std::size_t k = 0; k < K; k += 4, a += 4, b += 4 * kNr) {
    const float32x4_t av = vld1q_f32(a);
    const float32x4x4_t b01 = vld1q_f32_x4(b), b23 = vld1q_f32_x4(b + 2 * kNr);
    s0l = vfmaq_laneq_f32(s0l, b01.val[0], av, 0);
    s0h = vfmaq_laneq_f32(s0h, b01.val[1], av, 0);
    s1l = vfmaq_laneq_f32(s1l, b01.val[2], av, 1);
    s1h = vfmaq_laneq_f32(s1h, b01.val[3], av, 1);
    s2l = vfmaq_laneq_f32(s2l, b23.val[0], av, 2);
    s2h = vfmaq_laneq_f32(s2h, b23.val[1], av, 2);
    s3l = vfmaq_laneq_f32(s3l, b23.val[2], av, 3);
    s3h = vfmaq_laneq_f32(s3h, b23.val[3], av, 3);
  }
  const float32x4_t lo_v = vdupq_n_f32(lo), hi_v = vdupq_n_f32(hi);
  const float32x4_t sum_l = vaddq_f32(vaddq_f32(s0l, s1l), vaddq_f32(s2l, s3l));
  const float32x4_t sum_h = vaddq_f32(vaddq_f32(s0h, s1h), vaddq_f32(s2h, s3h));
  float row[kNr];
  vst1q_f32(row, vminq_f32(vmaxq_f32(vaddq_f32(sum_l, vld1q_f32(bias)), lo_v), hi_v));
  vst1q_f32(row + 4, vminq_f32(vmaxq_f32(vaddq_f32(sum_h, vld1q_f32(bias + 4)), lo_v), hi_v));
  for (std::size_t j = 0; j < cols; ++j) C[j] = row[j];
}

void sgemm_8x8_neon_a64(std::size_t K, const float* a, const float* b, const float* bias, float lo,
                        float hi, float* C, std::size_t ldc, std::size_t rows, std::size_t cols) {
  constexpr std::size_t kRows = 8;
  // A full tile goes straight to C, a partial one through `tile`.
  if (rows == kRows && cols == kNr) {
    irnet_sgemm8x8_neon_a64(K, a, b, bias, lo, hi, C, ldc * sizeof(float));
    return;
  }
  if (rows == 1) {
    sgemm_1x8_row(K, a, b, bias, lo, hi, C, cols);
    return;
  }
  float tile[kRows * kNr];
  irnet_sgemm8x8_neon_a64(K, a, b, bias, lo, hi, tile, kNr * sizeof(float));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) C[r * ldc + j] = tile[r * kNr + j];
}

const SgemmKernel kKernel8x8 = {"sgemm_8x8_neon_a64", always_supported, 8, kNr, 4, SgemmALayout::kRowMajor,
                                &sgemm_8x8_neon_a64};
const SgemmKernel kKernel12x8 = {"sgemm_12x8_neon_a64", always_supported, kMr, kNr, 1, SgemmALayout::kKMajor,
                                 &sgemm_12x8_neon_a64};
const SgemmKernel* const kKernels[] = {&kKernel8x8, &kKernel12x8};

}  // namespace

extern const KernelTable<SgemmKernel> kSgemmKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
