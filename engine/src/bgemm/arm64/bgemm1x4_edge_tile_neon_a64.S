// irnet_bgemm1x4_edge_tile_neon_a64: the 1x4 edge tile of the AArch64 NEON
// xor-popcount GEMM, one activation row against four weight rows: the last
// row of a layer whose output pixels are 4k + 1 (7 x 7 = 49).
// bgemm/arm64/bgemm_neon_a64.cc explains the edge tiles' arithmetic, which its
// intrinsics run for the other edge shapes: one u16 accumulator per pair, fed
// by uadalp, and chunks of at most kEdgeChunkWords = 8188 words, whose sums
// (at most 8 per word and lane, 8 more for an odd word) stay <= 65512.
//
// void irnet_bgemm1x4_edge_tile_neon_a64(size_t K, const BitWord* a,
//                                        const BitWord* b, size_t ldb_bytes,
//                                        int32_t* c);
// c[n] = popcount sum of a ^ b_n over K >= 0 words, b_n at b + n * ldb_bytes.
// Per chunk: pairs of double steps (8 words), each row one post-indexed
// 4-register load (ld1 has no offset form) and its four counts added in u8
// (<= 32 per byte) before the uadalp, 55 instructions per pair; then a double
// step (4 words), a 2-word step and an odd word as the chunk's length asks
// (the odd word is loaded with ldr d, which zeroes the high half: its count
// there is 0). The chunk's accumulators are widened and summed pairwise into
// the four columns, which the first chunk stores into c and later ones add to
// it.
//
// Register map. General registers (all caller-saved; x0-x4 hold the arguments):
#define WORDS_LEFT   x0   // K: words after the current chunk
#define A_ROW        x1   // the rows, moved past each load
#define B_ROW0       x2
#define ARG_LDB      x3
#define C_OUT        x4
#define B_ROW1       x5
#define B_ROW2       x6
#define B_ROW3       x7
#define CHUNK_WORDS  x8
#define PAIRS_LEFT   x9   // pairs of double steps left in the chunk
#define CHUNK_MAX    x10  // kEdgeChunkWords
#define NOT_FIRST    x11  // 0 in the first chunk (which stores c), then 1 (adds to it)
// Vector registers (none of v8-v15, so nothing is saved): acc[n] in v(n); a's
// words in v28-v31; b_0's in v4-v7, b_1's in v16-v19, b_2's in v20-v23 and
// b_3's in v24-v27 (as many of each as the step loads), each overwritten by
// its counts.

// Row n of a pair of double steps: its four counts summed and added to acc[n].
.macro irnet_a64_edge_row4 acc, b0, b1, b2, b3
  eor v\b0\().16b, v\b0\().16b, v28.16b
  eor v\b1\().16b, v\b1\().16b, v29.16b
  eor v\b2\().16b, v\b2\().16b, v30.16b
  eor v\b3\().16b, v\b3\().16b, v31.16b
  cnt v\b0\().16b, v\b0\().16b
  cnt v\b1\().16b, v\b1\().16b
  cnt v\b2\().16b, v\b2\().16b
  cnt v\b3\().16b, v\b3\().16b
  add v\b0\().16b, v\b0\().16b, v\b1\().16b
  add v\b2\().16b, v\b2\().16b, v\b3\().16b
  add v\b0\().16b, v\b0\().16b, v\b2\().16b
  uadalp v\acc\().8h, v\b0\().16b
.endm

// Row n of a double step.
.macro irnet_a64_edge_row2 acc, b0, b1
  eor v\b0\().16b, v\b0\().16b, v28.16b
  eor v\b1\().16b, v\b1\().16b, v29.16b
  cnt v\b0\().16b, v\b0\().16b
  cnt v\b1\().16b, v\b1\().16b
  add v\b0\().16b, v\b0\().16b, v\b1\().16b
  uadalp v\acc\().8h, v\b0\().16b
.endm

// Row n of a 2-word step or of the odd word.
.macro irnet_a64_edge_row1 acc, b0
  eor v\b0\().16b, v\b0\().16b, v28.16b
  cnt v\b0\().16b, v\b0\().16b
  uadalp v\acc\().8h, v\b0\().16b
.endm

// A 2-word step (kind q) or the odd word (kind d): one register per row.
.macro irnet_a64_edge_single kind, bytes
  ldr \kind\()28, [A_ROW], \bytes
  ldr \kind\()4, [B_ROW0], \bytes
  ldr \kind\()16, [B_ROW1], \bytes
  ldr \kind\()20, [B_ROW2], \bytes
  ldr \kind\()24, [B_ROW3], \bytes
  irnet_a64_edge_row1 0, 4
  irnet_a64_edge_row1 1, 16
  irnet_a64_edge_row1 2, 20
  irnet_a64_edge_row1 3, 24
.endm

  .text
  .p2align 4
  .global irnet_bgemm1x4_edge_tile_neon_a64
  .hidden irnet_bgemm1x4_edge_tile_neon_a64
  .type irnet_bgemm1x4_edge_tile_neon_a64, %function
irnet_bgemm1x4_edge_tile_neon_a64:
  add B_ROW1, B_ROW0, ARG_LDB
  add B_ROW2, B_ROW1, ARG_LDB
  add B_ROW3, B_ROW2, ARG_LDB
  mov CHUNK_MAX, #8188
  mov NOT_FIRST, #0
.Lirnet_a64_edge_chunk:
  cmp WORDS_LEFT, CHUNK_MAX
  csel CHUNK_WORDS, WORDS_LEFT, CHUNK_MAX, ls
  sub WORDS_LEFT, WORDS_LEFT, CHUNK_WORDS
  movi v0.2d, #0
  movi v1.2d, #0
  movi v2.2d, #0
  movi v3.2d, #0
  lsr PAIRS_LEFT, CHUNK_WORDS, #3
  cbz PAIRS_LEFT, .Lirnet_a64_edge_double
.Lirnet_a64_edge_pair:
  ld1 {v28.16b, v29.16b, v30.16b, v31.16b}, [A_ROW], #64
  ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [B_ROW0], #64
  ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [B_ROW1], #64
  ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [B_ROW2], #64
  ld1 {v24.16b, v25.16b, v26.16b, v27.16b}, [B_ROW3], #64
  irnet_a64_edge_row4 0, 4, 5, 6, 7
  irnet_a64_edge_row4 1, 16, 17, 18, 19
  irnet_a64_edge_row4 2, 20, 21, 22, 23
  irnet_a64_edge_row4 3, 24, 25, 26, 27
  subs PAIRS_LEFT, PAIRS_LEFT, #1
  b.ne .Lirnet_a64_edge_pair
.Lirnet_a64_edge_double:
  tbz CHUNK_WORDS, #2, .Lirnet_a64_edge_step
  ld1 {v28.16b, v29.16b}, [A_ROW], #32
  ld1 {v4.16b, v5.16b}, [B_ROW0], #32
  ld1 {v16.16b, v17.16b}, [B_ROW1], #32
  ld1 {v20.16b, v21.16b}, [B_ROW2], #32
  ld1 {v24.16b, v25.16b}, [B_ROW3], #32
  irnet_a64_edge_row2 0, 4, 5
  irnet_a64_edge_row2 1, 16, 17
  irnet_a64_edge_row2 2, 20, 21
  irnet_a64_edge_row2 3, 24, 25
.Lirnet_a64_edge_step:
  tbz CHUNK_WORDS, #1, .Lirnet_a64_edge_odd
  irnet_a64_edge_single q, #16
.Lirnet_a64_edge_odd:
  tbz CHUNK_WORDS, #0, .Lirnet_a64_edge_reduce
  irnet_a64_edge_single d, #8
.Lirnet_a64_edge_reduce:           // v0 = the chunk's four column sums (u32)
  uaddlp v0.4s, v0.8h
  uaddlp v1.4s, v1.8h
  uaddlp v2.4s, v2.8h
  uaddlp v3.4s, v3.8h
  addp v0.4s, v0.4s, v1.4s
  addp v2.4s, v2.4s, v3.4s
  addp v0.4s, v0.4s, v2.4s
  cbz NOT_FIRST, .Lirnet_a64_edge_store
  ldr q4, [C_OUT]
  add v0.4s, v0.4s, v4.4s
.Lirnet_a64_edge_store:
  str q0, [C_OUT]
  mov NOT_FIRST, #1
  cbnz WORDS_LEFT, .Lirnet_a64_edge_chunk
  ret
  .size irnet_bgemm1x4_edge_tile_neon_a64, .-irnet_bgemm1x4_edge_tile_neon_a64

  .section .note.GNU-stack,"",%progbits
