// GNU as macros shared by the AArch64 float tile routines (sgemm8x8_neon_a64.S,
// sconv7x2_4x16_neon_a64.S), whose 16 accumulators are v0-v15. Assembly only:
// included by .S files, after their register #defines.
#pragma once

// AAPCS64: the low halves of v8-v15 (d8-d15) are callee-saved; a routine that
// uses them saves them on entry (64 bytes of stack) and restores them before
// returning.
.macro irnet_a64_save_d8_d15
  stp d8, d9, [sp, #-64]!
  stp d10, d11, [sp, #16]
  stp d12, d13, [sp, #32]
  stp d14, d15, [sp, #48]
.endm
.macro irnet_a64_restore_d8_d15
  ldp d10, d11, [sp, #16]
  ldp d12, d13, [sp, #32]
  ldp d14, d15, [sp, #48]
  ldp d8, d9, [sp], #64
.endm

// The 16 accumulators v0-v15 set to zero.
.macro irnet_a64_zero_acc16
  movi v0.4s, #0
  movi v1.4s, #0
  movi v2.4s, #0
  movi v3.4s, #0
  movi v4.4s, #0
  movi v5.4s, #0
  movi v6.4s, #0
  movi v7.4s, #0
  movi v8.4s, #0
  movi v9.4s, #0
  movi v10.4s, #0
  movi v11.4s, #0
  movi v12.4s, #0
  movi v13.4s, #0
  movi v14.4s, #0
  movi v15.4s, #0
.endm

// `op` on the 16 accumulators: v(i) = op(v(i), even) for even i, op(v(i), odd)
// for odd i (operands as in "v24.4s").
.macro irnet_a64_acc16 op, even, odd
  \op v0.4s, v0.4s, \even
  \op v1.4s, v1.4s, \odd
  \op v2.4s, v2.4s, \even
  \op v3.4s, v3.4s, \odd
  \op v4.4s, v4.4s, \even
  \op v5.4s, v5.4s, \odd
  \op v6.4s, v6.4s, \even
  \op v7.4s, v7.4s, \odd
  \op v8.4s, v8.4s, \even
  \op v9.4s, v9.4s, \odd
  \op v10.4s, v10.4s, \even
  \op v11.4s, v11.4s, \odd
  \op v12.4s, v12.4s, \even
  \op v13.4s, v13.4s, \odd
  \op v14.4s, v14.4s, \even
  \op v15.4s, v15.4s, \odd
.endm
