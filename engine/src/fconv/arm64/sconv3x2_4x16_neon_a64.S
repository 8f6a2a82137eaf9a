// irnet_sconv3x2_4x16_neon_a64: the AArch64 NEON direct kernel for 3-wide,
// column-stride-2 float convolutions on column-phase planes (layout and math:
// fconv/phase_conv.h; the contract, tile loop and epilogue it shares with the
// 7-wide kernel: sconv_tile_a64.h; the C++ side, partial tiles included, is
// fconv/arm64/sconv_neon_a64.cc). Its (i, c) pair, 3 taps (j = 0, 2, 1):
//
// Tap t multiplies the tap's 4 channel weights (one register of the packed
// tile) by the input float of each pixel, taken by element:
//   acc(p) += w_t * x_phase[q + p + k]   (k = t for t < 2 on phase 0, 0 on phase 1)
// So the 16 pixels x 2 taps of phase 0 read floats q .. q + 16 of one plane
// (4 registers and an unaligned load of q + 13 .. q + 16 for the last, so no
// load reads past the plane contract of phase_conv.h) and the one tap of
// phase 1 floats q .. q + 15 of the other (4 registers). Per pair: 3 weight
// registers and 9 input registers in 4 loads, 2 pointer adds, 48 fmla; every
// register is free again once FMAS ends, so START loads the whole pair, the
// 4-register ld1 first (see the 7-wide kernel).
// The FMAs of one accumulator run in tap order t = 0..2 and pair order, the
// order of phase_conv.h; the FMAs of different pixels interleave freely.
#include "fconv/arm64/sconv_tile_a64.h"

// Vector registers: v0-v15 accumulators (pixel p in v(p)), v16-v18 weights of
// taps 0-2, v23-v27 phase 0 floats q + 0/4/8/12/13, v28-v31 phase 1 floats
// q + 0/4/8/12.

// START of one (i, c) pair: its floats and weights, with the pointer updates
// and, when `count` is 1, the loop's counter update.
.macro irnet_sconv3_pair_start count
  ld1 {v23.4s, v24.4s, v25.4s, v26.4s}, [P0]
  ldur q27, [P0, #52]
  add P1, P0, PLANE_BYTES
  ld1 {v16.4s, v17.4s, v18.4s}, [WEIGHTS], #48
  add P0, P0, PAIR_BYTES
  ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [P1]
.if \count
  subs ITERATIONS, ITERATIONS, #1
.endif
.endm

// FMAS: the pair's 48 FMAs, tap by tap.
.macro irnet_sconv3_pair_fmas
  // t = 0 (j = 0): phase 0, floats q + 0 .. q + 15
  irnet_sconv_tap_k0 v16, v23, v24, v25, v26
  // t = 1 (j = 2): phase 0, floats q + 1 .. q + 16
  irnet_sconv_tap_k1 v17, v23, v24, v25, v26, v27.s[3]
  // t = 2 (j = 1): phase 1, floats q + 0 .. q + 15
  irnet_sconv_tap_k0 v18, v28, v29, v30, v31
.endm

  irnet_sconv_x2_routine irnet_sconv3x2_4x16_neon_a64, irnet_sconv3_pair_start, irnet_sconv3_pair_fmas

  .section .note.GNU-stack,"",%progbits
