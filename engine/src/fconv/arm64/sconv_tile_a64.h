// The AArch64 NEON direct kernels for column-stride-2 float convolutions on
// column-phase planes (layout and math: fconv/phase_conv.h), one routine per
// kernel width KW (sconv7x2_4x16_neon_a64.S, sconv3x2_4x16_neon_a64.S): their
// contract, registers, tile loop, epilogue and the FMAs of one tap. A width's
// file defines its (i, c) pair as two macros, START (the pair's loads) and
// FMAS (its 16 x KW fmla), and instantiates irnet_sconv_x2_routine with them.
// Assembly only.
//
// void irnet_sconvKWx2_4x16_neon_a64(const float* x, size_t steps,
//                                    size_t plane_bytes, const float* w,
//                                    const float* bias, float lo, float hi,
//                                    float* dst, size_t dst_step_bytes,
//                                    size_t tiles);
// tiles >= 1 tiles of 16 output pixels x 4 output channels, one after the
// other: tile t reads the packed weights w + t * steps * KW * 4 floats and bias
// + 4t, and stores pixel p's 4 channels clamp(sum + bias, lo, hi) at
// dst + 16t + p * dst_step_bytes (bytes). steps >= 1 (i, c) pairs; x is the
// phase 0 plane of the first pair at the tile's first pixel q, plane_bytes the
// length of one phase plane in bytes (a pair is two planes).
//
// Per tile, the channels are the vector lanes: accumulator v(p) holds the 4
// channels of pixel p, v0-v15, zeroed per tile. The pair loop is rotated so
// that no branch waits on FMAs: a pair runs as START then FMAS, and an
// iteration is FMAS(k) START(k+1) FMAS(k+1) START(k+2), so its branch follows
// loads (on the in-order A53 anything issued after an FMA waits for the FMA's
// write-back). START(0) comes before the loop, an odd pair after it alone, and
// the last FMAS after the loop, so no load reads past the last pair. START
// takes an argument `count`: when 1, it decrements ITERATIONS (setting the
// flags the loop's branch tests) among its loads.
// Epilogue: + bias (an FMA with 1.0, which rounds exactly like an add), clamp,
// and one 16-byte store per pixel: bias in v16, 1.0 in v17, lo in v18, hi in
// v19. v8-v15 are callee-saved (their low halves d8-d15): saved on the stack.
#pragma once

// General registers (all caller-saved; x0-x7 and s0/s1 hold the arguments on
// entry):
#define X_PLANES      x0   // phase 0 plane of the first pair, at q
#define STEPS         x1
#define PLANE_BYTES   x2
#define WEIGHTS       x3   // packed weights of the next pair, walked on across tiles
#define BIAS          x4   // bias of the current tile, walked on
#define DST           x5   // the current tile's pixel 0
#define DST_STEP      x6
#define TILES_LEFT    x7
#define P0            x8   // phase 0 plane of the next pair to start, at q
#define P1            x9   // the phase 1 plane of the last pair started
#define PAIR_BYTES    x10  // 2 * PLANE_BYTES
#define ODD           x11  // (steps - 1) & 1: an odd pair after the first
#define DOUBLE_PAIRS  x12  // (steps - 1) / 2: loop iterations per tile
#define ITERATIONS    x13  // loop iterations left in the tile
#define DST_ROW       x14  // the next pixel's store address
#define LO_BITS       w15  // lo and hi as bits: s0 and s1 hold accumulators
#define HI_BITS       w16
#include "fconv/arm64/float_tile_a64.h"

// Four FMAs: accumulators a..d += weights w * the four input elements xa..xd.
.macro irnet_sconv_fma4 a, b, c, d, w, xa, xb, xc, xd
  fmla \a\().4s, \w\().4s, \xa
  fmla \b\().4s, \w\().4s, \xb
  fmla \c\().4s, \w\().4s, \xc
  fmla \d\().4s, \w\().4s, \xd
.endm

// One tap over the 16 pixels: accumulators v0-v15 += weights w * floats
// q + k .. q + k + 15 of a phase (k = 0, 1, 2), whose floats q .. q + 15 are
// registers a, b, c, d and q + 16, q + 17 the elements x16, x17.
.macro irnet_sconv_tap_k0 w, a, b, c, d
  irnet_sconv_fma4 v0, v1, v2, v3, \w, \a\().s[0], \a\().s[1], \a\().s[2], \a\().s[3]
  irnet_sconv_fma4 v4, v5, v6, v7, \w, \b\().s[0], \b\().s[1], \b\().s[2], \b\().s[3]
  irnet_sconv_fma4 v8, v9, v10, v11, \w, \c\().s[0], \c\().s[1], \c\().s[2], \c\().s[3]
  irnet_sconv_fma4 v12, v13, v14, v15, \w, \d\().s[0], \d\().s[1], \d\().s[2], \d\().s[3]
.endm
.macro irnet_sconv_tap_k1 w, a, b, c, d, x16
  irnet_sconv_fma4 v0, v1, v2, v3, \w, \a\().s[1], \a\().s[2], \a\().s[3], \b\().s[0]
  irnet_sconv_fma4 v4, v5, v6, v7, \w, \b\().s[1], \b\().s[2], \b\().s[3], \c\().s[0]
  irnet_sconv_fma4 v8, v9, v10, v11, \w, \c\().s[1], \c\().s[2], \c\().s[3], \d\().s[0]
  irnet_sconv_fma4 v12, v13, v14, v15, \w, \d\().s[1], \d\().s[2], \d\().s[3], \x16
.endm
.macro irnet_sconv_tap_k2 w, a, b, c, d, x16, x17
  irnet_sconv_fma4 v0, v1, v2, v3, \w, \a\().s[2], \a\().s[3], \b\().s[0], \b\().s[1]
  irnet_sconv_fma4 v4, v5, v6, v7, \w, \b\().s[2], \b\().s[3], \c\().s[0], \c\().s[1]
  irnet_sconv_fma4 v8, v9, v10, v11, \w, \c\().s[2], \c\().s[3], \d\().s[0], \d\().s[1]
  irnet_sconv_fma4 v12, v13, v14, v15, \w, \d\().s[2], \d\().s[3], \x16, \x17
.endm

// Pixels a..d (one accumulator each, 4 channels) to 4 rows of the output.
.macro irnet_sconv_store4 a, b, c, d
  st1 {\a\().4s}, [DST_ROW], DST_STEP
  st1 {\b\().4s}, [DST_ROW], DST_STEP
  st1 {\c\().4s}, [DST_ROW], DST_STEP
  st1 {\d\().4s}, [DST_ROW], DST_STEP
.endm

// The routine `name` (the contract above) with the pair macros `start` and
// `fmas`.
.macro irnet_sconv_x2_routine name, start, fmas
  .text
  .p2align 4
  .global \name
  .hidden \name
  .type \name, %function
\name:
  irnet_a64_save_d8_d15
  fmov LO_BITS, s0
  fmov HI_BITS, s1
  lsl PAIR_BYTES, PLANE_BYTES, #1
  sub STEPS, STEPS, #1             // the pairs started after the first:
  and ODD, STEPS, #1               // an odd one alone,
  lsr DOUBLE_PAIRS, STEPS, #1      // then two per iteration
.L\name\()_tile:
  mov P0, X_PLANES
  mov ITERATIONS, DOUBLE_PAIRS
  mov DST_ROW, DST
  irnet_a64_zero_acc16
  \start 0
  cbz ODD, .L\name\()_pairs
  \fmas
  \start 0
.L\name\()_pairs:
  cbz ITERATIONS, .L\name\()_last_fmas
.L\name\()_loop:
  \fmas
  \start 0
  \fmas
  \start 1
  b.ne .L\name\()_loop
.L\name\()_last_fmas:
  \fmas
  // Epilogue: + bias (acc += bias * 1.0), clamp to [lo, hi], store.
  ldr q16, [BIAS], #16
  fmov v17.4s, #1.0
  irnet_sconv_fma4 v0, v1, v2, v3, v16, v17.s[0], v17.s[0], v17.s[0], v17.s[0]
  irnet_sconv_fma4 v4, v5, v6, v7, v16, v17.s[0], v17.s[0], v17.s[0], v17.s[0]
  irnet_sconv_fma4 v8, v9, v10, v11, v16, v17.s[0], v17.s[0], v17.s[0], v17.s[0]
  irnet_sconv_fma4 v12, v13, v14, v15, v16, v17.s[0], v17.s[0], v17.s[0], v17.s[0]
  dup v18.4s, LO_BITS
  dup v19.4s, HI_BITS
  irnet_a64_acc16 fmax, v18.4s, v18.4s
  irnet_a64_acc16 fmin, v19.4s, v19.4s
  irnet_sconv_store4 v0, v1, v2, v3
  irnet_sconv_store4 v4, v5, v6, v7
  irnet_sconv_store4 v8, v9, v10, v11
  irnet_sconv_store4 v12, v13, v14, v15
  add DST, DST, #16
  subs TILES_LEFT, TILES_LEFT, #1
  b.ne .L\name\()_tile
  irnet_a64_restore_d8_d15
  ret
  .size \name, .-\name
.endm
