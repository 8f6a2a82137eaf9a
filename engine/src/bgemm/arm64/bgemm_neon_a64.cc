// AArch64 NEON xor-popcount GEMM, 4x4 register-blocked.
//
// For a tile of MR activation rows (A) and NR weight rows (B) the kernel walks
// K in 128-bit steps: per step it loads MR + NR q registers and, for each of the
// MR*NR pairs, computes cnt(a ^ b) (per-byte popcount, each byte 0..8) and adds
// it to a per-pair u8x16 accumulator: 3 NEON instructions per 128 binary MACs,
// the resource bound of the loop (eor, cnt and add each take the Cortex-A53
// NEON pipe one cycle per q register => 128/3 = 42.7 MACs/cycle).
//
// Overflow: one step adds at most 8 to each byte lane, so a u8 lane is safe for
// floor(255 / 8) = 31 steps (248). K is therefore processed in chunks of at most
// 31 steps = 62 words; after each chunk the sixteen accumulators are reduced
// horizontally into u16 sums and widened into u32 totals.
//
// Horizontal reduction of the 16 accumulators acc[i], i = 4*m + n, of a chunk
// of s full steps. Pairwise adds (addp) stay in u8 as long as the lane bound
// allows, including the odd last word (below), which adds at most 8 per lane at
// level 1 (16 at level 2):
//   level 1 in u8 if 2*8s + 8 <= 255 (s <= 15), level 2 too if 4*8s + 16 <= 255 (s <= 7),
// the remaining levels widen once (uaddlp) and continue in u16, where a full
// sum is at most 16 * 248 < 2^16. Every addp keeps lanes in order, so after
// log2(16) = 4 levels in total, s0 lane t = sum of acc[t] and s1 lane t = sum
// of acc[8 + t]: s0 holds tile rows 0-1 (4 columns each), s1 rows 2-3.
//
// The full 4x4 tile with K >= 2 runs the hand-scheduled assembly routine below
// (the hot path of every binary convolution). Its odd last word is not a
// half-empty step: a_m's word is duplicated into both halves of a q register
// and the words of b0|b1 and b2|b3 are paired, so 8 eor/cnt count all 16 pairs,
// and each result joins the first reduction level, whose lanes 0-7 / 8-15 hold
// exactly those two pairs. Edge tiles (MR or NR < 4) and K = 1 run the same
// arithmetic written with intrinsics, where an odd last word is loaded into the
// low half of a q register (zero high half) and counts as one more step.
#include "bgemm/arm64/bgemm_neon_a64.h"

#include <arm_neon.h>

#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_registry.h"

// void irnet_bgemm4x4_tile_neon_a64(const BitWord* a, size_t lda_bytes,
//                                   const BitWord* b, size_t ldb_bytes,
//                                   size_t K, int32_t* c, size_t ldc_bytes);   K >= 2
// The full 4x4 tile: c[m * ldc + n] = popcount sums over K words of rows
// a + m * lda and b + n * ldb. Chunks hold 2..62 words (a chunk that would
// leave a single word behind takes 61), each reduced as in the header into
// s0 = v0, s1 = v1 and widened into C (stored by the first chunk, added to by
// the next ones).
//
// Registers: x0, x5-x7 activation rows, x2, x8-x10 weight rows, x13-x16 C rows,
// x1 byte offset of the chunk, x3 words left, x4 words of the chunk, x11 byte
// offset of the next step, x12 step counter, x17 = 0 in the first chunk.
// v0-v3 activation data, v4-v7 weight data, v8-v15 eor/cnt temporaries (pair
// p uses v(8 + p % 8)), v16-v31 the sixteen u8 accumulators (pair p = 4m + n
// in v(16 + p)). d8-d15 are callee-saved and restored on return.
//
// Schedule (Cortex-A53 is in order, q-register eor/cnt/add results arrive
// several cycles later): within a step, pair p is xor-ed in slot p, counted in
// slot p + 2 and accumulated in slot p + 4, so each result is consumed 6-12
// instructions after it is produced. Slots p + 2, p + 4 >= 16 fall into the
// next step's first slots (software pipelining across steps; the last step is
// followed by a drain). The next step's registers are loaded as soon as the
// current step has read them for the last time (a_m after slot 4m + 3, b_n
// after slot 12 + n), so loads overlap with computation and never read past
// the last word: the last full step loads nothing, and an odd last word is
// read with 64-bit loads (irnet_a64_odd_word).
asm(R"(
.macro irnet_a64_load enabled, reg, row
.if \enabled
  ldr q\reg, [\row, x11]
.endif
.endm

// Slot: xor pair (a, b) into temp t; count the temp ct of an earlier pair
// (cprev = 1: a pair of the previous step; in the first step of a chunk a
// count of pairs 0-11 goes straight into its accumulator cacc); add temp at
// into accumulator aacc (not in the first step: nothing to add to yet).
.macro irnet_a64_slot first, t, a, b, ct, cacc, cprev, at, aacc
  eor v\t\().16b, v\a\().16b, v\b\().16b
.if \cprev
.if !\first
  cnt v\ct\().16b, v\ct\().16b
.endif
.elseif \first && (\cacc < 28)
  cnt v\cacc\().16b, v\ct\().16b
.else
  cnt v\ct\().16b, v\ct\().16b
.endif
.if !\first
  add v\aacc\().16b, v\aacc\().16b, v\at\().16b
.endif
.endm

// One 128-bit step of the 16 pairs. first = 1: first step of the chunk
// (accumulators 12-15, which are only ever added to, start at zero).
// load = 1: load the next step (0 in the last step).
.macro irnet_a64_step first, load
.if \first
  movi v28.16b, #0
  movi v29.16b, #0
  movi v30.16b, #0
  movi v31.16b, #0
.endif
  irnet_a64_slot \first, 8, 0, 4, 14, 30, 1, 12, 28
  irnet_a64_slot \first, 9, 0, 5, 15, 31, 1, 13, 29
  irnet_a64_slot \first, 10, 0, 6, 8, 16, 0, 14, 30
  irnet_a64_slot \first, 11, 0, 7, 9, 17, 0, 15, 31
  irnet_a64_load \load, 0, x0
  irnet_a64_slot \first, 12, 1, 4, 10, 18, 0, 8, 16
  irnet_a64_slot \first, 13, 1, 5, 11, 19, 0, 9, 17
  irnet_a64_slot \first, 14, 1, 6, 12, 20, 0, 10, 18
  irnet_a64_slot \first, 15, 1, 7, 13, 21, 0, 11, 19
  irnet_a64_load \load, 1, x5
  irnet_a64_slot \first, 8, 2, 4, 14, 22, 0, 12, 20
  irnet_a64_slot \first, 9, 2, 5, 15, 23, 0, 13, 21
  irnet_a64_slot \first, 10, 2, 6, 8, 24, 0, 14, 22
  irnet_a64_slot \first, 11, 2, 7, 9, 25, 0, 15, 23
  irnet_a64_load \load, 2, x6
  irnet_a64_slot \first, 12, 3, 4, 10, 26, 0, 8, 24
  irnet_a64_load \load, 4, x2
  irnet_a64_slot \first, 13, 3, 5, 11, 27, 0, 9, 25
  irnet_a64_load \load, 5, x8
  irnet_a64_slot \first, 14, 3, 6, 12, 28, 0, 10, 26
  irnet_a64_load \load, 6, x9
  irnet_a64_slot \first, 15, 3, 7, 13, 29, 0, 11, 27
  irnet_a64_load \load, 7, x10
  irnet_a64_load \load, 3, x7
.if \load
  add x11, x11, #16
.endif
.endm

// Counts and adds that the last step left to the next step's slots.
.macro irnet_a64_drain
  cnt v14.16b, v14.16b
  cnt v15.16b, v15.16b
  add v28.16b, v28.16b, v12.16b
  add v29.16b, v29.16b, v13.16b
  add v30.16b, v30.16b, v14.16b
  add v31.16b, v31.16b, v15.16b
.endm

// The odd last word (x11 = its byte offset) for all 16 pairs in 8 q registers:
// a_m's word in both halves against (b0, b1) and against (b2, b3), so
// v(8 + 2m) = counts of pairs (m, 0) | (m, 1) and v(9 + 2m) = (m, 2) | (m, 3).
// Lanes 0-7 / 8-15 of v(8 + j) belong to the same pairs as lanes 0-7 / 8-15 of
// the first reduction level addp(acc[2j], acc[2j + 1]), where they are added.
.macro irnet_a64_odd_word
  ldr d0, [x0, x11]
  ldr d1, [x5, x11]
  ldr d2, [x6, x11]
  ldr d3, [x7, x11]
  ldr d4, [x2, x11]
  ldr d5, [x8, x11]
  ldr d6, [x9, x11]
  ldr d7, [x10, x11]
  dup v0.2d, v0.d[0]
  dup v1.2d, v1.d[0]
  dup v2.2d, v2.d[0]
  dup v3.2d, v3.d[0]
  zip1 v4.2d, v4.2d, v5.2d
  zip1 v6.2d, v6.2d, v7.2d
  eor v8.16b, v0.16b, v4.16b
  eor v9.16b, v0.16b, v6.16b
  eor v10.16b, v1.16b, v4.16b
  eor v11.16b, v1.16b, v6.16b
  eor v12.16b, v2.16b, v4.16b
  eor v13.16b, v2.16b, v6.16b
  eor v14.16b, v3.16b, v4.16b
  eor v15.16b, v3.16b, v6.16b
  cnt v8.16b, v8.16b
  cnt v9.16b, v9.16b
  cnt v10.16b, v10.16b
  cnt v11.16b, v11.16b
  cnt v12.16b, v12.16b
  cnt v13.16b, v13.16b
  cnt v14.16b, v14.16b
  cnt v15.16b, v15.16b
.endm

// v0-v7 (the first reduction level; wide = 1: u16 lanes, 0: u8 lanes)
// += the odd word's counts v8-v15.
.macro irnet_a64_add_odd_word wide
.if \wide
  uadalp v0.8h, v8.16b
  uadalp v1.8h, v9.16b
  uadalp v2.8h, v10.16b
  uadalp v3.8h, v11.16b
  uadalp v4.8h, v12.16b
  uadalp v5.8h, v13.16b
  uadalp v6.8h, v14.16b
  uadalp v7.8h, v15.16b
.else
  add v0.16b, v0.16b, v8.16b
  add v1.16b, v1.16b, v9.16b
  add v2.16b, v2.16b, v10.16b
  add v3.16b, v3.16b, v11.16b
  add v4.16b, v4.16b, v12.16b
  add v5.16b, v5.16b, v13.16b
  add v6.16b, v6.16b, v14.16b
  add v7.16b, v7.16b, v15.16b
.endif
.endm

  .text
  .p2align 4
  .global irnet_bgemm4x4_tile_neon_a64
  .hidden irnet_bgemm4x4_tile_neon_a64
  .type irnet_bgemm4x4_tile_neon_a64, %function
irnet_bgemm4x4_tile_neon_a64:
  stp d8, d9, [sp, #-64]!
  stp d10, d11, [sp, #16]
  stp d12, d13, [sp, #32]
  stp d14, d15, [sp, #48]
  mov x13, x5
  add x14, x5, x6
  add x15, x14, x6
  add x16, x15, x6
  add x5, x0, x1
  add x8, x2, x3
  add x6, x5, x1
  add x9, x8, x3
  add x7, x6, x1
  add x10, x9, x3
  mov x3, x4                       // words left
  mov x1, #0                       // chunk offset
  mov x17, #0
.Lirnet_a64_chunk:
  mov x4, #62
  cmp x3, #62
  csel x4, x3, x4, ls              // min(words left, 62)
  sub x12, x3, x4
  cmp x12, #1
  b.ne 1f
  mov x4, #61                      // never leave a single word for the last chunk
1:
  mov x11, x1
  irnet_a64_load 1, 0, x0
  irnet_a64_load 1, 4, x2
  irnet_a64_load 1, 1, x5
  irnet_a64_load 1, 5, x8
  irnet_a64_load 1, 2, x6
  irnet_a64_load 1, 6, x9
  irnet_a64_load 1, 3, x7
  irnet_a64_load 1, 7, x10
  add x11, x1, #16
  lsr x12, x4, #1                  // full 128-bit steps, >= 1
  cmp x12, #1
  b.eq .Lirnet_a64_one_full
  irnet_a64_step 1, 1
  subs x12, x12, #2                // full steps between the first and the last
  b.eq .Lirnet_a64_last_full
.Lirnet_a64_loop:
  irnet_a64_step 0, 1
  subs x12, x12, #1
  b.ne .Lirnet_a64_loop
.Lirnet_a64_last_full:
  irnet_a64_step 0, 0
  b .Lirnet_a64_drain
.Lirnet_a64_one_full:
  irnet_a64_step 1, 0
.Lirnet_a64_drain:
  irnet_a64_drain
  tbz x4, #0, .Lirnet_a64_reduce
  irnet_a64_odd_word
.Lirnet_a64_reduce:
  cmp x4, #15                      // <= 7 full steps: two u8 levels
  b.ls .Lirnet_a64_u8_two_levels
  cmp x4, #31                      // <= 15 full steps: one u8 level
  b.ls .Lirnet_a64_u8_one_level
  uaddlp v16.8h, v16.16b
  uaddlp v17.8h, v17.16b
  uaddlp v18.8h, v18.16b
  uaddlp v19.8h, v19.16b
  uaddlp v20.8h, v20.16b
  uaddlp v21.8h, v21.16b
  uaddlp v22.8h, v22.16b
  uaddlp v23.8h, v23.16b
  uaddlp v24.8h, v24.16b
  uaddlp v25.8h, v25.16b
  uaddlp v26.8h, v26.16b
  uaddlp v27.8h, v27.16b
  uaddlp v28.8h, v28.16b
  uaddlp v29.8h, v29.16b
  uaddlp v30.8h, v30.16b
  uaddlp v31.8h, v31.16b
  addp v0.8h, v16.8h, v17.8h
  addp v1.8h, v18.8h, v19.8h
  addp v2.8h, v20.8h, v21.8h
  addp v3.8h, v22.8h, v23.8h
  addp v4.8h, v24.8h, v25.8h
  addp v5.8h, v26.8h, v27.8h
  addp v6.8h, v28.8h, v29.8h
  addp v7.8h, v30.8h, v31.8h
  tbz x4, #0, .Lirnet_a64_u16_eight
  irnet_a64_add_odd_word 1
  b .Lirnet_a64_u16_eight
.Lirnet_a64_u8_one_level:
  addp v0.16b, v16.16b, v17.16b
  addp v1.16b, v18.16b, v19.16b
  addp v2.16b, v20.16b, v21.16b
  addp v3.16b, v22.16b, v23.16b
  addp v4.16b, v24.16b, v25.16b
  addp v5.16b, v26.16b, v27.16b
  addp v6.16b, v28.16b, v29.16b
  addp v7.16b, v30.16b, v31.16b
  tbz x4, #0, 1f
  irnet_a64_add_odd_word 0
1:
  uaddlp v0.8h, v0.16b
  uaddlp v1.8h, v1.16b
  uaddlp v2.8h, v2.16b
  uaddlp v3.8h, v3.16b
  uaddlp v4.8h, v4.16b
  uaddlp v5.8h, v5.16b
  uaddlp v6.8h, v6.16b
  uaddlp v7.8h, v7.16b
.Lirnet_a64_u16_eight:             // v0-v7: four u16 lanes per accumulator
  addp v0.8h, v0.8h, v1.8h
  addp v1.8h, v2.8h, v3.8h
  addp v2.8h, v4.8h, v5.8h
  addp v3.8h, v6.8h, v7.8h
  b .Lirnet_a64_u16_four
.Lirnet_a64_u8_two_levels:
  addp v0.16b, v16.16b, v17.16b
  addp v1.16b, v18.16b, v19.16b
  addp v2.16b, v20.16b, v21.16b
  addp v3.16b, v22.16b, v23.16b
  addp v4.16b, v24.16b, v25.16b
  addp v5.16b, v26.16b, v27.16b
  addp v6.16b, v28.16b, v29.16b
  addp v7.16b, v30.16b, v31.16b
  tbz x4, #0, 1f
  irnet_a64_add_odd_word 0
1:
  addp v0.16b, v0.16b, v1.16b
  addp v1.16b, v2.16b, v3.16b
  addp v2.16b, v4.16b, v5.16b
  addp v3.16b, v6.16b, v7.16b
  uaddlp v0.8h, v0.16b
  uaddlp v1.8h, v1.16b
  uaddlp v2.8h, v2.16b
  uaddlp v3.8h, v3.16b
.Lirnet_a64_u16_four:              // v0-v3: two u16 lanes per accumulator
  addp v0.8h, v0.8h, v1.8h         // s0: rows 0-1
  addp v1.8h, v2.8h, v3.8h         // s1: rows 2-3
  cbnz x17, .Lirnet_a64_add_to_c
  ushll v2.4s, v0.4h, #0
  ushll2 v3.4s, v0.8h, #0
  ushll v4.4s, v1.4h, #0
  ushll2 v5.4s, v1.8h, #0
  b .Lirnet_a64_store
.Lirnet_a64_add_to_c:
  ldr q2, [x13]
  ldr q3, [x14]
  ldr q4, [x15]
  ldr q5, [x16]
  uaddw v2.4s, v2.4s, v0.4h
  uaddw2 v3.4s, v3.4s, v0.8h
  uaddw v4.4s, v4.4s, v1.4h
  uaddw2 v5.4s, v5.4s, v1.8h
.Lirnet_a64_store:
  str q2, [x13]
  str q3, [x14]
  str q4, [x15]
  str q5, [x16]
  mov x17, #1
  add x1, x1, x4, lsl #3
  subs x3, x3, x4
  b.ne .Lirnet_a64_chunk
  ldp d10, d11, [sp, #16]
  ldp d12, d13, [sp, #32]
  ldp d14, d15, [sp, #48]
  ldp d8, d9, [sp], #64
  ret
  .size irnet_bgemm4x4_tile_neon_a64, .-irnet_bgemm4x4_tile_neon_a64
)");

extern "C" void irnet_bgemm4x4_tile_neon_a64(const irnet::BitWord* a, std::size_t lda_bytes,
                                             const irnet::BitWord* b, std::size_t ldb_bytes,
                                             std::size_t K, std::int32_t* c,
                                             std::size_t ldc_bytes);

namespace irnet {
namespace {

constexpr std::size_t kChunkWords = 62;  // 31 steps of 128 bits: 31 * 8 <= 255

inline uint8x16_t load_q(const BitWord* p) { return vreinterpretq_u8_u64(vld1q_u64(p)); }

// One word in the low half, zeros above: popcount of the high half is 0.
inline uint8x16_t load_half_q(const BitWord* p) {
  return vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
}

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

// One 128-bit step for every pair of the tile: acc[m][n] (+)= cnt(a_m ^ b_n).
// The first step of a chunk assigns instead of adding.
template <int MR, int NR, bool kFirst, typename Load>
inline void step(const BitWord* const* a_rows, const BitWord* const* b_rows, std::size_t k,
                 Load load, uint8x16_t (&acc)[4][4]) {
  uint8x16_t a[MR];  // activation rows stay live while the weight rows stream past
  for (int m = 0; m < MR; ++m) a[m] = load(a_rows[m] + k);
  for (int n = 0; n < NR; ++n) {
    const uint8x16_t w = load(b_rows[n] + k);
    for (int m = 0; m < MR; ++m) {
      const uint8x16_t count = xor_count(a[m], w);
      acc[m][n] = kFirst ? count : vaddq_u8(acc[m][n], count);
    }
  }
}

// The chunk with intrinsics: words [k, k + words), 1 <= words <= kChunkWords,
// reduced to (s0, s1) as in the header (always widening at level 1: this path
// only runs for edge tiles and K = 1). Accumulators outside an MR x NR
// edge tile stay zero.
template <int MR, int NR>
uint16x8x2_t chunk_sums(const BitWord* const* a_rows, const BitWord* const* b_rows,
                        std::size_t k, std::size_t words) {
  uint8x16_t acc[4][4];
  for (int m = 0; m < 4; ++m)
    for (int n = 0; n < 4; ++n)
      if (m >= MR || n >= NR) acc[m][n] = vdupq_n_u8(0);
  const std::size_t end = k + words;
  if (words == 1) {
    step<MR, NR, true>(a_rows, b_rows, k, load_half_q, acc);
  } else {
    step<MR, NR, true>(a_rows, b_rows, k, load_q, acc);
    for (k += 2; k + 2 <= end; k += 2) step<MR, NR, false>(a_rows, b_rows, k, load_q, acc);
    if (k < end) step<MR, NR, false>(a_rows, b_rows, k, load_half_q, acc);
  }
  uint16x8_t p[16];
  for (int i = 0; i < 16; ++i) p[i] = vpaddlq_u8(acc[i / 4][i % 4]);
  uint16x8_t q[8];
  for (int j = 0; j < 8; ++j) q[j] = vpaddq_u16(p[2 * j], p[2 * j + 1]);
  uint16x8_t r[4];
  for (int i = 0; i < 4; ++i) r[i] = vpaddq_u16(q[2 * i], q[2 * i + 1]);
  return {{vpaddq_u16(r[0], r[1]), vpaddq_u16(r[2], r[3])}};
}

// The MR x NR tile for bgemm_tiled (bgemm/bgemm_tiles.h): 1 <= MR, NR <= 4.
struct NeonA64Kernel {
  // Inlined into the blocking loop, where the full tile is one call of the
  // assembly routine.
  template <int MR, int NR>
  __attribute__((always_inline)) static inline void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    if (MR == 4 && NR == 4 && K >= 2) {
      irnet_bgemm4x4_tile_neon_a64(A, lda * sizeof(BitWord), B, ldb * sizeof(BitWord), K, C,
                                   ldc * sizeof(std::int32_t));
      return;
    }
    const BitWord* a_rows[MR];
    const BitWord* b_rows[NR];
    for (int m = 0; m < MR; ++m) a_rows[m] = A + m * lda;
    for (int n = 0; n < NR; ++n) b_rows[n] = B + n * ldb;

    uint32x4_t total[4];  // total[m] = tile row m
    for (auto& t : total) t = vdupq_n_u32(0);
    for (std::size_t k = 0; k < K; k += kChunkWords) {
      const std::size_t words = K - k < kChunkWords ? K - k : kChunkWords;
      const uint16x8x2_t s = chunk_sums<MR, NR>(a_rows, b_rows, k, words);
      total[0] = vaddw_u16(total[0], vget_low_u16(s.val[0]));
      total[1] = vaddw_high_u16(total[1], s.val[0]);
      total[2] = vaddw_u16(total[2], vget_low_u16(s.val[1]));
      total[3] = vaddw_high_u16(total[3], s.val[1]);
    }
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
const KernelVariant kVariants[] = {
    {"bgemm_4x4_neon_a64", always_supported, as_kernel_fn(&bgemm_4x4_neon_a64)},
};
}  // namespace

extern const KernelTable kBgemmKernelsArm64 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
