// irnet_bgemm_short_k2_K_neon_a32, K = 5..10 words: the short-K panels of two
// weight rows (bgemm/bgemm_short_k_neon.h, run_panels<K, 2>, whose header
// comment gives the arithmetic) in assembly for ARMv7.
//
// void irnet_bgemm_short_k2_K_neon_a32(size_t M, size_t panels, const BitWord* a,
//                                      size_t lda_bytes, const BitWord* b, size_t ldb_bytes,
//                                      int32_t* c, size_t ldc_bytes);
// C[m][2p + n] = popcount(a_m ^ b_(2p+n)) over K words, m < M (>= 1), p < panels (>= 1).
//
// Why: from intrinsics gcc computed every load address of a row with an add
// (ARMv7 vector loads have no immediate offset), loaded the row one q register
// at a time and swapped the two halves of the reduction into place. Here a
// row streams through q0-q1 two steps per post-increment load, and its two
// columns reduce on d registers: per row the loads, 6 instructions per 128-bit
// step (4 in the first: eor, vcnt, and vadd from the second step on, per
// column), 5 for an odd last word, 6 for the reduction and store, 3 for the
// loop. Bytes stay below 256: an accumulator byte is at most 8 * (K / 2) + 8
// <= 48, after the two vpadd levels 192.
//
// Registers: q0-q1 the row's steps, q2 / q3 the accumulators of columns 0 / 1,
// q4 a temporary, q5 the odd word (d10 the row's, then the two columns'
// counts in d10 / d11), q6-q10 column 0's steps, q11-q15 column 1's (so K / 2
// <= 5), the two odd words in d20 / d21 (column 0's step-4 slot, free for
// K <= 9). Assembled in ARM state.
#define ARG_B      100  // the stacked arguments above the 9 + 16 words that
#define ARG_LDB    104  // push and vpush saved
#define ARG_C      108
#define ARG_LDC    112
#define ROWS       r0   // M, then the rows left in the panel
#define PANELS     r1
#define A_BASE     r2
#define ROW_STEP   r3   // lda_bytes - 8 * K: from a row's end to the next row
#define B_PANEL    r4
#define LDB        r5
#define C_PANEL    r6
#define LDC        r7
#define A_WORD     r8
#define C_ROW      r9
#define B_ROW      r10
#define M_ROWS     r11

  .syntax unified
  .arch armv7-a
  .fpu neon
  .arm

// The first step of a row: the accumulators are the counts of a ^ w0, a ^ w1.
.macro irnet_k2_first_step a, w0, w1
  veor q2, \a, \w0
  veor q3, \a, \w1
  vcnt.8 q2, q2
  vcnt.8 q3, q3
.endm

// A further step (a is overwritten: its last use).
.macro irnet_k2_step a, w0, w1
  veor q4, \a, \w0
  veor \a, \a, \w1
  vcnt.8 q4, q4
  vcnt.8 \a, \a
  vadd.i8 q2, q2, q4
  vadd.i8 q3, q3, \a
.endm

// Step s of a row (its a already loaded into q(s % 2)).
.macro irnet_k2_step_at s
.if \s == 0
  irnet_k2_first_step q0, q6, q11
.elseif \s == 1
  irnet_k2_step q1, q7, q12
.elseif \s == 2
  irnet_k2_step q0, q8, q13
.elseif \s == 3
  irnet_k2_step q1, q9, q14
.else
  irnet_k2_step q0, q10, q15
.endif
.endm

// The K / 2 steps of a weight row from B_ROW into the registers listed.
.macro irnet_k2_load_weights K, w0, w1, w2, w3, w4
  .set irnet_k2_step_index, 0
  .irp w, \w0, \w1, \w2, \w3, \w4
  .if irnet_k2_step_index < \K / 2
  vld1.64 {\w}, [B_ROW]!
  .endif
  .set irnet_k2_step_index, irnet_k2_step_index + 1
  .endr
.endm

.macro irnet_k2_routine K
  .text
  .p2align 4
  .global irnet_bgemm_short_k2_\K\()_neon_a32
  .hidden irnet_bgemm_short_k2_\K\()_neon_a32
  .type irnet_bgemm_short_k2_\K\()_neon_a32, %function
irnet_bgemm_short_k2_\K\()_neon_a32:
  .if \K / 2 > 5 || (\K % 2 && \K / 2 > 4)
  .error "the weights of two columns do not fit q6-q15"
  .endif
  push {r4-r11, lr}
  vpush {d8-d15}
  ldr B_PANEL, [sp, #ARG_B]
  ldr LDB, [sp, #ARG_LDB]
  ldr C_PANEL, [sp, #ARG_C]
  ldr LDC, [sp, #ARG_LDC]
  mov M_ROWS, ROWS
  sub ROW_STEP, ROW_STEP, #8 * \K
.Lirnet_k2_\K\()_panel:
  // The panel's two weight rows into q6-q15 (odd words into d20 / d21).
  mov B_ROW, B_PANEL
  irnet_k2_load_weights \K, q6, q7, q8, q9, q10
  .if \K % 2
  vld1.64 {d20}, [B_ROW]
  .endif
  add B_ROW, B_PANEL, LDB
  irnet_k2_load_weights \K, q11, q12, q13, q14, q15
  .if \K % 2
  vld1.64 {d21}, [B_ROW]
  .endif
  mov A_WORD, A_BASE
  mov C_ROW, C_PANEL
  mov ROWS, M_ROWS
.Lirnet_k2_\K\()_row:
  .irp s, 0, 1, 2, 3, 4
  .if \s < \K / 2
  .if \s % 2 == 0
  .if \s + 1 < \K / 2
  vld1.64 {d0-d3}, [A_WORD]!       // steps s and s + 1
  .else
  vld1.64 {d0-d1}, [A_WORD]!
  .endif
  .endif
  irnet_k2_step_at \s
  .endif
  .endr
  .if \K % 2
  vld1.64 {d10}, [A_WORD]!         // the odd word against both columns' at once
  veor d11, d10, d21
  veor d10, d10, d20
  vcnt.8 q5, q5
  vadd.i8 d4, d4, d10
  vadd.i8 d6, d6, d11
  .endif
  vpadd.i8 d4, d4, d5              // column 0: 4 bytes
  vpadd.i8 d6, d6, d7              // column 1: 4 bytes
  vpadd.i8 d4, d4, d6              // column 0 in bytes 0-3, column 1 in 4-7
  vpaddl.u8 d4, d4
  vpaddl.u16 d4, d4
  vst1.32 {d4}, [C_ROW], LDC
  add A_WORD, A_WORD, ROW_STEP
  subs ROWS, ROWS, #1
  bne .Lirnet_k2_\K\()_row
  add B_PANEL, B_PANEL, LDB, lsl #1
  add C_PANEL, C_PANEL, #8
  subs PANELS, PANELS, #1
  bne .Lirnet_k2_\K\()_panel
  vpop {d8-d15}
  pop {r4-r11, pc}
  .size irnet_bgemm_short_k2_\K\()_neon_a32, .-irnet_bgemm_short_k2_\K\()_neon_a32
.endm

  irnet_k2_routine 5
  irnet_k2_routine 6
  irnet_k2_routine 7
  irnet_k2_routine 8
  irnet_k2_routine 9
  irnet_k2_routine 10

  .section .note.GNU-stack,"",%progbits
