// irnet_bgemm4x2_column_neon_a32: the full 4x2 tiles of the ARMv7 NEON
// xor-popcount GEMM (bgemm/arm32/bgemm_neon_a32.cc explains the arithmetic and
// runs the edge tiles and K = 1 with intrinsics).
//
// void irnet_bgemm4x2_column_neon_a32(const BitWord* a, size_t lda_bytes,
//                                     const BitWord* b, size_t ldb_bytes,
//                                     size_t K, int32_t* c, size_t ldc_bytes,
//                                     size_t tiles, size_t panels);   K >= 2
// panels >= 1 column panels of tiles >= 1 full 4x2 tiles each: tile t of panel
// p is C[4t..4t+3][2p..2p+1] over rows a + (4t + m) * lda and b + (2p + n) *
// ldb. One call for all of them keeps the register saves and the blocking
// loop out of the per-tile path: a tile's set-up is its row and C pointers
// from the frame. In assembly because gcc's code for the tile from
// intrinsics spilled row pointers and computed addresses with NEON
// multiplies. Chunks of 2..62 words (a chunk that would leave a single word
// behind takes 61); per full step the six rows are loaded with post-increment
// and the 8 pairs take eor, vcnt and vadd (the first step of a chunk counts
// straight into the accumulators, the others run four per loop iteration); an
// odd last word runs the same on d registers into the accumulators' low
// halves. The reduction is the tree of bgemm_neon_a32.cc's header, widened
// into C (stored by the first chunk, added to by the next ones).
// Assembled in ARM state (the step loop's computed branch counts on 4-byte
// instructions).
//
// Register map inside a tile (r4-r11 and d8-d15 are callee-saved and restored;
// r0-r3 hold the arguments a, lda, b, ldb on entry, the rest are on the
// stack; the loop state lives in the frame below):
#define A_ROW0           r0   // activation rows
#define A_ROW1           r4
#define A_ROW2           r5
#define A_ROW3           r6
#define B_ROW0           r2   // weight rows
#define B_ROW1           r7
#define C_ROW0           r1   // c: row 0 of the tile in C
#define LDC              r3
#define WORDS_LEFT       r8
#define CHUNK_WORDS      r9   // words of the chunk
#define STEPS_LEFT       r10  // 2-word steps left in the chunk
#define NOT_FIRST_CHUNK  r11  // 0 in the first chunk (which stores C), then 1 (adds to C)
#define C_ROW            ip   // rows 1-3 of the tile in C
#define TMP              lr
// The frame: the loop state at sp + FRAME_*, the stacked arguments above the
// 9 + 16 words that push and vpush saved.
#define FRAME_LDA        0    // lda_bytes
#define FRAME_LDB        4    // ldb_bytes
#define FRAME_A_TILE     8    // row 0 of the next tile in A
#define FRAME_TILES_LEFT 12   // tiles of the panel not started yet
#define FRAME_B_PANEL    16   // row 0 of the panel in B
#define FRAME_C_PANEL    20   // C of the panel's first tile
#define FRAME_A          24   // a
#define FRAME_C_TILE     28   // C of the next tile
#define FRAME_PANELS     32   // panels not finished yet
#define FRAME_BYTES      44   // one word of padding: 36 + 64 + 44 keeps sp 8-byte aligned
#define ARG_K            (FRAME_BYTES + 100)
#define ARG_C            (FRAME_BYTES + 104)
#define ARG_LDC          (FRAME_BYTES + 108)
#define ARG_TILES        (FRAME_BYTES + 112)
#define ARG_PANELS       (FRAME_BYTES + 116)
// NEON: q0-q3 activation data, q4-q5 weight data, q6-q7 temporaries, q8-q15
// the accumulators (pair 2m + n in q(8 + 2m + n)).

  .syntax unified
  .arch armv7-a
  .fpu neon
  .arm

// One full step's data: a_m in q(m), b_n in q(4 + n); the rows move past it.
.macro irnet_a32_load_step
  vld1.64 {d0-d1}, [A_ROW0]!
  vld1.64 {d8-d9}, [B_ROW0]!
  vld1.64 {d2-d3}, [A_ROW1]!
  vld1.64 {d4-d5}, [A_ROW2]!
  vld1.64 {d6-d7}, [A_ROW3]!
  vld1.64 {d10-d11}, [B_ROW1]!
.endm

// The 8 pairs' counts added to their accumulators, on q registers (kind q: a
// full step) or on their low halves (kind d: the odd last word; d(2i) is the
// low half of q(i)).
.macro irnet_a32_add_counts kind
.ifc \kind, q
  irnet_a32_add_counts_on q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q10, q11, q12, q13, q14, q15
.else
  irnet_a32_add_counts_on d0, d2, d4, d6, d8, d10, d12, d14, d16, d18, d20, d22, d24, d26, d28, d30
.endif
.endm
// a_m in a(m), b_n in b(n), temporaries t0, t1, the accumulator of pair (m, n)
// in c(8 + 2m + n).
.macro irnet_a32_add_counts_on a0, a1, a2, a3, b0, b1, t0, t1, c8, c9, c10, c11, c12, c13, c14, c15
  veor \t0, \a0, \b0
  veor \t1, \a1, \b0
  vcnt.8 \t0, \t0
  vcnt.8 \t1, \t1
  vadd.i8 \c8, \c8, \t0
  veor \t0, \a2, \b0
  vadd.i8 \c10, \c10, \t1
  veor \t1, \a3, \b0
  vcnt.8 \t0, \t0
  vcnt.8 \t1, \t1
  vadd.i8 \c12, \c12, \t0
  veor \t0, \a0, \b1
  vadd.i8 \c14, \c14, \t1
  veor \t1, \a1, \b1
  vcnt.8 \t0, \t0
  vcnt.8 \t1, \t1
  vadd.i8 \c9, \c9, \t0
  veor \t0, \a2, \b1
  vadd.i8 \c11, \c11, \t1
  veor \t1, \a3, \b1
  vcnt.8 \t0, \t0
  vcnt.8 \t1, \t1
  vadd.i8 \c13, \c13, \t0
  vadd.i8 \c15, \c15, \t1
.endm

// The four rows of the tile in C (d0-d3, two columns each), loaded or stored by op.
.macro irnet_a32_c_rows op
  \op {d0}, [C_ROW0]
  add C_ROW, C_ROW0, LDC
  \op {d1}, [C_ROW]
  add C_ROW, C_ROW, LDC
  \op {d2}, [C_ROW]
  add C_ROW, C_ROW, LDC
  \op {d3}, [C_ROW]
.endm

  .text
  .p2align 4
  .global irnet_bgemm4x2_column_neon_a32
  .hidden irnet_bgemm4x2_column_neon_a32
  .type irnet_bgemm4x2_column_neon_a32, %function
irnet_bgemm4x2_column_neon_a32:
  push {r4-r11, lr}
  vpush {d8-d15}
  sub sp, sp, #FRAME_BYTES
  str r1, [sp, #FRAME_LDA]
  str r3, [sp, #FRAME_LDB]
  str r0, [sp, #FRAME_A]
  str r2, [sp, #FRAME_B_PANEL]
  ldr TMP, [sp, #ARG_C]
  str TMP, [sp, #FRAME_C_PANEL]
  ldr TMP, [sp, #ARG_PANELS]
  str TMP, [sp, #FRAME_PANELS]
.Lirnet_a32_panel:
  ldr TMP, [sp, #ARG_TILES]
  str TMP, [sp, #FRAME_TILES_LEFT]
  ldr TMP, [sp, #FRAME_A]
  str TMP, [sp, #FRAME_A_TILE]
  ldr TMP, [sp, #FRAME_C_PANEL]
  str TMP, [sp, #FRAME_C_TILE]
.Lirnet_a32_tile:
  ldr A_ROW0, [sp, #FRAME_A_TILE]
  ldr TMP, [sp, #FRAME_LDA]
  add A_ROW1, A_ROW0, TMP
  add A_ROW2, A_ROW1, TMP
  add A_ROW3, A_ROW2, TMP
  add C_ROW, A_ROW3, TMP           // the next tile's row 0
  str C_ROW, [sp, #FRAME_A_TILE]
  ldr B_ROW0, [sp, #FRAME_B_PANEL]
  ldr TMP, [sp, #FRAME_LDB]
  add B_ROW1, B_ROW0, TMP
  ldr WORDS_LEFT, [sp, #ARG_K]
  ldr C_ROW0, [sp, #FRAME_C_TILE]
  ldr LDC, [sp, #ARG_LDC]
  add C_ROW, C_ROW0, LDC, lsl #2   // the next tile's C, 4 rows down
  str C_ROW, [sp, #FRAME_C_TILE]
  mov NOT_FIRST_CHUNK, #0
.Lirnet_a32_chunk:
  mov CHUNK_WORDS, WORDS_LEFT
  cmp WORDS_LEFT, #62
  bls .Lirnet_a32_sized
  mov CHUNK_WORDS, #62
  sub TMP, WORDS_LEFT, #62
  cmp TMP, #1
  bne .Lirnet_a32_sized
  mov CHUNK_WORDS, #61
.Lirnet_a32_sized:
  lsr STEPS_LEFT, CHUNK_WORDS, #1
  irnet_a32_load_step
  veor q6, q0, q4
  veor q7, q1, q4
  vcnt.8 q8, q6
  veor q6, q2, q4
  vcnt.8 q10, q7
  veor q7, q3, q4
  vcnt.8 q12, q6
  veor q6, q0, q5
  vcnt.8 q14, q7
  veor q7, q1, q5
  vcnt.8 q9, q6
  veor q6, q2, q5
  vcnt.8 q11, q7
  veor q7, q3, q5
  vcnt.8 q13, q6
  vcnt.8 q15, q7
  subs STEPS_LEFT, STEPS_LEFT, #1   // S: the full steps after the first
  beq .Lirnet_a32_full_done
  // Four steps per loop iteration (the loop's subs and bne paid once per
  // four). The first iteration enters the body at step (-S) mod 4, so the
  // loop runs ceil(S / 4) times: a computed branch, ARM state only (each step
  // is 30 four-byte instructions).
  rsb TMP, STEPS_LEFT, #0
  and TMP, TMP, #3                  // the steps the first iteration skips
  add STEPS_LEFT, STEPS_LEFT, #3
  lsr STEPS_LEFT, STEPS_LEFT, #2    // now the loop iterations
  rsb TMP, TMP, TMP, lsl #4         // 15 * skipped, then * 8: 120 bytes a step
  add pc, pc, TMP, lsl #3           // pc reads as this instruction + 8
  nop
.Lirnet_a32_steps:
  irnet_a32_load_step
  irnet_a32_add_counts q
.Lirnet_a32_second_step:
  irnet_a32_load_step
  irnet_a32_add_counts q
  irnet_a32_load_step
  irnet_a32_add_counts q
  irnet_a32_load_step
  irnet_a32_add_counts q
  .if .Lirnet_a32_second_step - .Lirnet_a32_steps - 120
  .error "a step is not 120 bytes: the computed branch above would land mid-step"
  .endif
  subs STEPS_LEFT, STEPS_LEFT, #1
  bne .Lirnet_a32_steps
.Lirnet_a32_full_done:
  tst CHUNK_WORDS, #1
  beq .Lirnet_a32_reduce
  vld1.64 {d0}, [A_ROW0]!
  vld1.64 {d8}, [B_ROW0]!
  vld1.64 {d2}, [A_ROW1]!
  vld1.64 {d4}, [A_ROW2]!
  vld1.64 {d6}, [A_ROW3]!
  vld1.64 {d10}, [B_ROW1]!
  irnet_a32_add_counts d
.Lirnet_a32_reduce:
  vpaddl.u8 q8, q8
  vpaddl.u8 q9, q9
  vpaddl.u8 q10, q10
  vpaddl.u8 q11, q11
  vpaddl.u8 q12, q12
  vpaddl.u8 q13, q13
  vpaddl.u8 q14, q14
  vpaddl.u8 q15, q15
  vadd.i16 d16, d16, d17
  vadd.i16 d18, d18, d19
  vadd.i16 d20, d20, d21
  vadd.i16 d22, d22, d23
  vadd.i16 d24, d24, d25
  vadd.i16 d26, d26, d27
  vadd.i16 d28, d28, d29
  vadd.i16 d30, d30, d31
  vpadd.i16 d0, d16, d18
  vpadd.i16 d1, d20, d22
  vpadd.i16 d2, d24, d26
  vpadd.i16 d3, d28, d30
  vpadd.i16 d4, d0, d1
  vpadd.i16 d5, d2, d3
  cmp NOT_FIRST_CHUNK, #0
  bne .Lirnet_a32_add_to_c
  vmovl.u16 q0, d4
  vmovl.u16 q1, d5
  b .Lirnet_a32_store
.Lirnet_a32_add_to_c:
  irnet_a32_c_rows vld1.32
  vaddw.u16 q0, q0, d4
  vaddw.u16 q1, q1, d5
.Lirnet_a32_store:
  irnet_a32_c_rows vst1.32
  mov NOT_FIRST_CHUNK, #1
  subs WORDS_LEFT, WORDS_LEFT, CHUNK_WORDS
  bne .Lirnet_a32_chunk
  ldr TMP, [sp, #FRAME_TILES_LEFT]
  subs TMP, TMP, #1
  str TMP, [sp, #FRAME_TILES_LEFT]
  bne .Lirnet_a32_tile
  ldr TMP, [sp, #FRAME_PANELS]
  subs TMP, TMP, #1
  beq .Lirnet_a32_return
  str TMP, [sp, #FRAME_PANELS]
  ldr TMP, [sp, #FRAME_B_PANEL]    // the next panel: 2 rows of B on, 2 columns of C right
  ldr C_ROW, [sp, #FRAME_LDB]
  add TMP, TMP, C_ROW, lsl #1
  str TMP, [sp, #FRAME_B_PANEL]
  ldr TMP, [sp, #FRAME_C_PANEL]
  add TMP, TMP, #8
  str TMP, [sp, #FRAME_C_PANEL]
  b .Lirnet_a32_panel
.Lirnet_a32_return:
  add sp, sp, #FRAME_BYTES
  vpop {d8-d15}
  pop {r4-r11, pc}
  .size irnet_bgemm4x2_column_neon_a32, .-irnet_bgemm4x2_column_neon_a32

  .section .note.GNU-stack,"",%progbits
