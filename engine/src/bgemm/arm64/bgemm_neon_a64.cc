// AArch64 NEON xor-popcount GEMM, 4x4 register-blocked.
//
// For a tile of 4 activation rows (A) and 4 weight rows (B) the kernel walks K
// in 128-bit steps: for each of the 16 pairs (a_m, b_n) it computes
// cnt(a_m ^ b_n) (per-byte popcount, each byte 0..8) and accumulates it. Three
// NEON instructions per pair and step (eor, cnt, one add) is the bound: 128
// binary MACs per 3 instructions, and on the Cortex-A53 one cycle each per q
// register.
//
// Accumulation (the first level of the horizontal sum is done in the loop):
// the counts of the pairs (m, 2h) and (m, 2h + 1) are combined by one pairwise
// add, addp(cnt_(m,2h), cnt_(m,2h+1)), whose lanes 0-7 are sums of two bytes of
// pair (m, 2h) and lanes 8-15 of pair (m, 2h + 1), and that is added to the u8
// accumulator acc[m][h]. So one addp + one add per two pairs (still one add per
// count) and only 8 accumulators, which leaves registers for two steps of data
// (loaded with ldp: one load per row per two steps).
//
// Overflow: each acc lane grows by at most 16 per 128-bit step, so K is cut
// into chunks: a first chunk of L = 4..31 words, then f = (K - 4) / 28 full
// chunks of 28 words (7 double steps). The first chunk has L / 4 double steps
// and the tail of K: one more 128-bit step (L mod 4 >= 2) and an odd last
// word. The odd word is not a half-empty step: a_m's word is duplicated into
// both halves of a q register (ldr d + dup) and the words of b_2h | b_2h+1
// are paired (ldr d + ld1 lane), so cnt(a_m ^ (b_2h | b_2h+1)) has pair (m, 2h)
// in bytes 0-7 and (m, 2h + 1) in 8-15, exactly the lanes of acc[m][h] those
// pairs own; it is added directly.
// A lane thus holds at most 15 * 16 + 8 = 248 <= 255.
//
// Horizontal reduction of a chunk of w words (s = w / 2 full steps): level 2,
// addp(acc[m][0], acc[m][1]), gives row m with 4 lanes per column n; it stays
// in u8 if 2 * (16 s + 8) <= 255 (w <= 15), else the accumulators are widened
// first (uaddlp) and it runs in u16. Then pairwise widening adds (uaddlp) leave
// row m as four u32 sums, which are stored into C (first chunk) or added to it
// (full chunks).
//
// The full tiles of a column (4 weight rows, 4k activation rows) run the
// hand-scheduled assembly routine below (the hot path of every binary
// convolution); edge tiles (MR or NR < 4) run the same eor / cnt arithmetic
// written with intrinsics, accumulated in u16 lanes (see add_edge_chunk).
#include "bgemm/arm64/bgemm_neon_a64.h"

#include <arm_neon.h>

#include <iterator>

#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_config.h"

// void irnet_bgemm4x4_column_neon_a64(const BitWord* a, size_t lda_bytes,
//                                     const BitWord* b, size_t ldb_bytes, size_t K,
//                                     int32_t* c, size_t ldc_bytes, size_t tiles,
//                                     size_t panels);
// panels >= 1 column panels of tiles >= 1 full 4x4 tiles each: tile t of panel
// p covers C rows 4t..4t+3, columns 4p..4p+3, c[m * ldc + n] = popcount sums
// over K >= 0 words of rows a + m * lda and b + n * ldb. The panels run one
// after the other (A is re-read from its start for each), in one call: the
// setup below and the saving of registers are paid once per bgemm, not once
// per panel of 4 weight rows.
//
// General registers: x1 4 lda (the next tile), x5 C of the current tile, x6
// ldc, x7 tiles left in the panel, x8-x11 / x12-x15 the A / B row pointers at
// the current chunk; of the first chunk: x16 / x17 the byte offsets of its
// 2-word step / odd word, x19 / x22 the odd words of b_1 / b_3, x26 1 <<
// (double steps), x23 its tail routine; x20 / x21 2 / 3 ldc, x27 panels left,
// x28 tiles per panel; for K >= 32: x2 the first chunk's bytes, x3 the full
// chunks (x24 left), x25 K's bytes, x0 4 lda - K's bytes (the A rows' step
// to the next tile). x19-x28 and d8-d15 are callee-saved and restored.
//
// A chunk's double steps are unrolled (at most 7), so their loads use
// immediate offsets from the chunk's row pointers: no pointer updates in the
// hot path (in LLVM's Cortex-A53 model a post-indexed load also stalls the
// in-order pipe for several cycles). The first double step runs first, then
// the next ones up to the last, which is entered by a bit test of x26.
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
// Vector registers: a_m of steps s = 0, 1 in v(2m + s), b_n in v(8 + 2n + s),
// acc[m][h] in v(16 + 2m + h), temporaries v24-v31.
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
asm(R"(
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
  str q30, [x5, x21]
.endif
  irnet_a64_slot \first, 1
  irnet_a64_slot \first, 2
  irnet_a64_slot \first, 3
  irnet_a64_slot \first, 4
  irnet_a64_slot \first, 5
  irnet_a64_slot \first, 6
  irnet_a64_slot \first, 7
.if \load
  irnet_a64_ldp2 8, x12, \off
  irnet_a64_ldp2 10, x13, \off
.endif
  irnet_a64_slot \first, 8
  irnet_a64_slot \first, 9
.if \load
  irnet_a64_ldp2 0, x8, \off
.endif
  irnet_a64_slot \first, 10
  irnet_a64_slot \first, 11
.if \load
  irnet_a64_ldp2 2, x9, \off
.endif
  irnet_a64_slot \first, 12
  irnet_a64_slot \first, 13
.if \load
  irnet_a64_ldp2 4, x10, \off
.endif
  irnet_a64_slot \first, 14
  irnet_a64_slot \first, 15
.if \load
  irnet_a64_ldp2 6, x11, \off
  irnet_a64_ldp2 12, x14, \off
  irnet_a64_ldp2 14, x15, \off
.endif
.endm

// A chunk's first double step loaded, acc[3][1] zeroed (see the schedule).
.macro irnet_a64_chunk_start
  irnet_a64_ldp2 0, x8, 0
  irnet_a64_ldp2 8, x12, 0
  irnet_a64_ldp2 10, x13, 0
  irnet_a64_ldp2 2, x9, 0
  irnet_a64_ldp2 12, x14, 0
  irnet_a64_ldp2 14, x15, 0
  irnet_a64_ldp2 4, x10, 0
  irnet_a64_ldp2 6, x11, 0
  movi v23.16b, #0
.endm

// The d = 1..7 double steps of a chunk (x26 bit d set), accumulators from
// zero, up to the last one's slot 15 (the tail routine drains it). d = 1
// continues at one_double (placed out of the hot path by the caller:
// irnet_a64_one_double, then on to the same tail).
.macro irnet_a64_doubles one_double
  irnet_a64_chunk_start
  tbnz x26, #1, \one_double
  irnet_a64_double 1, 1, 32
  tbnz x26, #2, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 64
  tbnz x26, #3, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 96
  tbnz x26, #4, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 128
  tbnz x26, #5, .Lirnet_a64_last_double\@
  irnet_a64_double 0, 1, 160
  tbnz x26, #6, .Lirnet_a64_last_double\@
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
  irnet_a64_ldp2 0, x8, 0
  irnet_a64_ldp2 8, x12, 0
  irnet_a64_ldp2 10, x13, 0
  irnet_a64_ldp2 2, x9, 0
  add v30.4s, v30.4s, v31.4s
  irnet_a64_ldp2 12, x14, 0
  irnet_a64_ldp2 14, x15, 0
  irnet_a64_ldp2 4, x10, 0
  irnet_a64_ldp2 6, x11, 0
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
// chunk count x24 decremented (flags for the loop branch).
.macro irnet_a64_full_chunk_end
  ldr q4, [x5]
  ldr q5, [x5, x6]
  ldr q6, [x5, x20]
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
  ldr q31, [x5, x21]
  uaddlp v0.4s, v0.8h
  addp v2.8h, v20.8h, v21.8h
  add x8, x8, #224
  add x9, x9, #224
  uaddlp v1.4s, v1.8h
  add x10, x10, #224
  add x11, x11, #224
  uaddlp v23.8h, v23.16b
  add v0.4s, v0.4s, v4.4s
  uaddlp v2.4s, v2.8h
  add v1.4s, v1.4s, v5.4s
  add x12, x12, #224
  add x13, x13, #224
  addp v30.8h, v22.8h, v23.8h
  add v2.4s, v2.4s, v6.4s
  str q0, [x5]
  add x14, x14, #224
  add x15, x15, #224
  str q1, [x5, x6]
  subs x24, x24, #1
  uaddlp v30.4s, v30.8h
  str q2, [x5, x20]
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
// Rows 0-3 of the tile at x5 (row stride x6, x20 = 2 ldc, x21 = 3 ldc).
.macro irnet_a64_store_rows
  str q0, [x5]
  str q1, [x5, x6]
  str q2, [x5, x20]
  str q3, [x5, x21]
.endm

// C of the next panel: back by the panel's tiles (x28), 4 columns on; the
// panel's tile count back in x7. tmp: a free register.
.macro irnet_a64_next_panel_c tmp
  mov x7, x28
  lsl \tmp, x6, #2
  msub x5, x28, \tmp, x5
  add x5, x5, #16
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
// by irnet_a64_drain_single at byte offset x16 of the row pointers).
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
// Loaded at byte offset x17 of the row pointers (x19 / x22: the words of b_1 / b_3).
.macro irnet_a64_odd_word_at_offset
  ldr d0, [x8, x17]
  ldr d8, [x12, x17]
  ldr d2, [x9, x17]
  ld1 {v8.d}[1], [x19]
  ldr d4, [x10, x17]
  ldr d12, [x14, x17]
  ldr d6, [x11, x17]
  ld1 {v12.d}[1], [x22]
  dup v0.2d, v0.d[0]
  dup v2.2d, v2.d[0]
  dup v4.2d, v4.d[0]
  dup v6.2d, v6.d[0]
  irnet_a64_odd_word_counts
.endm
// The drain of the last double step (irnet_a64_drain) with the 2-word step's
// loads in its waits (they touch none of its registers), then that step.
.macro irnet_a64_drain_single
  ldr q0, [x8, x16]
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  ldr q8, [x12, x16]
  addp v28.16b, v28.16b, v29.16b
  ldr q10, [x13, x16]
  add v21.16b, v21.16b, v26.16b
  ldr q2, [x9, x16]
  addp v30.16b, v30.16b, v31.16b
  ldr q12, [x14, x16]
  add v23.16b, v23.16b, v28.16b
  ldr q14, [x15, x16]
  ldr q4, [x10, x16]
  ldr q6, [x11, x16]
  add v23.16b, v23.16b, v30.16b
  irnet_a64_single_counts
.endm
// The drain of the last double step (irnet_a64_drain) with the odd word's
// loads in its waits (they touch none of its registers), then the odd word's
// counts: for a tail with an odd word right after the double steps.
.macro irnet_a64_drain_odd_word
  ldr d0, [x8, x17]
  cnt v30.16b, v30.16b
  cnt v31.16b, v31.16b
  ldr d8, [x12, x17]
  addp v28.16b, v28.16b, v29.16b
  ldr d2, [x9, x17]
  add v21.16b, v21.16b, v26.16b
  ld1 {v8.d}[1], [x19]
  addp v30.16b, v30.16b, v31.16b
  ldr d4, [x10, x17]
  dup v0.2d, v0.d[0]
  ldr d12, [x14, x17]
  add v23.16b, v23.16b, v28.16b
  ldr d6, [x11, x17]
  dup v2.2d, v2.d[0]
  ld1 {v12.d}[1], [x22]
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
// for flavor one_chunk (the whole K), the next tile (x1 = 4 lda) and after the
// panel's last tile the next panel; for flavor first_chunk (K >= 32), the full
// chunks (x3 of them) with the rows moved past the first (x2 bytes). A tile
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
  add x8, x8, x1
  add x9, x9, x1
  add x10, x10, x1
  add x11, x11, x1
  add x5, x5, x6, lsl #2
  subs x7, x7, #1
  b.ne .Lirnet_a64_one_chunk_tile
  b .Lirnet_a64_one_chunk_next_panel
.else
  irnet_a64_rows 30                // row 3 pending (see irnet_a64_full_chunk)
  movi v31.16b, #0
  str q0, [x5]
  str q1, [x5, x6]
  str q2, [x5, x20]
  irnet_a64_move_rows x2
  mov x24, x3
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
// x23 = the tail routine for L mod 4 = x0 (x24: scratch).
.macro irnet_a64_pick_tail flavor, lmod4, single, odd, wide
  cmp x0, #\lmod4
  adr x24, .Lirnet_a64_\flavor\()_tail_\single\()\odd\()\wide
  csel x23, x24, x23, eq
.endm
.macro irnet_a64_pick_tails flavor, wide
  irnet_a64_pick_tail \flavor, 0, 0, 0, \wide
  irnet_a64_pick_tail \flavor, 1, 0, 1, \wide
  irnet_a64_pick_tail \flavor, 2, 1, 0, \wide
  irnet_a64_pick_tail \flavor, 3, 1, 1, \wide
.endm
// The 8 row pointers moved by \bytes (a register or #immediate).
.macro irnet_a64_move_rows bytes
  add x8, x8, \bytes
  add x9, x9, \bytes
  add x10, x10, \bytes
  add x11, x11, \bytes
  add x12, x12, \bytes
  add x13, x13, \bytes
  add x14, x14, \bytes
  add x15, x15, \bytes
.endm
// After a panel's last tile: the next panel (A rows and C back by the
// panel's tiles, C and B 4 columns on) from label tile, or the end.
.macro irnet_a64_next_panel tile
  subs x27, x27, #1
  b.eq .Lirnet_a64_restore
  msub x8, x28, x1, x8
  msub x9, x28, x1, x9
  msub x10, x28, x1, x10
  msub x11, x28, x1, x11
  mov x7, x28
  lsl x4, x6, #2
  msub x5, x28, x4, x5
  add x5, x5, #16
  sub x4, x13, x12                 // ldb
  add x12, x12, x4, lsl #2
  add x13, x13, x4, lsl #2
  add x14, x14, x4, lsl #2
  add x15, x15, x4, lsl #2
  add x19, x19, x4, lsl #2
  add x22, x22, x4, lsl #2
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
  mov x27, x9                      // panels left
  mov x28, x7                      // tiles per panel
  lsl x20, x6, #1                  // 2 ldc
  add x21, x20, x6                 // 3 ldc
  mov x8, x0                       // the rows of the first tile and panel
  add x9, x0, x1
  add x10, x9, x1
  add x11, x10, x1
  mov x12, x2
  add x13, x2, x3
  add x14, x13, x3
  add x15, x14, x3
  lsl x1, x1, #2                   // 4 lda: the next tile
  sub x3, x4, #4                   // the first chunk: L = K - 28 f words,
  mov x0, #28                      // f = (K - 4) / 28 full chunks after it
  udiv x3, x3, x0
  msub x2, x3, x0, x4
  lsr x17, x2, #2                  // its double steps (>= 1)
  mov x26, #1
  lsl x26, x26, x17                // bit d
  lsl x16, x17, #5                 // its 2-word step
  and x17, x2, #2
  add x17, x16, x17, lsl #3        // its odd word
  add x19, x13, x17
  add x22, x15, x17
  and x0, x2, #3
  cmp x2, #15                      // level 2 in u8 while L <= 15
  cbnz x3, .Lirnet_a64_general
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
  lsl x2, x2, #3                   // bytes of the first chunk
  lsl x25, x4, #3                  // bytes of K: the rows' travel in a tile
  sub x0, x1, x25                  // then the A rows' step to the next tile
.Lirnet_a64_general_tile:
  irnet_a64_doubles .Lirnet_a64_first_chunk_one_double
  br x23
.Lirnet_a64_first_chunk_one_double:
  irnet_a64_one_double
  br x23
.Lirnet_a64_full_chunk:            // 28 words: 7 double steps, added to C
  irnet_a64_full_chunk
  b.ne .Lirnet_a64_full_chunk
  add v30.4s, v30.4s, v31.4s       // the last chunk's row 3
  str q30, [x5, x21]
  add x8, x8, x0                   // the next tile: A rows 4 lda on, B rows back
  add x9, x9, x0
  add x10, x10, x0
  add x11, x11, x0
  sub x12, x12, x25
  sub x13, x13, x25
  sub x14, x14, x25
  sub x15, x15, x25
  add x5, x5, x6, lsl #2
  subs x7, x7, #1
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
  br x23
.Lirnet_a64_one_chunk_one_double:
  irnet_a64_one_double
  br x23
.Lirnet_a64_one_chunk_next_panel:
  irnet_a64_next_panel .Lirnet_a64_one_chunk_tile
  irnet_a64_tails one_chunk
  irnet_a64_tails first_chunk
  .size irnet_bgemm4x4_column_neon_a64, .-irnet_bgemm4x4_column_neon_a64
.noaltmacro
)");

extern "C" void irnet_bgemm4x4_column_neon_a64(const irnet::BitWord* a, std::size_t lda_bytes,
                                               const irnet::BitWord* b, std::size_t ldb_bytes,
                                               std::size_t K, std::int32_t* c, std::size_t ldc_bytes,
                                               std::size_t tiles, std::size_t panels);

namespace irnet {
namespace {

// Edge tiles (MR or NR < 4): one u16 accumulator per pair, fed by uadalp
// (pairwise add of the byte counts into the u16 lanes). A 4-word double step
// costs per pair 2 eor, 2 cnt, one add of the two counts and one uadalp: 3
// instructions per 128 binary MACs, as in the assembly tile, and the A row's
// load is shared by the NR weight rows. A u16 lane covers 16 bits of a q
// register, so w words add at most 8w + 8 to it (+8: an odd word sits in the
// low half only): chunks of kEdgeChunkWords = 8188 words stay <= 65512, and
// every ResNet layer (K <= 72 words) is one chunk with no per-chunk reduction.
constexpr std::size_t kEdgeChunkWords = 8188;

inline uint8x16_t load_q(const BitWord* p) { return vreinterpretq_u8_u64(vld1q_u64(p)); }

// One word in the low half, zeros above: popcount of the high half is 0.
inline uint8x16_t load_half_q(const BitWord* p) {
  return vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
}

// Two steps (4 words) with one 2-register load.
inline uint8x16x2_t load_2q(const BitWord* p) {
  const uint64x2x2_t v = vld1q_u64_x2(p);
  return {{vreinterpretq_u8_u64(v.val[0]), vreinterpretq_u8_u64(v.val[1])}};
}

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

// One 4-word double step of an MR x NR edge tile; the row pointers move past it.
template <int MR, int NR>
inline void double_step(const BitWord** a_rows, const BitWord** b_rows, uint16x8_t (&acc)[MR][NR]) {
  uint8x16x2_t a[MR];  // activation rows stay live while the weight rows stream past
  for (int m = 0; m < MR; ++m) {
    a[m] = load_2q(a_rows[m]);
    a_rows[m] += 4;
  }
  for (int n = 0; n < NR; ++n) {
    const uint8x16x2_t w = load_2q(b_rows[n]);
    b_rows[n] += 4;
    for (int m = 0; m < MR; ++m)
      acc[m][n] = vpadalq_u8(acc[m][n], vaddq_u8(xor_count(a[m].val[0], w.val[0]),
                                                 xor_count(a[m].val[1], w.val[1])));
  }
}

// `pairs` >= 1 pairs of double steps (8 words) of a 1 x 4 tile, the one
// edge shape of a layer with an odd number of output pixels (7 x 7): the
// arithmetic of double_step<1, 4> twice, in a loop of 55 instructions. Each
// row is one post-indexed 4-register load, where the compiler spends 5
// address adds per double step (ld1 has no offset form). The four counts of a
// pair add in u8 (<= 32 per byte) before the uadalp.
inline void double_step_pairs_1x4(const BitWord*& a, const BitWord* (&b)[4], std::size_t pairs,
                                  uint16x8_t (&acc)[4]) {
#define IRNET_A64_EDGE_ROW(b0, b1, b2, b3, acc) \
  "eor " b0 ".16b, " b0 ".16b, v0.16b\n"        \
  "eor " b1 ".16b, " b1 ".16b, v1.16b\n"        \
  "eor " b2 ".16b, " b2 ".16b, v2.16b\n"        \
  "eor " b3 ".16b, " b3 ".16b, v3.16b\n"        \
  "cnt " b0 ".16b, " b0 ".16b\n"                \
  "cnt " b1 ".16b, " b1 ".16b\n"                \
  "cnt " b2 ".16b, " b2 ".16b\n"                \
  "cnt " b3 ".16b, " b3 ".16b\n"                \
  "add " b0 ".16b, " b0 ".16b, " b1 ".16b\n"    \
  "add " b2 ".16b, " b2 ".16b, " b3 ".16b\n"    \
  "add " b0 ".16b, " b0 ".16b, " b2 ".16b\n"    \
  "uadalp " acc ".8h, " b0 ".16b\n"
  asm("1:\n"
      "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%[a]], #64\n"
      "ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [%[b0]], #64\n"
      "ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [%[b1]], #64\n"
      "ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [%[b2]], #64\n"
      "ld1 {v24.16b, v25.16b, v26.16b, v27.16b}, [%[b3]], #64\n"
      IRNET_A64_EDGE_ROW("v4", "v5", "v6", "v7", "%[acc0]")
      IRNET_A64_EDGE_ROW("v16", "v17", "v18", "v19", "%[acc1]")
      IRNET_A64_EDGE_ROW("v20", "v21", "v22", "v23", "%[acc2]")
      IRNET_A64_EDGE_ROW("v24", "v25", "v26", "v27", "%[acc3]")
      "subs %[pairs], %[pairs], #1\n"
      "b.ne 1b\n"
      : [a] "+r"(a), [b0] "+r"(b[0]), [b1] "+r"(b[1]), [b2] "+r"(b[2]), [b3] "+r"(b[3]),
        [pairs] "+r"(pairs), [acc0] "+w"(acc[0]), [acc1] "+w"(acc[1]), [acc2] "+w"(acc[2]),
        [acc3] "+w"(acc[3])
      :
      : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "v20", "v21",
        "v22", "v23", "v24", "v25", "v26", "v27", "cc", "memory");
#undef IRNET_A64_EDGE_ROW
}

// The popcount sums of words [k, k + words) of the MR x NR edge tile's rows,
// 1 <= words <= kEdgeChunkWords, added to total[m] (lane n = column n; lanes
// n >= NR get 0).
template <int MR, int NR>
inline void add_edge_chunk(const BitWord* const* a_base, const BitWord* const* b_base, std::size_t k,
                           std::size_t words, uint32x4_t (&total)[MR]) {
  const BitWord* a_rows[MR];
  const BitWord* b_rows[NR];
  for (int m = 0; m < MR; ++m) a_rows[m] = a_base[m] + k;
  for (int n = 0; n < NR; ++n) b_rows[n] = b_base[n] + k;
  uint16x8_t acc[MR][NR];
  for (auto& row : acc)
    for (uint16x8_t& a : row) a = vdupq_n_u16(0);
  std::size_t doubles = words / 4;
  if constexpr (MR == 1 && NR == 4) {
    if (doubles >= 2) double_step_pairs_1x4(a_rows[0], b_rows, doubles / 2, acc[0]);
    doubles %= 2;
  }
  for (; doubles > 0; --doubles) double_step<MR, NR>(a_rows, b_rows, acc);
  // The last 2-word step and odd word of the chunk.
  const auto single = [&](auto load, std::size_t offset) {
    uint8x16_t a[MR];
    for (int m = 0; m < MR; ++m) a[m] = load(a_rows[m] + offset);
    for (int n = 0; n < NR; ++n) {
      const uint8x16_t w = load(b_rows[n] + offset);
      for (int m = 0; m < MR; ++m) acc[m][n] = vpadalq_u8(acc[m][n], xor_count(a[m], w));
    }
  };
  if (words & 2) single(load_q, 0);
  if (words & 1) single(load_half_q, words & 2);
  // Row m: the four column sums as u32 lanes (widened first: two u16 lanes may exceed 65535).
  for (int m = 0; m < MR; ++m) {
    uint32x4_t col[4];
    for (int n = 0; n < 4; ++n) col[n] = n < NR ? vpaddlq_u16(acc[m][n]) : vdupq_n_u32(0);
    total[m] = vaddq_u32(total[m], vpaddq_u32(vpaddq_u32(col[0], col[1]), vpaddq_u32(col[2], col[3])));
  }
}

// The assembly routine needs at least one double step.
constexpr std::size_t kMinAssemblyWords = 4;

// The kernel for bgemm_tiled (bgemm/bgemm_tiles.h): the full 4x4 tiles of all
// full column panels in one assembly call (K >= kMinAssemblyWords), MR x NR
// edge tiles (1 <= MR, NR <= 4) and the full tiles of a shorter K with
// intrinsics.
struct NeonA64Kernel {
  static void tile_panels(std::size_t panels, std::size_t tiles, std::size_t K, const BitWord* A,
                          std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                          std::size_t ldc) {
    if (K >= kMinAssemblyWords) {
      irnet_bgemm4x4_column_neon_a64(A, lda * sizeof(BitWord), B, ldb * sizeof(BitWord), K, C,
                                     ldc * sizeof(std::int32_t), tiles, panels);
      return;
    }
    for (std::size_t p = 0; p < panels; ++p)
      for (std::size_t t = 0; t < tiles; ++t)
        tile<4, 4>(K, A + 4 * t * lda, lda, B + 4 * p * ldb, ldb, C + 4 * t * ldc + 4 * p, ldc);
  }

  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    const BitWord* a_rows[MR];
    const BitWord* b_rows[NR];
    for (int m = 0; m < MR; ++m) a_rows[m] = A + m * lda;
    for (int n = 0; n < NR; ++n) b_rows[n] = B + n * ldb;
    uint32x4_t total[MR];  // total[m] = tile row m
    for (auto& t : total) t = vdupq_n_u32(0);
    for (std::size_t k = 0; k < K; k += kEdgeChunkWords)
      add_edge_chunk<MR, NR>(a_rows, b_rows, k, K - k < kEdgeChunkWords ? K - k : kEdgeChunkWords, total);
    for (int m = 0; m < MR; ++m) {
      const int32x4_t row = vreinterpretq_s32_u32(total[m]);
      std::int32_t* c = C + m * ldc;
      if (NR == 4) {
        vst1q_s32(c, row);
      } else {
        std::int32_t sums[4];
        vst1q_s32(sums, row);
        for (int n = 0; n < NR; ++n) c[n] = sums[n];
      }
    }
  }
};

}  // namespace

void bgemm_4x4_neon_a64(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc) {
  bgemm_detail::bgemm_tiled<NeonA64Kernel, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

namespace {
const BgemmKernel kNeon = {"bgemm_4x4_neon_a64", always_supported, &bgemm_4x4_neon_a64, 4, 4};
const BgemmKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BgemmKernel> kBgemmKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
