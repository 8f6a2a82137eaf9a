// irnet_sconv7x2_4x16_neon_a64: the AArch64 NEON direct kernel for 7-wide,
// column-stride-2 float convolutions on column-phase planes (layout and math:
// fconv/phase_conv.h; the contract, tile loop and epilogue it shares with the
// 3-wide kernel: sconv_tile_a64.h; the C++ side, partial tiles included, is
// fconv/arm64/sconv_neon_a64.cc). Its (i, c) pair, 7 taps:
//
// Per tile, the channels are the vector lanes: accumulator v(p) holds the 4
// channels of pixel p. Tap t of an (i, c) pair multiplies the tap's 4 channel
// weights (one register of the packed tile) by the input float of each pixel,
// taken by element:
//   acc(p) += w_t * x_phase[q + p + k]   (k = t for t < 4 on phase 0, t - 4 on phase 1)
// So the 16 pixels x 4 taps of phase 0 read floats q .. q + 18 of one plane,
// and the 3 taps of phase 1 floats q .. q + 17 of the other: each input float
// is loaded once per pair and used by up to 4 taps (the element index does
// the shift). Per pair: 7 weight registers + 5 + 5 input registers (the fifth
// of each phase is an unaligned load of the last 4 floats, q + 15 / q + 14, so
// no load reads past the plane contract of phase_conv.h) for 112 fmla.
// The pair loop is rotated (sconv_tile_a64.h: a branch right after the FMAs
// waited 8 modelled cycles). START loads the 4-register ld1 first (its longer
// latency waits 2 cycles behind the FMAs, an ldp 5). llvm-mca Cortex-A53: 266
// cycles per iteration of 248 instructions, 133 per pair (the unrotated loop, weights loaded first: 278; one pair per
// iteration: 141; a 16-pixel by-tap kernel with 35 register loads per pair:
// 152 for 130).
// The FMAs of one accumulator run in tap order t = 0..6 and pair order, the
// order of phase_conv.h; the FMAs of different pixels interleave freely.
#include "fconv/arm64/sconv_tile_a64.h"

// Vector registers: v0-v15 accumulators (pixel p in v(p)), v16-v22 weights of
// taps 0-6, v23-v27 phase 0 floats q + 0/4/8/12/15, v28-v31 phase 1 floats
// q + 0/4/8/12 and v23 again (after its last phase-0 use) for q + 14.

// START of one (i, c) pair: phase 0's floats (the ld1 first, see above), the
// weights of its 7 taps, with the pointer updates and, when `count` is 1, the
// loop's counter update among the last loads, where they dual-issue (a scalar
// op right after an FMA would wait for the FMA's write-back).
.macro irnet_sconv_pair_start count
  ld1 {v23.4s, v24.4s, v25.4s, v26.4s}, [P0]
  ldp q16, q17, [WEIGHTS]
  ldur q27, [P0, #60]
  ldp q18, q19, [WEIGHTS, #32]
  ldp q20, q21, [WEIGHTS, #64]
  add P1, P0, PLANE_BYTES
  add P0, P0, PAIR_BYTES
.if \count
  subs ITERATIONS, ITERATIONS, #1
.endif
  ldr q22, [WEIGHTS, #96]
  add WEIGHTS, WEIGHTS, #112
.endm

// FMAS: the pair's 112 FMAs, tap by tap, with phase 1's floats loaded as soon
// as v23 is free.
.macro irnet_sconv_pair_fmas
  // t = 0 (j = 0): phase 0, floats q + 0 .. q + 15
  irnet_sconv_tap_k0 v16, v23, v24, v25, v26
  // t = 1 (j = 2): phase 0, floats q + 1 .. q + 16
  irnet_sconv_tap_k1 v17, v23, v24, v25, v26, v27.s[1]
  // t = 2 (j = 4): phase 0, floats q + 2 .. q + 17
  irnet_sconv_tap_k2 v18, v23, v24, v25, v26, v27.s[1], v27.s[2]
  // t = 3 (j = 6): phase 0, floats q + 3 .. q + 18
  irnet_sconv_fma4 v0, v1, v2, v3, v19, v23.s[3], v24.s[0], v24.s[1], v24.s[2]
  // v23 is free (its last reader was just above): phase 1 of this pair,
  // 12 FMAs before its first use.
  ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [P1]
  ldur q23, [P1, #56]
  irnet_sconv_fma4 v4, v5, v6, v7, v19, v24.s[3], v25.s[0], v25.s[1], v25.s[2]
  irnet_sconv_fma4 v8, v9, v10, v11, v19, v25.s[3], v26.s[0], v26.s[1], v26.s[2]
  irnet_sconv_fma4 v12, v13, v14, v15, v19, v26.s[3], v27.s[1], v27.s[2], v27.s[3]
  // t = 4 (j = 1): phase 1, floats q + 0 .. q + 15
  irnet_sconv_tap_k0 v20, v28, v29, v30, v31
  // t = 5 (j = 3): phase 1, floats q + 1 .. q + 16
  irnet_sconv_tap_k1 v21, v28, v29, v30, v31, v23.s[2]
  // t = 6 (j = 5): phase 1, floats q + 2 .. q + 17
  irnet_sconv_tap_k2 v22, v28, v29, v30, v31, v23.s[2], v23.s[3]
.endm

  irnet_sconv_x2_routine irnet_sconv7x2_4x16_neon_a64, irnet_sconv_pair_start, irnet_sconv_pair_fmas

  .section .note.GNU-stack,"",%progbits
