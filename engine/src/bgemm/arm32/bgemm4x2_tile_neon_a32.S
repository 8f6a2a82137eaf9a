// irnet_bgemm4x2_tile_neon_a32: the full 4x2 tile of the ARMv7 NEON
// xor-popcount GEMM (bgemm/arm32/bgemm_neon_a32.cc explains the arithmetic and
// runs the edge tiles and K = 1 with intrinsics).
//
// void irnet_bgemm4x2_tile_neon_a32(const BitWord* a, size_t lda_bytes,
//                                   const BitWord* b, size_t ldb_bytes,
//                                   size_t K, int32_t* c, size_t ldc_bytes);   K >= 2
// The full 4x2 tile in assembly (gcc's code for it from intrinsics spilled row
// pointers and computed addresses with NEON multiplies). Chunks of 2..62 words
// (a chunk that would leave a single word behind takes 61); per full step the
// six rows are loaded with post-increment and the 8 pairs take eor, vcnt and
// vadd (the first step of a chunk counts straight into the accumulators); an
// odd last word runs the same on d registers into the accumulators' low
// halves. The reduction is the tree of bgemm_neon_a32.cc's header, widened
// into C (stored by the first chunk, added to by the next ones).
// Only unconditional or branch-based instructions, so the routine assembles
// the same in ARM and Thumb-2 state; it is assembled in ARM state.
//
// Register map (r4-r11 and d8-d15 are callee-saved and restored; r0-r3 hold
// the arguments a, lda, b, ldb on entry, K, c and ldc are on the stack):
#define ARG_LDA          r1
#define ARG_LDB          r3
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
// NEON: q0-q3 activation data, q4-q5 weight data, q6-q7 temporaries, q8-q15
// the accumulators (pair 2m + n in q(8 + 2m + n)).

  .syntax unified
  .arch armv7-a
  .fpu neon
  .arm
  .text
  .p2align 4
  .global irnet_bgemm4x2_tile_neon_a32
  .hidden irnet_bgemm4x2_tile_neon_a32
  .type irnet_bgemm4x2_tile_neon_a32, %function
irnet_bgemm4x2_tile_neon_a32:
  push {r4-r11, lr}
  vpush {d8-d15}
  add A_ROW1, A_ROW0, ARG_LDA
  add A_ROW2, A_ROW1, ARG_LDA
  add A_ROW3, A_ROW2, ARG_LDA
  add B_ROW1, B_ROW0, ARG_LDB
  ldr WORDS_LEFT, [sp, #100]       // K, c and ldc: the stacked arguments, above the
  ldr C_ROW0, [sp, #104]           // 9 + 16 words saved by push and vpush
  ldr LDC, [sp, #108]
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
  vld1.64 {d0-d1}, [A_ROW0]!
  vld1.64 {d8-d9}, [B_ROW0]!
  vld1.64 {d2-d3}, [A_ROW1]!
  vld1.64 {d4-d5}, [A_ROW2]!
  vld1.64 {d6-d7}, [A_ROW3]!
  vld1.64 {d10-d11}, [B_ROW1]!
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
  subs STEPS_LEFT, STEPS_LEFT, #1
  beq .Lirnet_a32_full_done
.Lirnet_a32_step:
  vld1.64 {d0-d1}, [A_ROW0]!
  vld1.64 {d8-d9}, [B_ROW0]!
  vld1.64 {d2-d3}, [A_ROW1]!
  vld1.64 {d4-d5}, [A_ROW2]!
  vld1.64 {d6-d7}, [A_ROW3]!
  vld1.64 {d10-d11}, [B_ROW1]!
  veor q6, q0, q4
  veor q7, q1, q4
  vcnt.8 q6, q6
  vcnt.8 q7, q7
  vadd.i8 q8, q8, q6
  veor q6, q2, q4
  vadd.i8 q10, q10, q7
  veor q7, q3, q4
  vcnt.8 q6, q6
  vcnt.8 q7, q7
  vadd.i8 q12, q12, q6
  veor q6, q0, q5
  vadd.i8 q14, q14, q7
  veor q7, q1, q5
  vcnt.8 q6, q6
  vcnt.8 q7, q7
  vadd.i8 q9, q9, q6
  veor q6, q2, q5
  vadd.i8 q11, q11, q7
  veor q7, q3, q5
  vcnt.8 q6, q6
  vcnt.8 q7, q7
  vadd.i8 q13, q13, q6
  vadd.i8 q15, q15, q7
  subs STEPS_LEFT, STEPS_LEFT, #1
  bne .Lirnet_a32_step
.Lirnet_a32_full_done:
  tst CHUNK_WORDS, #1
  beq .Lirnet_a32_reduce
  vld1.64 {d0}, [A_ROW0]!
  vld1.64 {d8}, [B_ROW0]!
  vld1.64 {d2}, [A_ROW1]!
  vld1.64 {d4}, [A_ROW2]!
  vld1.64 {d6}, [A_ROW3]!
  vld1.64 {d10}, [B_ROW1]!
  veor d12, d0, d8
  veor d14, d2, d8
  vcnt.8 d12, d12
  vcnt.8 d14, d14
  vadd.i8 d16, d16, d12
  veor d12, d4, d8
  vadd.i8 d20, d20, d14
  veor d14, d6, d8
  vcnt.8 d12, d12
  vcnt.8 d14, d14
  vadd.i8 d24, d24, d12
  veor d12, d0, d10
  vadd.i8 d28, d28, d14
  veor d14, d2, d10
  vcnt.8 d12, d12
  vcnt.8 d14, d14
  vadd.i8 d18, d18, d12
  veor d12, d4, d10
  vadd.i8 d22, d22, d14
  veor d14, d6, d10
  vcnt.8 d12, d12
  vcnt.8 d14, d14
  vadd.i8 d26, d26, d12
  vadd.i8 d30, d30, d14
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
  vld1.32 {d0}, [C_ROW0]
  add C_ROW, C_ROW0, LDC
  vld1.32 {d1}, [C_ROW]
  add C_ROW, C_ROW, LDC
  vld1.32 {d2}, [C_ROW]
  add C_ROW, C_ROW, LDC
  vld1.32 {d3}, [C_ROW]
  vaddw.u16 q0, q0, d4
  vaddw.u16 q1, q1, d5
.Lirnet_a32_store:
  vst1.32 {d0}, [C_ROW0]
  add C_ROW, C_ROW0, LDC
  vst1.32 {d1}, [C_ROW]
  add C_ROW, C_ROW, LDC
  vst1.32 {d2}, [C_ROW]
  add C_ROW, C_ROW, LDC
  vst1.32 {d3}, [C_ROW]
  mov NOT_FIRST_CHUNK, #1
  subs WORDS_LEFT, WORDS_LEFT, CHUNK_WORDS
  bne .Lirnet_a32_chunk
  vpop {d8-d15}
  pop {r4-r11, pc}
  .size irnet_bgemm4x2_tile_neon_a32, .-irnet_bgemm4x2_tile_neon_a32

  .section .note.GNU-stack,"",%progbits
