// irnet_bconv_epilogue_act_rows_*_neon_a32: BConv2d's fused activation rows
// on ARMv7 NEON (the float rows with kActivation of bconv/bconv_epilogue.h),
// 32 channels (one unit) at a time. bconv_epilogue_neon_a32.cc calls them,
// runs on VFP what they leave (channels past the last unit, rows they refuse)
// and holds the argument that NEON's flush-to-zero and default NaN give the
// IEEE results here.
//
// size_t irnet_bconv_epilogue_act_rows_<out>_<res>_<prelu>_neon_a32(const ActivationRowsA32* a);
//   out: fb (floats and bits), f (floats), b (bits); res: r (residual) or n;
//   prelu: max (every slope in (0, 1]: max(z, z * slope)) or sel (z < 0 ? z * slope : z).
// Computes the first a->units * 32 channels of rows 0 .. a->rows - 1 and
// returns the number of rows done: a->rows, or the first row whose residual
// fails the check below, of which nothing is written.
//
// Per 16 channels (half a unit), one vldm of four q registers per input
// (popcounts, bases, multipliers, biases, residuals, shift_in, slopes,
// shift_out, -thresholds) and per q register: acc = base - 2 * popcount
// (vmls by the scalar 2), vcvt, y = bias + float(acc) * multiplier (vmla: on
// ARMv7 NEON a multiply rounded with the NEON FPSCR, then an add, not fused),
// y + residual, z = y + shift_in, the PReLU, y = z + shift_out; one vstm of y;
// the bits -threshold > y (vcgt), the four masks narrowed to 16 bytes
// (vuzp.16 twice, vuzp.8), ANDed with the bit weights 2^(c % 8) and added
// pairwise (vpadd.i8). After the second half two more vpadd levels leave the
// unit's 32 bits in bytes 0..3 of d14, stored as half a word; a row of an odd
// number of units ends with a zero half word (the caller ORs tail channels
// into it).
// Residual check, before anything of a row is written (its residual may be y
// itself): every residual of the row's first residual_units * 32 must have
// |r| >= 2^-102 (vacge, false for NaNs and, as NEON reads them as zero, for
// zeros and subnormals); residual_units = 0 skips the check (the caller has
// checked the row). The residual of row r starts at residual + r * C_r;
// after each unit the pointer goes back by C_r when it reaches the row's end
// (C_r, a multiple of 32, divides the row's channels, or C_r = channels).
// Assembled in ARM state (conditional core instructions).
//
// ActivationRowsA32 (bconv_epilogue_neon_a32.cc checks these offsets): words
// 0-5 multiplier, bias, shift_in, slope, shift_out, neg_threshold (loaded by
// one ldm per row), then the words below, then 13-16 popcounts, residual, y
// and bits of row 0. Words 0-12 are copied into the stack frame, where bases
// and rows advance.
#define ARG_BASES          24   // const int32_t* const*: each row's bases
#define ARG_ROWS           28
#define ARG_UNITS          32   // 32-channel units per row, >= 1
#define ARG_RESIDUAL_UNITS 36   // units of a residual row to check, 0: none
#define ARG_RESIDUAL_BYTES 40   // 4 * C_r
#define ARG_ROW_SKIP       44   // bytes from a row's last unit to the next row (popcounts, y)
#define ARG_BITS_SKIP      48   // bytes from a row's last half word written to the next row's bits
#define FRAME_ALL_ROWS     52   // a->rows (frame only)
#define FRAME_BYTES        56
//
// Register map (r4-r11 and d8-d15 are callee-saved and restored):
#define POP        r0   // popcounts
#define BASE       r1   // bases of the row (the residual check's pointer before)
#define RES        r2   // residuals
#define RES_END    r3   // end of the row's residuals, the next row's start
#define MULT       r4   // r4-r9: the per-channel constants, in ActivationRowsA32's order
#define BIAS       r5
#define SHIFT_IN   r6
#define SLOPE      r7
#define SHIFT_OUT  r8
#define NEG_THR    r9
#define Y          r10
#define BITS       r11
#define RES_BYTES  ip   // 4 * C_r
#define COUNT      lr   // units left in the row (the check's units before); scratch between rows
// NEON: q0-q3 y, q8-q11 and q12-q15 the inputs as loaded, q4 the bit weights
// (bytes 2^(i % 8)), q5 2^-102 in each lane, q6 the residual check's AND of
// masks, d14 the unit's partial bit sums, d15 the scalar 2 (lane 0).

  .syntax unified
  .arch armv7-a
  .fpu neon
  .arm

// acc = base - 2 * popcount, converted to float, of 16 channels into q8-q11;
// q12-q15 the multipliers after it.
.macro irnet_a32_act_acc
  vldmia POP!, {d24-d31}
  vldmia BASE!, {d16-d23}
  vmls.i32 q8, q12, d15[0]
  vmls.i32 q9, q13, d15[0]
  vmls.i32 q10, q14, d15[0]
  vmls.i32 q11, q15, d15[0]
  vldmia MULT!, {d24-d31}
  vcvt.f32.s32 q8, q8
  vcvt.f32.s32 q9, q9
  vcvt.f32.s32 q10, q10
  vcvt.f32.s32 q11, q11
.endm

// q0-q3 op= q8-q11 (vadd.f32, vmul.f32, ...) after loading q8-q11 from ptr.
.macro irnet_a32_act_load_apply ptr, op
  vldmia \ptr!, {d16-d23}
  \op q0, q0, q8
  \op q1, q1, q9
  \op q2, q2, q10
  \op q3, q3, q11
.endm

// Half a unit (16 channels); half 0 leaves its pairwise bit sums in d14,
// half 1 adds its own, stores the unit's 32 bits and moves BITS on.
.macro irnet_a32_act_half half, store_float, bits, residual, select
  irnet_a32_act_acc
  vldmia BIAS!, {d0-d7}
  vmla.f32 q0, q8, q12
  vmla.f32 q1, q9, q13
  vmla.f32 q2, q10, q14
  vmla.f32 q3, q11, q15
.if \residual
  irnet_a32_act_load_apply RES, vadd.f32
.endif
  irnet_a32_act_load_apply SHIFT_IN, vadd.f32     // z
  vldmia SLOPE!, {d16-d23}
  vmul.f32 q8, q0, q8                              // z * slope
  vmul.f32 q9, q1, q9
  vmul.f32 q10, q2, q10
  vmul.f32 q11, q3, q11
.if \select
  vclt.f32 q12, q0, #0
  vclt.f32 q13, q1, #0
  vclt.f32 q14, q2, #0
  vclt.f32 q15, q3, #0
  vbsl q12, q8, q0                                 // z < 0 ? z * slope : z
  vbsl q13, q9, q1
  vbsl q14, q10, q2
  vbsl q15, q11, q3
  vldmia SHIFT_OUT!, {d16-d23}
  vadd.f32 q0, q12, q8
  vadd.f32 q1, q13, q9
  vadd.f32 q2, q14, q10
  vadd.f32 q3, q15, q11
.else
  vmax.f32 q0, q0, q8
  vmax.f32 q1, q1, q9
  vmax.f32 q2, q2, q10
  vmax.f32 q3, q3, q11
  irnet_a32_act_load_apply SHIFT_OUT, vadd.f32
.endif
.if \store_float
  vstmia Y!, {d0-d7}
.endif
.if \bits
  vldmia NEG_THR!, {d16-d23}
  vcgt.f32 q8, q8, q0
  vcgt.f32 q9, q9, q1
  vcgt.f32 q10, q10, q2
  vcgt.f32 q11, q11, q3
  vuzp.16 q8, q9                                   // q8: 8 halfword masks
  vuzp.16 q10, q11
  vuzp.8 q8, q10                                   // q8: 16 byte masks
  vand q8, q8, q4
.if \half == 0
  vpadd.i8 d14, d16, d17
.else
  vpadd.i8 d16, d16, d17
  vpadd.i8 d14, d14, d16
  vpadd.i8 d14, d14, d14                           // bytes 0..3: channels 0-7, ..., 24-31
  vst1.32 {d14[0]}, [BITS]!
.endif
.endif
.endm

// One entry point: outputs, residual and PReLU form fixed at assembly time.
.macro irnet_a32_act_rows name, store_float, bits, residual, select
  .text
  .p2align 4
  .global \name
  .hidden \name
  .type \name, %function
\name:
  push {r4-r11, lr}
  vpush {d8-d15}
  sub sp, sp, #FRAME_BYTES
  mov lr, r0
  ldm lr, {r0-r9}                 // words 0-9 into the frame
  stm sp, {r0-r9}
  add lr, lr, #ARG_RESIDUAL_BYTES
  ldm lr, {r0-r6}                 // words 10-16
  add ip, sp, #ARG_RESIDUAL_BYTES
  stm ip, {r0-r2}
  mov RES_BYTES, r0
  mov POP, r3
  mov RES_END, r4
  mov Y, r5
  mov BITS, r6
  ldr lr, [sp, #ARG_ROWS]
  str lr, [sp, #FRAME_ALL_ROWS]
  vmov.i32 d15, #2
.if \bits
  movw r4, #0x0201
  movt r4, #0x0804
  movw r5, #0x2010
  movt r5, #0x8040
  vmov d8, r4, r5
  vmov d9, r4, r5
.endif
.if \residual
  mov r4, #0x0C800000             // 2^-102
  vdup.32 q5, r4
.endif
.L\name\()_row:
  ldm sp, {MULT, BIAS, SHIFT_IN, SLOPE, SHIFT_OUT, NEG_THR}
.if \residual
  mov RES, RES_END
  add RES_END, RES_END, RES_BYTES
  ldr COUNT, [sp, #ARG_RESIDUAL_UNITS]
  cmp COUNT, #0
  beq .L\name\()_checked
  mov BASE, RES
  vmov.i8 q6, #0xff
.L\name\()_check:
  vldmia BASE!, {d16-d31}
  vacge.f32 q8, q8, q5
  vacge.f32 q9, q9, q5
  vacge.f32 q10, q10, q5
  vacge.f32 q11, q11, q5
  vacge.f32 q12, q12, q5
  vacge.f32 q13, q13, q5
  vacge.f32 q14, q14, q5
  vacge.f32 q15, q15, q5
  vand q8, q8, q9
  vand q10, q10, q11
  vand q12, q12, q13
  vand q14, q14, q15
  vand q8, q8, q10
  vand q12, q12, q14
  vand q6, q6, q8
  vand q6, q6, q12
  subs COUNT, COUNT, #1
  bne .L\name\()_check
  vpmin.u32 d0, d12, d13
  vmov BASE, COUNT, d0
  and BASE, BASE, COUNT
  cmn BASE, #1                    // all-ones: every residual passed
  bne .L\name\()_refused
.L\name\()_checked:
.endif
  ldr COUNT, [sp, #ARG_BASES]
  ldr BASE, [COUNT], #4
  str COUNT, [sp, #ARG_BASES]
  ldr COUNT, [sp, #ARG_UNITS]
.L\name\()_unit:
  irnet_a32_act_half 0, \store_float, \bits, \residual, \select
  irnet_a32_act_half 1, \store_float, \bits, \residual, \select
.if \residual
  cmp RES, RES_END
  subeq RES, RES, RES_BYTES
.endif
  subs COUNT, COUNT, #1
  bne .L\name\()_unit
.if \bits
  ldr COUNT, [sp, #ARG_UNITS]
  tst COUNT, #1
  movne COUNT, #0
  strne COUNT, [BITS], #4
  ldr COUNT, [sp, #ARG_BITS_SKIP]
  add BITS, BITS, COUNT
.endif
  ldr COUNT, [sp, #ARG_ROW_SKIP]
  add POP, POP, COUNT
.if \store_float
  add Y, Y, COUNT
.endif
  ldr COUNT, [sp, #ARG_ROWS]
  subs COUNT, COUNT, #1
  str COUNT, [sp, #ARG_ROWS]
  bne .L\name\()_row
  ldr r0, [sp, #FRAME_ALL_ROWS]
.L\name\()_return:
  add sp, sp, #FRAME_BYTES
  vpop {d8-d15}
  pop {r4-r11, pc}
.if \residual
.L\name\()_refused:               // rows done: all rows - rows left (this one included)
  ldr r0, [sp, #FRAME_ALL_ROWS]
  ldr r1, [sp, #ARG_ROWS]
  sub r0, r0, r1
  b .L\name\()_return
.endif
  .size \name, .-\name
.endm

irnet_a32_act_rows irnet_bconv_epilogue_act_rows_fb_r_max_neon_a32, 1, 1, 1, 0
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_fb_r_sel_neon_a32, 1, 1, 1, 1
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_fb_n_max_neon_a32, 1, 1, 0, 0
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_fb_n_sel_neon_a32, 1, 1, 0, 1
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_f_r_max_neon_a32, 1, 0, 1, 0
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_f_r_sel_neon_a32, 1, 0, 1, 1
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_f_n_max_neon_a32, 1, 0, 0, 0
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_f_n_sel_neon_a32, 1, 0, 0, 1
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_b_r_max_neon_a32, 0, 1, 1, 0
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_b_r_sel_neon_a32, 0, 1, 1, 1
// Bits without residual: slopes in (0, 1] take the integer threshold rows instead.
irnet_a32_act_rows irnet_bconv_epilogue_act_rows_b_n_sel_neon_a32, 0, 1, 0, 1

  .section .note.GNU-stack,"",%progbits
