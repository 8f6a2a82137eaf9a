// irnet_sgemm8x8_neon_a64: the k loop and the epilogue of the AArch64 NEON
// 8x8 float GEMM micro-kernel (fconv/arm64/sgemm_neon_a64.cc: the A and B
// micro-panel layouts, the one-row panels and the partial tiles).
//
// void irnet_sgemm8x8_neon_a64(size_t K, const float* a, const float* b,
//                              const float* bias, float lo, float hi,
//                              float* dst, size_t dst_step_bytes);
// K a multiple of 4; a: 8 rows of K floats (row r at a + r * K); b: K steps
// of 8 floats. Row r of the tile, clamp(sum_k a[r][k] * b[k][j] + bias[j],
// lo, hi) for j = 0..7, is stored at dst + r * dst_step_bytes. Bias first,
// then the clamp, as in the reference; a bound at infinity is skipped (fmax
// with -inf and fmin with +inf return their other operand, NaN included).
//
// It is assembly because the intrinsic version needs all 32 vector registers
// and GCC then adds moves to it.
//
// Register map. General registers (all caller-saved; x0-x5 and s0/s1 hold the
// arguments on entry):
#define ARG_K       x0
#define A_PTR       x1   // A rows at the current k (row r at A_PTR + r * K * 4)
#define B_PTR       x2   // B at the current k step
#define BIAS        x3
#define DST         x4   // row r of the tile at DST + r * DST_STEP, walked on
#define DST_STEP    x5
#define ITERATIONS  x6   // 4-k steps left
#define A_OFFSET1   x7   // A_OFFSETr = r * K * 4: row r's offset from row 0
#define A_OFFSET2   x8
#define A_OFFSET3   x9
#define A_OFFSET4   x10
#define A_OFFSET5   x11
#define A_OFFSET6   x12
#define A_OFFSET7   x13
#define LO_BITS     w14  // lo and hi as bits: s0 and s1 hold accumulators
#define HI_BITS     w15
#define INF_BITS    w16  // scratch: the bits of -inf or +inf
#include "fconv/arm64/float_tile_a64.h"
// Vector registers: the accumulators of row r in v(2r) (columns 0-3) and
// v(2r + 1) (columns 4-7); the 8 A rows' 4 k values in v16-v23; B's 4 k steps
// x 8 columns in v24-v31. Epilogue: bias in v24, v25; lo in v26, hi in v27.
// v8-v15 are callee-saved (their low halves d8-d15): saved on the stack.
//
// Per 4 k steps, 64 by-element FMAs: acc[r][v] += b_v * a_r[lane] (256 MACs)
// and 11 loads. The loop is rotated so that its branch follows loads, not
// FMAs (on the in-order A53 anything issued after an FMA waits for the FMA's
// write-back: a branch right after them waited 8 modelled cycles): the first
// 4-k step's loads come before the loop, an iteration is the FMAs of one
// 4-k step and the loads of the next, and the last FMAs follow the loop, so
// nothing is read past the panels. Per iteration: 64 fmla + ld1 + 8 ldr +
// 2 ldp + 2 add + subs + b.ne = 79 instructions, 83 modelled cycles (the
// unrotated loop with post-incremented loads: 78 instructions, 91 cycles).

// Loads of one 4-k step: B's 4 k steps x 8 columns (the 4-register ld1 first:
// on the in-order A53 a load issued after FMAs waits for their write-back,
// the ld1's longer latency 2 modelled cycles, an ldr or ldp 5), A's 8 rows x
// 4 k steps, with the counter and pointer updates among the last loads, where
// they dual-issue.
.macro irnet_sgemm_loads
  ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [B_PTR]
  ldr q16, [A_PTR]
  ldr q17, [A_PTR, A_OFFSET1]
  ldr q18, [A_PTR, A_OFFSET2]
  ldr q19, [A_PTR, A_OFFSET3]
  ldr q20, [A_PTR, A_OFFSET4]
  ldr q21, [A_PTR, A_OFFSET5]
  ldr q22, [A_PTR, A_OFFSET6]
  ldr q23, [A_PTR, A_OFFSET7]
  ldp q28, q29, [B_PTR, #64]
  subs ITERATIONS, ITERATIONS, #1
  add A_PTR, A_PTR, #16
  ldp q30, q31, [B_PTR, #96]
  add B_PTR, B_PTR, #128
.endm

// The 16 FMAs of k step `lane` of a 4-k step: B's columns in v\b0, v\b1.
.macro irnet_sgemm_fmas_step b0, b1, lane
  fmla v0.4s, v\b0\().4s, v16.s[\lane]
  fmla v1.4s, v\b1\().4s, v16.s[\lane]
  fmla v2.4s, v\b0\().4s, v17.s[\lane]
  fmla v3.4s, v\b1\().4s, v17.s[\lane]
  fmla v4.4s, v\b0\().4s, v18.s[\lane]
  fmla v5.4s, v\b1\().4s, v18.s[\lane]
  fmla v6.4s, v\b0\().4s, v19.s[\lane]
  fmla v7.4s, v\b1\().4s, v19.s[\lane]
  fmla v8.4s, v\b0\().4s, v20.s[\lane]
  fmla v9.4s, v\b1\().4s, v20.s[\lane]
  fmla v10.4s, v\b0\().4s, v21.s[\lane]
  fmla v11.4s, v\b1\().4s, v21.s[\lane]
  fmla v12.4s, v\b0\().4s, v22.s[\lane]
  fmla v13.4s, v\b1\().4s, v22.s[\lane]
  fmla v14.4s, v\b0\().4s, v23.s[\lane]
  fmla v15.4s, v\b1\().4s, v23.s[\lane]
.endm

// The 64 FMAs of a 4-k step: lane l of the A rows times B's k step l.
.macro irnet_sgemm_fmas
  irnet_sgemm_fmas_step 24, 25, 0
  irnet_sgemm_fmas_step 26, 27, 1
  irnet_sgemm_fmas_step 28, 29, 2
  irnet_sgemm_fmas_step 30, 31, 3
.endm

  .text
  .p2align 4
  .global irnet_sgemm8x8_neon_a64
  .hidden irnet_sgemm8x8_neon_a64
  .type irnet_sgemm8x8_neon_a64, %function
irnet_sgemm8x8_neon_a64:
  irnet_a64_save_d8_d15
  fmov LO_BITS, s0
  fmov HI_BITS, s1
  lsr ITERATIONS, ARG_K, #2
  lsl A_OFFSET1, ARG_K, #2
  lsl A_OFFSET2, ARG_K, #3
  add A_OFFSET3, A_OFFSET1, A_OFFSET2
  lsl A_OFFSET4, ARG_K, #4
  add A_OFFSET5, A_OFFSET4, A_OFFSET1
  add A_OFFSET6, A_OFFSET4, A_OFFSET2
  add A_OFFSET7, A_OFFSET4, A_OFFSET3
  irnet_a64_zero_acc16
  cbz ITERATIONS, .Lirnet_sgemm_epilogue
  irnet_sgemm_loads
  b.eq .Lirnet_sgemm_last_fmas
.Lirnet_sgemm_loop:
  irnet_sgemm_fmas
  irnet_sgemm_loads
  b.ne .Lirnet_sgemm_loop
.Lirnet_sgemm_last_fmas:
  irnet_sgemm_fmas
.Lirnet_sgemm_epilogue:
  ldp q24, q25, [BIAS]
  irnet_a64_acc16 fadd, v24.4s, v25.4s
  mov INF_BITS, #0xff800000          // -inf
  cmp LO_BITS, INF_BITS
  b.eq .Lirnet_sgemm_clamp_hi
  dup v26.4s, LO_BITS
  irnet_a64_acc16 fmax, v26.4s, v26.4s
.Lirnet_sgemm_clamp_hi:
  mov INF_BITS, #0x7f800000          // +inf
  cmp HI_BITS, INF_BITS
  b.eq .Lirnet_sgemm_store
  dup v27.4s, HI_BITS
  irnet_a64_acc16 fmin, v27.4s, v27.4s
.Lirnet_sgemm_store:
  stp q0, q1, [DST]
  add DST, DST, DST_STEP
  stp q2, q3, [DST]
  add DST, DST, DST_STEP
  stp q4, q5, [DST]
  add DST, DST, DST_STEP
  stp q6, q7, [DST]
  add DST, DST, DST_STEP
  stp q8, q9, [DST]
  add DST, DST, DST_STEP
  stp q10, q11, [DST]
  add DST, DST, DST_STEP
  stp q12, q13, [DST]
  add DST, DST, DST_STEP
  stp q14, q15, [DST]
  irnet_a64_restore_d8_d15
  ret
  .size irnet_sgemm8x8_neon_a64, .-irnet_sgemm8x8_neon_a64

  .section .note.GNU-stack,"",%progbits
