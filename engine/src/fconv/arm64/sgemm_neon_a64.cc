// AArch64 NEON sgemm micro-kernels.
//
// sgemm_8x8_neon_a64 (preferred): A micro-panel row-major (8 rows of Kp values,
// Kp a multiple of 4), 16 q-register accumulators (8 rows × 2 vectors of 4
// columns). Per 4 k steps it loads 4 consecutive k of each A row into one q
// register (8 loads) and the 4 x 8 B values (8 registers), then for each of
// the 4 lanes issues 16 by-element FMAs: acc[r][v] += b_v * a_r[lane]
// (vfmaq_laneq_f32). 64 FMAs (256 MACs) per 79 instructions: ~3.2 MACs per
// instruction, and the row-major A panel is filled by plain copies (im2col
// runs are contiguous), not by a strided transpose.
//
// sgemm_12x8_neon_a64: A micro-panel k-major (12 values per k step), 24
// accumulators; 24 FMAs per 5 q loads per k step (~3.2 MACs per instruction
// after 4x unrolling) but its panel needs a strided im2col.
//
// An 8-column tile fits every channel count of ResNet (64·i) and the fc (1000).
#include <arm_neon.h>

#include <iterator>
#include <limits>

#include "cpu/kernel_config.h"
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

// Loads of one iteration: B's 4 k steps x 8 columns (the 4-register ld1
// first: on the in-order A53 a load issued after FMAs waits for their
// write-back, the ld1's longer latency 2 modelled cycles, an ldr or ldp 5),
// A's 8 rows x 4 k steps, with the counter and pointer updates among the last
// loads, where they dual-issue.
#define IRNET_SGEMM_LOADS \
  "ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[b]]\n" \
  "ldr q16, [%[a]]\n" \
  "ldr q17, [%[a], %[o1]]\n" \
  "ldr q18, [%[a], %[o2]]\n" \
  "ldr q19, [%[a], %[o3]]\n" \
  "ldr q20, [%[a], %[o4]]\n" \
  "ldr q21, [%[a], %[o5]]\n" \
  "ldr q22, [%[a], %[o6]]\n" \
  "ldr q23, [%[a], %[o7]]\n" \
  "ldp q28, q29, [%[b], #64]\n" \
  "subs %[n], %[n], #1\n" \
  "add %[a], %[a], #16\n" \
  "ldp q30, q31, [%[b], #96]\n" \
  "add %[b], %[b], #128\n"
// The 64 FMAs of one iteration: lane l of the A rows times B's k step l.
#define IRNET_SGEMM_FMAS \
  "fmla v0.4s, v24.4s, v16.s[0]\n" \
  "fmla v1.4s, v25.4s, v16.s[0]\n" \
  "fmla v2.4s, v24.4s, v17.s[0]\n" \
  "fmla v3.4s, v25.4s, v17.s[0]\n" \
  "fmla v4.4s, v24.4s, v18.s[0]\n" \
  "fmla v5.4s, v25.4s, v18.s[0]\n" \
  "fmla v6.4s, v24.4s, v19.s[0]\n" \
  "fmla v7.4s, v25.4s, v19.s[0]\n" \
  "fmla v8.4s, v24.4s, v20.s[0]\n" \
  "fmla v9.4s, v25.4s, v20.s[0]\n" \
  "fmla v10.4s, v24.4s, v21.s[0]\n" \
  "fmla v11.4s, v25.4s, v21.s[0]\n" \
  "fmla v12.4s, v24.4s, v22.s[0]\n" \
  "fmla v13.4s, v25.4s, v22.s[0]\n" \
  "fmla v14.4s, v24.4s, v23.s[0]\n" \
  "fmla v15.4s, v25.4s, v23.s[0]\n" \
  "fmla v0.4s, v26.4s, v16.s[1]\n" \
  "fmla v1.4s, v27.4s, v16.s[1]\n" \
  "fmla v2.4s, v26.4s, v17.s[1]\n" \
  "fmla v3.4s, v27.4s, v17.s[1]\n" \
  "fmla v4.4s, v26.4s, v18.s[1]\n" \
  "fmla v5.4s, v27.4s, v18.s[1]\n" \
  "fmla v6.4s, v26.4s, v19.s[1]\n" \
  "fmla v7.4s, v27.4s, v19.s[1]\n" \
  "fmla v8.4s, v26.4s, v20.s[1]\n" \
  "fmla v9.4s, v27.4s, v20.s[1]\n" \
  "fmla v10.4s, v26.4s, v21.s[1]\n" \
  "fmla v11.4s, v27.4s, v21.s[1]\n" \
  "fmla v12.4s, v26.4s, v22.s[1]\n" \
  "fmla v13.4s, v27.4s, v22.s[1]\n" \
  "fmla v14.4s, v26.4s, v23.s[1]\n" \
  "fmla v15.4s, v27.4s, v23.s[1]\n" \
  "fmla v0.4s, v28.4s, v16.s[2]\n" \
  "fmla v1.4s, v29.4s, v16.s[2]\n" \
  "fmla v2.4s, v28.4s, v17.s[2]\n" \
  "fmla v3.4s, v29.4s, v17.s[2]\n" \
  "fmla v4.4s, v28.4s, v18.s[2]\n" \
  "fmla v5.4s, v29.4s, v18.s[2]\n" \
  "fmla v6.4s, v28.4s, v19.s[2]\n" \
  "fmla v7.4s, v29.4s, v19.s[2]\n" \
  "fmla v8.4s, v28.4s, v20.s[2]\n" \
  "fmla v9.4s, v29.4s, v20.s[2]\n" \
  "fmla v10.4s, v28.4s, v21.s[2]\n" \
  "fmla v11.4s, v29.4s, v21.s[2]\n" \
  "fmla v12.4s, v28.4s, v22.s[2]\n" \
  "fmla v13.4s, v29.4s, v22.s[2]\n" \
  "fmla v14.4s, v28.4s, v23.s[2]\n" \
  "fmla v15.4s, v29.4s, v23.s[2]\n" \
  "fmla v0.4s, v30.4s, v16.s[3]\n" \
  "fmla v1.4s, v31.4s, v16.s[3]\n" \
  "fmla v2.4s, v30.4s, v17.s[3]\n" \
  "fmla v3.4s, v31.4s, v17.s[3]\n" \
  "fmla v4.4s, v30.4s, v18.s[3]\n" \
  "fmla v5.4s, v31.4s, v18.s[3]\n" \
  "fmla v6.4s, v30.4s, v19.s[3]\n" \
  "fmla v7.4s, v31.4s, v19.s[3]\n" \
  "fmla v8.4s, v30.4s, v20.s[3]\n" \
  "fmla v9.4s, v31.4s, v20.s[3]\n" \
  "fmla v10.4s, v30.4s, v21.s[3]\n" \
  "fmla v11.4s, v31.4s, v21.s[3]\n" \
  "fmla v12.4s, v30.4s, v22.s[3]\n" \
  "fmla v13.4s, v31.4s, v22.s[3]\n" \
  "fmla v14.4s, v30.4s, v23.s[3]\n" \
  "fmla v15.4s, v31.4s, v23.s[3]\n"

void sgemm_8x8_neon_a64(std::size_t K, const float* a, const float* b, const float* bias, float lo,
                        float hi, float* C, std::size_t ldc, std::size_t rows, std::size_t cols) {
  constexpr std::size_t kRows = 8;
  if (rows == 1) {
    sgemm_1x8_row(K, a, b, bias, lo, hi, C, cols);
    return;
  }
  // The k loop is assembly: the intrinsic version needs all 32 registers and
  // GCC then adds moves to it. Accumulators: v0-v15 (row r in v(2r), v(2r+1));
  // A rows: v16-v23, loaded at a + r*K (offsets o_r = r*K*4); B: v24-v31.
  // The loop is rotated so that its branch follows loads, not FMAs (on the
  // in-order A53 anything issued after an FMA waits for the FMA's write-back:
  // a branch right after them waited 8 modelled cycles): the first
  // iteration's loads come before the loop, an iteration is the FMAs of one
  // 4-k step and the loads of the next, and the last FMAs follow the loop, so
  // nothing is read past the panels. Per iteration (4 k steps): 64 fmla +
  // ld1 + 8 ldr + 2 ldp + 2 add + subs + b.ne = 79 instructions, 256 MACs,
  // 83 modelled cycles (the unrotated loop with post-incremented loads: 78
  // instructions, 91 cycles).
  // The epilogue (bias, clamp, store) stays in the same asm block, on the
  // accumulator registers.
  // A full tile goes straight to C, a partial one through `tile`.
  float tile[kRows * kNr];
  const bool full = rows == kRows && cols == kNr;
  float* dst = full ? C : tile;
  const std::size_t dst_step = (full ? ldc : kNr) * sizeof(float);
  const std::size_t clamp_lo = lo != -std::numeric_limits<float>::infinity();
  const std::size_t clamp_hi = hi != std::numeric_limits<float>::infinity();
  const std::size_t row_bytes = K * sizeof(float);
  std::size_t iterations = K / 4;
  asm volatile(
      "movi v0.4s, #0\n"
      "movi v1.4s, #0\n"
      "movi v2.4s, #0\n"
      "movi v3.4s, #0\n"
      "movi v4.4s, #0\n"
      "movi v5.4s, #0\n"
      "movi v6.4s, #0\n"
      "movi v7.4s, #0\n"
      "movi v8.4s, #0\n"
      "movi v9.4s, #0\n"
      "movi v10.4s, #0\n"
      "movi v11.4s, #0\n"
      "movi v12.4s, #0\n"
      "movi v13.4s, #0\n"
      "movi v14.4s, #0\n"
      "movi v15.4s, #0\n"
      "cbz %[n], 2f\n"
      IRNET_SGEMM_LOADS
      "b.eq 3f\n"
      "1:\n"
      IRNET_SGEMM_FMAS
      IRNET_SGEMM_LOADS
      "b.ne 1b\n"
      "3:\n"
      IRNET_SGEMM_FMAS
      "2:\n"
      // Epilogue: + bias, then clamp to [lo, hi] (same order as the reference;
      // a bound at infinity skipped: fmax with -inf and fmin with +inf return
      // their other operand, NaN included), then row r stored at dst + r*dst_step.
      "ldp q24, q25, [%[bias]]\n"
      "fadd v0.4s, v0.4s, v24.4s\n"
      "fadd v1.4s, v1.4s, v25.4s\n"
      "fadd v2.4s, v2.4s, v24.4s\n"
      "fadd v3.4s, v3.4s, v25.4s\n"
      "fadd v4.4s, v4.4s, v24.4s\n"
      "fadd v5.4s, v5.4s, v25.4s\n"
      "fadd v6.4s, v6.4s, v24.4s\n"
      "fadd v7.4s, v7.4s, v25.4s\n"
      "fadd v8.4s, v8.4s, v24.4s\n"
      "fadd v9.4s, v9.4s, v25.4s\n"
      "fadd v10.4s, v10.4s, v24.4s\n"
      "fadd v11.4s, v11.4s, v25.4s\n"
      "fadd v12.4s, v12.4s, v24.4s\n"
      "fadd v13.4s, v13.4s, v25.4s\n"
      "fadd v14.4s, v14.4s, v24.4s\n"
      "fadd v15.4s, v15.4s, v25.4s\n"
      "cbz %[clamp_lo], 4f\n"
      "ld1r {v26.4s}, [%[lo]]\n"
      "fmax v0.4s, v0.4s, v26.4s\n"
      "fmax v1.4s, v1.4s, v26.4s\n"
      "fmax v2.4s, v2.4s, v26.4s\n"
      "fmax v3.4s, v3.4s, v26.4s\n"
      "fmax v4.4s, v4.4s, v26.4s\n"
      "fmax v5.4s, v5.4s, v26.4s\n"
      "fmax v6.4s, v6.4s, v26.4s\n"
      "fmax v7.4s, v7.4s, v26.4s\n"
      "fmax v8.4s, v8.4s, v26.4s\n"
      "fmax v9.4s, v9.4s, v26.4s\n"
      "fmax v10.4s, v10.4s, v26.4s\n"
      "fmax v11.4s, v11.4s, v26.4s\n"
      "fmax v12.4s, v12.4s, v26.4s\n"
      "fmax v13.4s, v13.4s, v26.4s\n"
      "fmax v14.4s, v14.4s, v26.4s\n"
      "fmax v15.4s, v15.4s, v26.4s\n"
      "4:\n"
      "cbz %[clamp_hi], 5f\n"
      "ld1r {v27.4s}, [%[hi]]\n"
      "fmin v0.4s, v0.4s, v27.4s\n"
      "fmin v1.4s, v1.4s, v27.4s\n"
      "fmin v2.4s, v2.4s, v27.4s\n"
      "fmin v3.4s, v3.4s, v27.4s\n"
      "fmin v4.4s, v4.4s, v27.4s\n"
      "fmin v5.4s, v5.4s, v27.4s\n"
      "fmin v6.4s, v6.4s, v27.4s\n"
      "fmin v7.4s, v7.4s, v27.4s\n"
      "fmin v8.4s, v8.4s, v27.4s\n"
      "fmin v9.4s, v9.4s, v27.4s\n"
      "fmin v10.4s, v10.4s, v27.4s\n"
      "fmin v11.4s, v11.4s, v27.4s\n"
      "fmin v12.4s, v12.4s, v27.4s\n"
      "fmin v13.4s, v13.4s, v27.4s\n"
      "fmin v14.4s, v14.4s, v27.4s\n"
      "fmin v15.4s, v15.4s, v27.4s\n"
      "5:\n"
      "stp q0, q1, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q2, q3, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q4, q5, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q6, q7, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q8, q9, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q10, q11, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q12, q13, [%[dst]]\n"
      "add %[dst], %[dst], %[dst_step]\n"
      "stp q14, q15, [%[dst]]\n"
      : [a] "+r"(a), [b] "+r"(b), [n] "+r"(iterations), [dst] "+r"(dst)
      : [o1] "r"(1 * row_bytes), [o2] "r"(2 * row_bytes), [o3] "r"(3 * row_bytes), [o4] "r"(4 * row_bytes), [o5] "r"(5 * row_bytes), [o6] "r"(6 * row_bytes), [o7] "r"(7 * row_bytes), [bias] "r"(bias), [dst_step] "r"(dst_step), [lo] "r"(&lo), [hi] "r"(&hi), [clamp_lo] "r"(clamp_lo), [clamp_hi] "r"(clamp_hi)
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
  if (full) return;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) C[r * ldc + j] = tile[r * kNr + j];
}


#undef IRNET_SGEMM_LOADS
#undef IRNET_SGEMM_FMAS

const SgemmKernel kKernel8x8 = {"sgemm_8x8_neon_a64", always_supported, 8, kNr, 4, SgemmALayout::kRowMajor,
                                &sgemm_8x8_neon_a64};
const SgemmKernel kKernel12x8 = {"sgemm_12x8_neon_a64", always_supported, kMr, kNr, 1, SgemmALayout::kKMajor,
                                 &sgemm_12x8_neon_a64};
const SgemmKernel* const kKernels[] = {&kKernel8x8, &kKernel12x8};

}  // namespace

extern const KernelTable<SgemmKernel> kSgemmKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
