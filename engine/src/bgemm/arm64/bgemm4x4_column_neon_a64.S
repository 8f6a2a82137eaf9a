// irnet_bgemm4x4_column_neon_a64: the full 4x4 tiles of the AArch64 NEON
// xor-popcount GEMM (bgemm/arm64/bgemm_neon_a64.cc explains the arithmetic:
// the u8 accumulation with addp, the chunking of K against overflow and the
// reduction; edge tiles and K < 4 words run the intrinsics there).
//
// void irnet_bgemm4x4_column_neon_a64(const BitWord* a, size_t lda_bytes,
//                                     const BitWord* b, size_t ldb_bytes, size_t K,
//                                     int32_t* c, size_t ldc_bytes, size_t tiles,
//                                     size_t panels);
// panels >= 1 column panels of tiles >= 1 full 4x4 tiles each: tile t of panel
// p covers C rows 4t..4t+3, columns 4p..4p+3, c[m * ldc + n] = popcount sums
// over K >= 4 words of rows a + m * lda and b + n * ldb. The panels run one
// after the other (A is re-read from its start for each), in one call: the
// setup below and the saving of registers are paid once per bgemm, not once
// per panel of 4 weight rows.
//
// Register map. General registers (x19-x28 and d8-d15 are callee-saved and
// restored; x0-x4 hold the arguments a, lda, b, ldb, K on entry, x9 the
// stacked panels until the row pointers are set):
#define ARG_A            x0
#define ARG_LDA          x1
#define ARG_B            x2
#define ARG_LDB          x3
#define ARG_K            x4
#define L_MOD4           x0   // the first chunk's L mod 4, while its tail is picked
#define A_NEXT_TILE      x0   // K >= 32: 4 lda - K's bytes, the A rows' step to the next tile
#define LDA4             x1   // 4 lda: the A rows' step to the next tile
#define FIRST_CHUNK      x2   // the first chunk's L words; for K >= 32 then its bytes
#define FULL_CHUNKS      x3   // f, the full chunks after the first
#define TMP              x4   // scratch of the step to the next panel
#define C_TILE           x5   // C of the current tile
#define LDC              x6
#define TILES_LEFT       x7   // tiles left in the panel
#define A_ROW0           x8   // A / B row pointers at the current chunk
#define A_ROW1           x9
#define A_ROW2           x10
#define A_ROW3           x11
#define B_ROW0           x12
#define B_ROW1           x13
#define B_ROW2           x14
#define B_ROW3           x15
#define STEP_OFFSET      x16  // byte offset of the first chunk's 2-word step
#define ODD_OFFSET       x17  // byte offset of the first chunk's odd word
#define B1_ODD_WORD      x19  // the odd words of b_1 / b_3
#define LDC2             x20  // 2 ldc
#define LDC3             x21  // 3 ldc
#define B3_ODD_WORD      x22
#define TAIL             x23  // the first chunk's tail routine
#define CHUNKS_LEFT      x24  // full chunks left in the tile
#define TAIL_CANDIDATE   x24  // scratch while the tail is picked
#define K_BYTES          x25  // K's bytes: the rows' travel in a tile
#define DOUBLE_STEPS_BIT x26  // 1 << (the first chunk's double steps)
#define PANELS_LEFT      x27
#define TILES_PER_PANEL  x28
// Vector registers: a_m of steps s = 0, 1 in v(2m + s), b_n in v(8 + 2n + s),
// acc[m][h] in v(16 + 2m + h), temporaries v24-v31 (the macros compute these
// numbers from the couple and slot indices below).
//
// A chunk's double steps are unrolled (at most 7), so their loads use
// immediate offsets from the chunk's row pointers: no pointer updates in the
// hot path (in LLVM's Cortex-A53 model a post-indexed load also stalls the
// in-order pipe for several cycles). The first double step runs first, then
// the next ones up to the last, which is entered by a bit test of DOUBLE_STEPS_BIT.
//
// K >= 4 words: the caller runs shorter K with intrinsics. The plan of the
// first chunk (the registers above) is made once per call. K < 32 words
// (every layer up to 256 channels) is that chunk only: the B row pointers
// never move, and a tile costs its arithmetic, its loads, the reduction, 4
// stores, 7 pointer/loop instructions and the branches of its double steps
// and tail. K >= 32: after the first chunk (stored) the rows move past it and
// the full chunks run in a branch-free loop body (7 double steps, the
// reduction, C read, added, written; rows moved 224 bytes); then the rows go
// back (B) or on (A) to the next tile. After a panel, the A and C pointers
// step back by the panel's tiles (msub) and C and B move to the next 4
// columns.
//
// Schedule of a double step. Its 32 (pair, step) counts form 16 couples
// c = 8h + 2m + s, each = the pairs (m, 2h) and (m, 2h + 1) of step s:
//   E(c): 2 eor, C(c): 2 cnt, P(c): addp, A(c): add into acc[m][h],
// with temporaries v(24 + 2q), v(25 + 2q), q = c mod 4. Slot k holds E(k),
// C(k - 1), P(k - 2), A(k - 3) (in that order), so each result is read 6-8
// instructions after it is written (Cortex-A53 is in order; NEON results take
// 6 cycles in LLVM's model). Slots 0-2 finish couples 13-15 of the previous
// double step; after the last one, slots 16-18 drain them. In the first double
// step of a chunk, the s = 0 couples c < 13 write their addp straight into the
// accumulator (no add); acc[3][1] (first touched by couple 14) is zeroed.
// Loads for the next double step follow the last read of their registers:
// b_0, b_1 after slot 7, a_m after slot 9 + 2m, b_2, b_3 after slot 15, each at
// least 7 slots before its first use; the last double step loads nothing, so
// no row is read past its K words.

.altmacro

.macro irnet_a64_eor2 t0, t1, a, b0, b1
  eor v\t0\().16b, v\a\().16b, v\b0\().16b
  eor v\t1\().16b, v\a\().16b, v\b1\().16b
.endm

.macro irnet_a64_cnt2 t0, t1
  cnt v\t0\().16b, v\t0\().16b
  cnt v\t1\().16b, v\t1\().16b
.endm

.macro irnet_a64_addp dst, t0, t1
  addp v\dst\().16b, v\t0\().16b, v\t1\().16b
.endm

.macro irnet_a64_acc acc, t
  add v\acc\().16b, v\acc\().16b, v\t\().16b
.endm

// Couple c (0-15, see above) with temporaries q (0-3).
.macro irnet_a64_E c, q
  irnet_a64_eor2 %(24 + 2 * (\q)), %(25 + 2 * (\q)), %((\c) % 8), %(8 + 4 * ((\c) / 8) + (\c) % 2), %(10 + 4 * ((\c) / 8) + (\c) % 2)
.endm
.macro irnet_a64_C q
  irnet_a64_cnt2 %(24 + 2 * (\q)), %(25 + 2 * (\q))
.endm
// direct = 1: the addp initializes acc[m][h] (and there is no A).
.macro irnet_a64_P c, q, direct
.if \direct
  irnet_a64_addp %(16 + (\c) % 8 - (\c) % 2 + (\c) / 8), %(24 + 2 * (\q)), %(25 + 2 * (\q))
.else
  irnet_a64_addp %(24 + 2 * (\q)), %(24 + 2 * (\q)), %(25 + 2 * (\q))
.endif
.endm
.macro irnet_a64_A c, q
  irnet_a64_acc %(16 + (\c) % 8 - (\c) % 2 + (\c) / 8), %(24 + 2 * (\q))
.endm

// Slot k (0-18) of a double step; couples of the previous double step
// (k - j < 0) only when not first.
.macro irnet_a64_slot first, k
.if \k <= 15
  irnet_a64_E \k, %((\k) % 4)
.endif
.if (\k >= 1) && (\k <= 16)
  irnet_a64_C %((\k - 1) % 4)
.elseif (\k == 0) && (\first == 0)
  irnet_a64_C 3
.endif
.if (\k >= 2) && (\k <= 17)
.if \first && ((\k) % 2 == 0) && (\k <= 14)
  irnet_a64_P %(\k - 2), %((\k - 2) % 4), 1
.else
  irnet_a64_P %(\k - 2), %((\k - 2) % 4), 0
.endif
.elseif (\k < 2) && (\first == 0)
  irnet_a64_P %(\k + 14), %((\k + 14) % 4), 0
.endif
.if (\k >= 3) && (\k <= 18)
.if (\first == 0) || ((\k) % 2 == 0) || (\k > 15)
  irnet_a64_A %(\k - 3), %((\k - 3) % 4)
.endif
.elseif (\k < 3) && (\first == 0)
  irnet_a64_A %(\k + 13), %((\k + 13) % 4)
.endif
.endm

// Two 128-bit steps of a row (at byte offset off) into q(r), q(r + 1).
.macro irnet_a64_ldp2 r, row, off
  irnet_a64_ldp %(\r), %(\r + 1), \row, \off
.endm
.macro irnet_a64_ldp r0, r1, row, off
  ldp q\r0, q\r1, [\row, #\off]
.endm

// The 16 slots of a double step; load = 1: load the next double step from
// byte offset off of the row pointers. row3 = 1 (a full chunk's first double
// step): acc[3][1] zeroed and the previous chunk's row 3 (v30) stored after
// slot 0, before v30 is reused.
.macro irnet_a64_double first, load, off, row3=0
  irnet_a64_slot \first, 0
.if \row3
  movi v23.16b, #0
  str q30, [C_TILE, LDC3]
.endif
  irnet_a64_slot \first, 1
  irnet_a64_slot \first, 2
  irnet_a64_slot \first, 3
  irnet_a64_slot \first, 4
  irnet_a64_slot \first, 5
  irnet_a64_slot \first, 6
  irnet_a64_slot \first, 7
.if \load
  irnet_a64_ldp2 8, B_ROW0, \off
  irnet_a64_ldp2 10, B_ROW1, \off
.endif
  irnet_a64_slot \first, 8
  irnet_a64_slot \first, 9
.if \load
  irnet_a64_ldp2 0, A_ROW0, \off
.endif
  irnet_a64_slot \first, 10
  irnet_a64_slot \first, 11
.if \load
  irnet_a64_ldp2 2, A_ROW1, \off
.endif
  irnet_a64_slot \first, 12
  irnet_a64_slot \first, 13
.if \load
  irnet_a64_ldp2 4, A_ROW2, \off
.endif
  irnet_a64_slot \first, 14
  irnet_a64_slot \first, 15
.if \load
  irnet_a64_ldp2 6, A_ROW3, \off
  irnet_a64_ldp2 12, B_ROW2, \off
  irnet_a64_ldp2 14, B_ROW3, \off
.endif
.endm

// A chunk's first double step loaded, acc[3][1] zeroed (see the schedule).
.macro irnet_a64_chunk_start
  irnet_a64_ldp2 0, A_ROW0, 0
  irnet_a64_ldp2 8, B_ROW0, 0
  irnet_a64_ldp2 10, B_ROW1, 0
  irnet_a64_ldp2 2, A_ROW1, 0
  irnet_a64_ldp2 12, B_ROW2, 0
  irnet_a64_ldp2 14, B_ROW3, 0
  irnet_a64_ldp2 4, A_ROW2, 0
  irnet_a64_ldp2 6, A_ROW3, 0
  movi v23.16b, #0
.endm

// The d = 1..7 double steps of a chunk (DOUBLE_STEPS_BIT bit d set), accumulators from
// zero, up to the last one's slot 15 (the tail routine drains it). d = 1
// continues at one_double (placed out of the hot path by the caller:
// irnet_a64_one_double, then on to the same tail).
.macro irnet_a64_doubles one_double
  irnet_a64_chunk_start
  tbnz DOUBLE_STEPS_BIT, #1, \one_double
  irnet_a64_double 1, 1, 32
  tbnz DOUBLE_STEPS_BIT, #2, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 64
  tbnz DOUBLE_STEPS_BIT, #3, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 96
  tbnz DOUBLE_STEPS_BIT, #4, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 128
  tbnz DOUBLE_STEPS_BIT, #5, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 160
  tbnz DOUBLE_STEPS_BIT, #6, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 192
.Lirnet_a64_last_double\@:
  irnet_a64_double 0, 0, 0
.endm
// A full chunk (28 words) of a tile, accumulators from zero, as a loop body
// with its row 3 left pending: on entry, v30 = the previous chunk's row 3 sums
// and v31 = C's row 3 before them (added while the first double step's rows
// load, stored after its slot 0); on exit, v30 / v31 = this chunk's. The seven double steps
// end in irnet_a64_full_chunk_end, which interleaves the drain, the
// reduction, C and the row pointers so that each result is read about 6
// instructions after it is written.
.macro irnet_a64_full_chunk
  irnet_a64_ldp2 0, A_ROW0, 0
  irnet_a64_ldp2 8, B_ROW0, 0
  irnet_a64_ldp2 10, B_ROW1, 0
  irnet_a64_ldp2 2, A_ROW1, 0
  add v30.4s, v30.4s, v31.4s
  irnet_a64_ldp2 12, B_ROW2, 0
  irnet_a64_ldp2 14, B_ROW3, 0
  irnet_a64_ldp2 4, A_ROW2, 0
  irnet_a64_ldp2 6, A_ROW3, 0
  irnet_a64_double 1, 1, 32, 1
  irnet_a64_double 0, 1, 64
  irnet_a64_double 0, 1, 96
  irnet_a64_double 0, 1, 128
  irnet_a64_double 0, 1, 160
  irnet_a64_double 0, 1, 192
  irnet_a64_double 0, 0, 0
  irnet_a64_full_chunk_end
.endm
// Slots 16-18 of the last double step (irnet_a64_drain: C(15), P(14), A(13),
// P(15), A(14), A(15)), level 2 in u16, the rows as u32 added to C (rows 0-2
// stored, row 3 in v30 + v31), the row pointers 224 bytes on, and the
// chunk count CHUNKS_LEFT decremented (flags for the loop branch).
.macro irnet_a64_full_chunk_end
  ldr q4, [C_TILE]
  ldr q5, [C_TILE, LDC]
  ldr q6, [C_TILE, LDC2]
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  addp v28.16b, v28.16b, v29.16b
  add v21.16b, v21.16b, v26.16b
  uaddlp v16.8h, v16.16b
  uaddlp v17.8h, v17.16b
  uaddlp v18.8h, v18.16b
  addp v30.16b, v30.16b, v31.16b
  add v23.16b, v23.16b, v28.16b
  uaddlp v19.8h, v19.16b
  uaddlp v20.8h, v20.16b
  addp v0.8h, v16.8h, v17.8h
  uaddlp v21.8h, v21.16b
  uaddlp v22.8h, v22.16b
  add v23.16b, v23.16b, v30.16b
  addp v1.8h, v18.8h, v19.8h
  ldr q31, [C_TILE, LDC3]
  uaddlp v0.4s, v0.8h
  addp v2.8h, v20.8h, v21.8h
  add A_ROW0, A_ROW0, #224
  add A_ROW1, A_ROW1, #224
  uaddlp v1.4s, v1.8h
  add A_ROW2, A_ROW2, #224
  add A_ROW3, A_ROW3, #224
  uaddlp v23.8h, v23.16b
  add v0.4s, v0.4s, v4.4s
  uaddlp v2.4s, v2.8h
  add v1.4s, v1.4s, v5.4s
  add B_ROW0, B_ROW0, #224
  add B_ROW1, B_ROW1, #224
  addp v30.8h, v22.8h, v23.8h
  add v2.4s, v2.4s, v6.4s
  str q0, [C_TILE]
  add B_ROW2, B_ROW2, #224
  add B_ROW3, B_ROW3, #224
  str q1, [C_TILE, LDC]
  subs CHUNKS_LEFT, CHUNKS_LEFT, #1
  uaddlp v30.4s, v30.8h
  str q2, [C_TILE, LDC2]
.endm
.macro irnet_a64_one_double
  irnet_a64_double 1, 0, 0
.endm

// Level 2 of the reduction, v(m) = row m, u16 lanes: in u8 then widened
// (wide = 0), or widening the accumulators first (wide = 1).
.macro irnet_a64_level2 wide
.if \wide
  uaddlp v16.8h, v16.16b
  uaddlp v17.8h, v17.16b
  uaddlp v18.8h, v18.16b
  uaddlp v19.8h, v19.16b
  uaddlp v20.8h, v20.16b
  uaddlp v21.8h, v21.16b
  uaddlp v22.8h, v22.16b
  uaddlp v23.8h, v23.16b
  addp v0.8h, v16.8h, v17.8h
  addp v1.8h, v18.8h, v19.8h
  addp v2.8h, v20.8h, v21.8h
  addp v3.8h, v22.8h, v23.8h
.else
  addp v0.16b, v16.16b, v17.16b
  addp v1.16b, v18.16b, v19.16b
  addp v2.16b, v20.16b, v21.16b
  addp v3.16b, v22.16b, v23.16b
  uaddlp v0.8h, v0.16b
  uaddlp v1.8h, v1.16b
  uaddlp v2.8h, v2.16b
  uaddlp v3.8h, v3.16b
.endif
.endm

// v(m) = row m as four u32 sums.
.macro irnet_a64_rows row3=3
  uaddlp v0.4s, v0.8h
  uaddlp v1.4s, v1.8h
  uaddlp v2.4s, v2.8h
  uaddlp v\row3\().4s, v3.8h
.endm
// Rows 0-3 of the tile at C_TILE.
.macro irnet_a64_store_rows
  str q0, [C_TILE]
  str q1, [C_TILE, LDC]
  str q2, [C_TILE, LDC2]
  str q3, [C_TILE, LDC3]
.endm

// Slots 16-18 after the last double step: the cnt, addp and adds of its
// couples 13-15.
.macro irnet_a64_drain
  irnet_a64_slot 0, 16
  irnet_a64_slot 0, 17
  irnet_a64_slot 0, 18
.endm

// Slot i (0-10) of a single 128-bit step: couple i is (m, h) = (i mod 4, i / 4)
// of step 0, pipelined like a double step.
.macro irnet_a64_single_slot i
.if \i <= 7
  irnet_a64_E %(2 * ((\i) % 4) + 8 * ((\i) / 4)), %((\i) % 4)
.endif
.if (\i >= 1) && (\i <= 8)
  irnet_a64_C %((\i - 1) % 4)
.endif
.if (\i >= 2) && (\i <= 9)
  irnet_a64_P %(2 * ((\i - 2) % 4) + 8 * ((\i - 2) / 4)), %((\i - 2) % 4), 0
.endif
.if \i >= 3
  irnet_a64_A %(2 * ((\i - 3) % 4) + 8 * ((\i - 3) / 4)), %((\i - 3) % 4)
.endif
.endm

// The single step's counts; its data: a_m in v(2m), b_n in v(8 + 2n) (loaded
// by irnet_a64_drain_single at byte offset STEP_OFFSET of the row pointers).
.macro irnet_a64_single_counts
  irnet_a64_single_slot 0
  irnet_a64_single_slot 1
  irnet_a64_single_slot 2
  irnet_a64_single_slot 3
  irnet_a64_single_slot 4
  irnet_a64_single_slot 5
  irnet_a64_single_slot 6
  irnet_a64_single_slot 7
  irnet_a64_single_slot 8
  irnet_a64_single_slot 9
  irnet_a64_single_slot 10
.endm

// The odd last word: v(2m) = a_m | a_m, v8 = b_0 | b_1, v12 = b_2 | b_3;
// couple (m, h) is counted in v(24 + 2m + h) and added to acc[m][h].
// Loaded at byte offset ODD_OFFSET of the row pointers (B1_ODD_WORD / B3_ODD_WORD:
// the words of b_1 / b_3).
.macro irnet_a64_odd_word_at_offset
  ldr d0, [A_ROW0, ODD_OFFSET]
  ldr d8, [B_ROW0, ODD_OFFSET]
  ldr d2, [A_ROW1, ODD_OFFSET]
  ld1 {v8.d}[1], [B1_ODD_WORD]
  ldr d4, [A_ROW2, ODD_OFFSET]
  ldr d12, [B_ROW2, ODD_OFFSET]
  ldr d6, [A_ROW3, ODD_OFFSET]
  ld1 {v12.d}[1], [B3_ODD_WORD]
  dup v0.2d, v0.d[0]
  dup v2.2d, v2.d[0]
  dup v4.2d, v4.d[0]
  dup v6.2d, v6.d[0]
  irnet_a64_odd_word_counts
.endm
// The drain of the last double step (irnet_a64_drain) with the 2-word step's
// loads in its waits (they touch none of its registers), then that step.
.macro irnet_a64_drain_single
  ldr q0, [A_ROW0, STEP_OFFSET]
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  ldr q8, [B_ROW0, STEP_OFFSET]
  addp v28.16b, v28.16b, v29.16b
  ldr q10, [B_ROW1, STEP_OFFSET]
  add v21.16b, v21.16b, v26.16b
  ldr q2, [A_ROW1, STEP_OFFSET]
  addp v30.16b, v30.16b, v31.16b
  ldr q12, [B_ROW2, STEP_OFFSET]
  add v23.16b, v23.16b, v28.16b
  ldr q14, [B_ROW3, STEP_OFFSET]
  ldr q4, [A_ROW2, STEP_OFFSET]
  ldr q6, [A_ROW3, STEP_OFFSET]
  add v23.16b, v23.16b, v30.16b
  irnet_a64_single_counts
.endm
// The drain of the last double step (irnet_a64_drain) with the odd word's
// loads in its waits (they touch none of its registers), then the odd word's
// counts: for a tail with an odd word right after the double steps.
.macro irnet_a64_drain_odd_word
  ldr d0, [A_ROW0, ODD_OFFSET]
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  ldr d8, [B_ROW0, ODD_OFFSET]
  addp v28.16b, v28.16b, v29.16b
  ldr d2, [A_ROW1, ODD_OFFSET]
  add v21.16b, v21.16b, v26.16b
  ld1 {v8.d}[1], [B1_ODD_WORD]
  addp v30.16b, v30.16b, v31.16b
  ldr d4, [A_ROW2, ODD_OFFSET]
  dup v0.2d, v0.d[0]
  ldr d12, [B_ROW2, ODD_OFFSET]
  add v23.16b, v23.16b, v28.16b
  ldr d6, [A_ROW3, ODD_OFFSET]
  dup v2.2d, v2.d[0]
  ld1 {v12.d}[1], [B3_ODD_WORD]
  dup v4.2d, v4.d[0]
  dup v6.2d, v6.d[0]
  add v23.16b, v23.16b, v30.16b
  irnet_a64_odd_word_counts
.endm
.macro irnet_a64_odd_word_counts
  eor v24.16b, v0.16b, v8.16b
  eor v25.16b, v0.16b, v12.16b
  eor v26.16b, v2.16b, v8.16b
  eor v27.16b, v2.16b, v12.16b
  eor v28.16b, v4.16b, v8.16b
  eor v29.16b, v4.16b, v12.16b
  eor v30.16b, v6.16b, v8.16b
  eor v31.16b, v6.16b, v12.16b
  cnt v24.16b, v24.16b
  cnt v25.16b, v25.16b
  cnt v26.16b, v26.16b
  cnt v27.16b, v27.16b
  cnt v28.16b, v28.16b
  cnt v29.16b, v29.16b
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  add v16.16b, v16.16b, v24.16b
  add v17.16b, v17.16b, v25.16b
  add v18.16b, v18.16b, v26.16b
  add v19.16b, v19.16b, v27.16b
  add v20.16b, v20.16b, v28.16b
  add v21.16b, v21.16b, v29.16b
  add v22.16b, v22.16b, v30.16b
  add v23.16b, v23.16b, v31.16b
.endm

// The end of a chunk of L <= 31 words after its double steps, one routine per
// tail: the drain of the last double step, the 2-word step (single = 1: L mod
// 4 >= 2), the odd word (odd = 1: L odd), level 2 in u8 or u16 (wide = 1: L >
// 15); then the store into C and,
// for flavor one_chunk (the whole K), the next tile (LDA4) and after the
// panel's last tile the next panel; for flavor first_chunk (K >= 32), the full
// chunks (FULL_CHUNKS of them) with the rows moved past the first (FIRST_CHUNK bytes). A tile
// thus branches once into its tail, and once back.
.macro irnet_a64_tail flavor, single, odd, wide
.Lirnet_a64_\flavor\()_tail_\single\()\odd\()\wide:
.if \single
  irnet_a64_drain_single
.if \odd
  irnet_a64_odd_word_at_offset
.endif
.elseif \odd
  irnet_a64_drain_odd_word
.else
  irnet_a64_drain
.endif
  irnet_a64_level2 \wide
.ifc \flavor, one_chunk
  irnet_a64_rows
  irnet_a64_store_rows
  add A_ROW0, A_ROW0, LDA4
  add A_ROW1, A_ROW1, LDA4
  add A_ROW2, A_ROW2, LDA4
  add A_ROW3, A_ROW3, LDA4
  add C_TILE, C_TILE, LDC, lsl #2
  subs TILES_LEFT, TILES_LEFT, #1
  b.ne .Lirnet_a64_one_chunk_tile
  b .Lirnet_a64_one_chunk_next_panel
.else
  irnet_a64_rows 30                // row 3 pending (see irnet_a64_full_chunk)
  movi v31.16b, #0
  str q0, [C_TILE]
  str q1, [C_TILE, LDC]
  str q2, [C_TILE, LDC2]
  irnet_a64_move_rows FIRST_CHUNK
  mov CHUNKS_LEFT, FULL_CHUNKS
  b .Lirnet_a64_full_chunk
.endif
.endm
.macro irnet_a64_tails flavor
  irnet_a64_tail \flavor, 0, 0, 0
  irnet_a64_tail \flavor, 0, 1, 0
  irnet_a64_tail \flavor, 1, 0, 0
  irnet_a64_tail \flavor, 1, 1, 0
  irnet_a64_tail \flavor, 0, 0, 1
  irnet_a64_tail \flavor, 0, 1, 1
  irnet_a64_tail \flavor, 1, 0, 1
  irnet_a64_tail \flavor, 1, 1, 1
.endm
// TAIL = the tail routine for L mod 4 = L_MOD4.
.macro irnet_a64_pick_tail flavor, lmod4, single, odd, wide
  cmp L_MOD4, #\lmod4
  adr TAIL_CANDIDATE, .Lirnet_a64_\flavor\()_tail_\single\()\odd\()\wide
  csel TAIL, TAIL_CANDIDATE, TAIL, eq
.endm
.macro irnet_a64_pick_tails flavor, wide
  irnet_a64_pick_tail \flavor, 0, 0, 0, \wide
  irnet_a64_pick_tail \flavor, 1, 0, 1, \wide
  irnet_a64_pick_tail \flavor, 2, 1, 0, \wide
  irnet_a64_pick_tail \flavor, 3, 1, 1, \wide
.endm
// The 8 row pointers moved by \bytes (a register or #immediate).
.macro irnet_a64_move_rows bytes
  add A_ROW0, A_ROW0, \bytes
  add A_ROW1, A_ROW1, \bytes
  add A_ROW2, A_ROW2, \bytes
  add A_ROW3, A_ROW3, \bytes
  add B_ROW0, B_ROW0, \bytes
  add B_ROW1, B_ROW1, \bytes
  add B_ROW2, B_ROW2, \bytes
  add B_ROW3, B_ROW3, \bytes
.endm
// After a panel's last tile: the next panel (A rows and C back by the
// panel's tiles, C and B 4 columns on) from label tile, or the end.
.macro irnet_a64_next_panel tile
  subs PANELS_LEFT, PANELS_LEFT, #1
  b.eq .Lirnet_a64_restore
  msub A_ROW0, TILES_PER_PANEL, LDA4, A_ROW0
  msub A_ROW1, TILES_PER_PANEL, LDA4, A_ROW1
  msub A_ROW2, TILES_PER_PANEL, LDA4, A_ROW2
  msub A_ROW3, TILES_PER_PANEL, LDA4, A_ROW3
  mov TILES_LEFT, TILES_PER_PANEL
  lsl TMP, LDC, #2
  msub C_TILE, TILES_PER_PANEL, TMP, C_TILE
  add C_TILE, C_TILE, #16
  sub TMP, B_ROW1, B_ROW0          // ldb
  add B_ROW0, B_ROW0, TMP, lsl #2
  add B_ROW1, B_ROW1, TMP, lsl #2
  add B_ROW2, B_ROW2, TMP, lsl #2
  add B_ROW3, B_ROW3, TMP, lsl #2
  add B1_ODD_WORD, B1_ODD_WORD, TMP, lsl #2
  add B3_ODD_WORD, B3_ODD_WORD, TMP, lsl #2
  b \tile
.endm

  .text
  .p2align 4
  .global irnet_bgemm4x4_column_neon_a64
  .hidden irnet_bgemm4x4_column_neon_a64
  .type irnet_bgemm4x4_column_neon_a64, %function
irnet_bgemm4x4_column_neon_a64:
  ldr x9, [sp]                     // panels (the 9th argument is on the stack)
  stp d8, d9, [sp, #-144]!
  stp d10, d11, [sp, #16]
  stp d12, d13, [sp, #32]
  stp d14, d15, [sp, #48]
  stp x19, x20, [sp, #64]
  stp x21, x22, [sp, #80]
  stp x23, x24, [sp, #96]
  stp x25, x26, [sp, #112]
  stp x27, x28, [sp, #128]
  mov PANELS_LEFT, x9
  mov TILES_PER_PANEL, TILES_LEFT
  lsl LDC2, LDC, #1
  add LDC3, LDC2, LDC
  mov A_ROW0, ARG_A                // the rows of the first tile and panel
  add A_ROW1, ARG_A, ARG_LDA
  add A_ROW2, A_ROW1, ARG_LDA
  add A_ROW3, A_ROW2, ARG_LDA
  mov B_ROW0, ARG_B
  add B_ROW1, ARG_B, ARG_LDB
  add B_ROW2, B_ROW1, ARG_LDB
  add B_ROW3, B_ROW2, ARG_LDB
  lsl LDA4, ARG_LDA, #2
  sub FULL_CHUNKS, ARG_K, #4       // the first chunk: L = K - 28 f words,
  mov x0, #28                      // f = (K - 4) / 28 full chunks after it
  udiv FULL_CHUNKS, FULL_CHUNKS, x0
  msub FIRST_CHUNK, FULL_CHUNKS, x0, ARG_K
  lsr ODD_OFFSET, FIRST_CHUNK, #2  // its double steps (>= 1)
  mov DOUBLE_STEPS_BIT, #1
  lsl DOUBLE_STEPS_BIT, DOUBLE_STEPS_BIT, ODD_OFFSET
  lsl STEP_OFFSET, ODD_OFFSET, #5
  and ODD_OFFSET, FIRST_CHUNK, #2
  add ODD_OFFSET, STEP_OFFSET, ODD_OFFSET, lsl #3
  add B1_ODD_WORD, B_ROW1, ODD_OFFSET
  add B3_ODD_WORD, B_ROW3, ODD_OFFSET
  and L_MOD4, FIRST_CHUNK, #3
  cmp FIRST_CHUNK, #15             // level 2 in u8 while L <= 15
  cbnz FULL_CHUNKS, .Lirnet_a64_general
  b.hi 1f
  irnet_a64_pick_tails one_chunk, 0
  b .Lirnet_a64_one_chunk_tile
1:
  irnet_a64_pick_tails one_chunk, 1
  b .Lirnet_a64_one_chunk_tile
.Lirnet_a64_general:
  b.hi 1f
  irnet_a64_pick_tails first_chunk, 0
  b 2f
1:
  irnet_a64_pick_tails first_chunk, 1
2:
  lsl FIRST_CHUNK, FIRST_CHUNK, #3 // now its bytes
  lsl K_BYTES, ARG_K, #3
  sub A_NEXT_TILE, LDA4, K_BYTES
.Lirnet_a64_general_tile:
  irnet_a64_doubles .Lirnet_a64_first_chunk_one_double
  br TAIL
.Lirnet_a64_first_chunk_one_double:
  irnet_a64_one_double
  br TAIL
.Lirnet_a64_full_chunk:            // 28 words: 7 double steps, added to C
  irnet_a64_full_chunk
  b.ne .Lirnet_a64_full_chunk
  add v30.4s, v30.4s, v31.4s       // the last chunk's row 3
  str q30, [C_TILE, LDC3]
  add A_ROW0, A_ROW0, A_NEXT_TILE  // the next tile: A rows 4 lda on, B rows back
  add A_ROW1, A_ROW1, A_NEXT_TILE
  add A_ROW2, A_ROW2, A_NEXT_TILE
  add A_ROW3, A_ROW3, A_NEXT_TILE
  sub B_ROW0, B_ROW0, K_BYTES
  sub B_ROW1, B_ROW1, K_BYTES
  sub B_ROW2, B_ROW2, K_BYTES
  sub B_ROW3, B_ROW3, K_BYTES
  add C_TILE, C_TILE, LDC, lsl #2
  subs TILES_LEFT, TILES_LEFT, #1
  b.ne .Lirnet_a64_general_tile
  irnet_a64_next_panel .Lirnet_a64_general_tile
.Lirnet_a64_restore:
  ldp x19, x20, [sp, #64]
  ldp x21, x22, [sp, #80]
  ldp x23, x24, [sp, #96]
  ldp x25, x26, [sp, #112]
  ldp x27, x28, [sp, #128]
  ldp d10, d11, [sp, #16]
  ldp d12, d13, [sp, #32]
  ldp d14, d15, [sp, #48]
  ldp d8, d9, [sp], #144
  ret
.Lirnet_a64_one_chunk_tile:
  irnet_a64_doubles .Lirnet_a64_one_chunk_one_double
  br TAIL
.Lirnet_a64_one_chunk_one_double:
  irnet_a64_one_double
  br TAIL
.Lirnet_a64_one_chunk_next_panel:
  irnet_a64_next_panel .Lirnet_a64_one_chunk_tile
  irnet_a64_tails one_chunk
  irnet_a64_tails first_chunk
  .size irnet_bgemm4x4_column_neon_a64, .-irnet_bgemm4x4_column_neon_a64
.noaltmacro

  .section .note.GNU-stack,"",%progbits
