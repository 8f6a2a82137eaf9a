// AArch64 NEON direct kernel for 7-wide, column-stride-2 float convolutions on
// column-phase planes (layout and math: fconv/phase_conv.h).
//
// One call: 16 output pixels x 4 output channels. Accumulators v0-v15:
// acc(pv, o) = v(4*pv + o) holds channel o of pixels 4*pv .. 4*pv+3. Per tap,
// the 16 inputs of the 16 pixels are one 4-register load (ld1 {4 regs}), the 4
// channels' weights one register, and 16 by-element FMAs do 64 MACs:
//   acc(pv, o) += x[pv] * w.s[o]
// Per (i, c) pair of 7 taps: 7 input loads (one pointer per tap), 2 weight
// loads, 112 fmla, 7 pointer adds, subs + b.ne = 130 instructions for 448 MACs
// (3.45 MACs per instruction; llvm-mca Cortex-A53: 152 cycles, 2.95 MACs per
// cycle). The input loads alternate between two register quads (v16-v19,
// v20-v23) so each load has 16 FMAs to complete; the weights of the 7 taps
// sit in v24-v30.
// Epilogue: + bias (an FMA with 1.0, which rounds exactly like an add), clamp,
// and 16 `st4` lane stores: pixel 4*pv + l's 4 channels are lane l of
// v(4pv) .. v(4pv+3), 16 contiguous bytes of y.
#include <arm_neon.h>

#include <algorithm>

#include "fconv/phase_conv.h"

namespace irnet {
namespace {

// The 16 FMAs of one tap: inputs in registers X0..X0+3, weights in W.
#define IRNET_TAP(x0, x1, x2, x3, w)                                                       \
  "fmla v0.4s, " x0 ".4s, " w ".s[0]\n"                                                    \
  "fmla v1.4s, " x0 ".4s, " w ".s[1]\n"                                                    \
  "fmla v2.4s, " x0 ".4s, " w ".s[2]\n"                                                    \
  "fmla v3.4s, " x0 ".4s, " w ".s[3]\n"                                                    \
  "fmla v4.4s, " x1 ".4s, " w ".s[0]\n"                                                    \
  "fmla v5.4s, " x1 ".4s, " w ".s[1]\n"                                                    \
  "fmla v6.4s, " x1 ".4s, " w ".s[2]\n"                                                    \
  "fmla v7.4s, " x1 ".4s, " w ".s[3]\n"                                                    \
  "fmla v8.4s, " x2 ".4s, " w ".s[0]\n"                                                    \
  "fmla v9.4s, " x2 ".4s, " w ".s[1]\n"                                                    \
  "fmla v10.4s, " x2 ".4s, " w ".s[2]\n"                                                   \
  "fmla v11.4s, " x2 ".4s, " w ".s[3]\n"                                                   \
  "fmla v12.4s, " x3 ".4s, " w ".s[0]\n"                                                   \
  "fmla v13.4s, " x3 ".4s, " w ".s[1]\n"                                                   \
  "fmla v14.4s, " x3 ".4s, " w ".s[2]\n"                                                   \
  "fmla v15.4s, " x3 ".4s, " w ".s[3]\n"
#define IRNET_TAP_A(w) IRNET_TAP("v16", "v17", "v18", "v19", w)
#define IRNET_TAP_B(w) IRNET_TAP("v20", "v21", "v22", "v23", w)
// One epilogue op on all 16 accumulators.
#define IRNET_ALL(op, arg)                                                                 \
  op " v0.4s, v0.4s, " arg "\n" op " v1.4s, v1.4s, " arg "\n" op " v2.4s, v2.4s, " arg "\n" \
  op " v3.4s, v3.4s, " arg "\n" op " v4.4s, v4.4s, " arg "\n" op " v5.4s, v5.4s, " arg "\n" \
  op " v6.4s, v6.4s, " arg "\n" op " v7.4s, v7.4s, " arg "\n" op " v8.4s, v8.4s, " arg "\n" \
  op " v9.4s, v9.4s, " arg "\n" op " v10.4s, v10.4s, " arg "\n"                            \
  op " v11.4s, v11.4s, " arg "\n" op " v12.4s, v12.4s, " arg "\n"                          \
  op " v13.4s, v13.4s, " arg "\n" op " v14.4s, v14.4s, " arg "\n"                          \
  op " v15.4s, v15.4s, " arg "\n"
// Lane l of a quad of accumulators = one pixel's 4 channels.
#define IRNET_STORE_QUAD(a, b, c, d)                                                       \
  "st4 {" a ".s, " b ".s, " c ".s, " d ".s}[0], [%[dst]], %[dst_step]\n"                   \
  "st4 {" a ".s, " b ".s, " c ".s, " d ".s}[1], [%[dst]], %[dst_step]\n"                   \
  "st4 {" a ".s, " b ".s, " c ".s, " d ".s}[2], [%[dst]], %[dst_step]\n"                   \
  "st4 {" a ".s, " b ".s, " c ".s, " d ".s}[3], [%[dst]], %[dst_step]\n"

void sconv_7x2_4x16_neon_a64(const float* x, std::size_t steps, std::size_t plane_w,
                             const float* w, const float* bias, float lo, float hi, float* y,
                             std::size_t ldc, std::size_t pixels, std::size_t channels) {
  float tile[kPhaseTilePixels * kPhaseTileChannels];
  const float lohi[2] = {lo, hi};
  // One tile of 4 channels per iteration; the asm walks w on to the next tile.
  for (std::size_t o0 = 0; o0 < channels; o0 += kPhaseTileChannels, bias += kPhaseTileChannels) {
    const std::size_t cols = std::min(kPhaseTileChannels, channels - o0);
    // A full tile goes straight to y, a partial one through `tile`.
    const bool full = pixels == kPhaseTilePixels && cols == kPhaseTileChannels;
    float* dst = full ? y + o0 : tile;
    const std::size_t dst_step = (full ? ldc : kPhaseTileChannels) * sizeof(float);
    const float* lohi_ptr = lohi;
    std::size_t n = steps;
    // One input pointer per tap of an (i, c) pair (phase 0: q + 0..3, phase 1:
    // q + 0..2), all advanced by one pair (2 * plane_w floats) per iteration.
    // Seven plain loads + seven adds: on llvm-mca's Cortex-A53 model a
    // post-incremented ld1 {4 regs} stalls the in-order pipeline (193 cycles
    // per pair against 152 this way, for 7 more instructions).
    const float* p0 = x;
    const float* p1 = x + 1;
    const float* p2 = x + 2;
    const float* p3 = x + 3;
    const float* p4 = x + plane_w;
    const float* p5 = x + plane_w + 1;
    const float* p6 = x + plane_w + 2;
    const std::size_t pair_bytes = 2 * plane_w * sizeof(float);
    asm volatile(
        "movi v0.4s, #0\n" "movi v1.4s, #0\n" "movi v2.4s, #0\n" "movi v3.4s, #0\n"
        "movi v4.4s, #0\n" "movi v5.4s, #0\n" "movi v6.4s, #0\n" "movi v7.4s, #0\n"
        "movi v8.4s, #0\n" "movi v9.4s, #0\n" "movi v10.4s, #0\n" "movi v11.4s, #0\n"
        "movi v12.4s, #0\n" "movi v13.4s, #0\n" "movi v14.4s, #0\n" "movi v15.4s, #0\n"
        "1:\n"
        // One (i, c) pair: weights of its 7 taps, then taps j = 0, 2, 4, 6 (phase 0)
        // and j = 1, 3, 5 (phase 1), each load issued one tap ahead.
        "ld1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[w]], #64\n"
        "ld1 {v28.4s, v29.4s, v30.4s}, [%[w]], #48\n"
        "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[p0]]\n"
        "ld1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[p1]]\n"
        IRNET_TAP_A("v24")
        "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[p2]]\n"
        IRNET_TAP_B("v25")
        "ld1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[p3]]\n"
        IRNET_TAP_A("v26")
        "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[p4]]\n"
        IRNET_TAP_B("v27")
        "ld1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[p5]]\n"
        IRNET_TAP_A("v28")
        "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[p6]]\n"
        IRNET_TAP_B("v29")
        IRNET_TAP_A("v30")
        "add %[p0], %[p0], %[pair_bytes]\n"
        "add %[p1], %[p1], %[pair_bytes]\n"
        "add %[p2], %[p2], %[pair_bytes]\n"
        "add %[p3], %[p3], %[pair_bytes]\n"
        "add %[p4], %[p4], %[pair_bytes]\n"
        "add %[p5], %[p5], %[pair_bytes]\n"
        "add %[p6], %[p6], %[pair_bytes]\n"
        "subs %[n], %[n], #1\n"
        "b.ne 1b\n"
        // Epilogue: + bias (acc += 1.0 * bias[o]), clamp to [lo, hi], store.
        "ldr q24, [%[bias]]\n"
        "fmov v25.4s, #1.0\n"
        IRNET_TAP("v25", "v25", "v25", "v25", "v24")
        "ld1r {v26.4s}, [%[lohi]], #4\n"
        "ld1r {v27.4s}, [%[lohi]]\n"
        IRNET_ALL("fmax", "v26.4s")
        IRNET_ALL("fmin", "v27.4s")
        IRNET_STORE_QUAD("v0", "v1", "v2", "v3")
        IRNET_STORE_QUAD("v4", "v5", "v6", "v7")
        IRNET_STORE_QUAD("v8", "v9", "v10", "v11")
        IRNET_STORE_QUAD("v12", "v13", "v14", "v15")
        : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [p4] "+r"(p4), [p5] "+r"(p5),
          [p6] "+r"(p6), [w] "+r"(w), [n] "+r"(n), [dst] "+r"(dst), [lohi] "+r"(lohi_ptr)
        : [pair_bytes] "r"(pair_bytes), [bias] "r"(bias), [dst_step] "r"(dst_step)
        : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
          "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24",
          "v25", "v26", "v27", "v28", "v29", "v30");
    if (!full)
      for (std::size_t p = 0; p < pixels; ++p)
        for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kPhaseTileChannels + o];
  }
}

// Phase planes of one padded row. For 3 channels (RGB input) the columns q
// whose both phases are inside the row go 4 at a time: the 8 pixels from
// column 2q - pad_left, de-interleaved by two ld3 into 3 channels x 2 vectors,
// then uzp1 / uzp2 take the even (phase 0) and odd (phase 1) pixels. The rest
// (borders, other channel counts) takes the plain loop.
void split_phase_row_neon_a64(const float* row, int in_w, int channels, int pad_left,
                              std::size_t plane_w, float* planes) {
  std::size_t q = 0;
  if (channels == 3 && row != nullptr) {
    // Both phases inside: 2q - pad_left >= 0 and 2q + 1 - pad_left <= in_w - 1.
    const std::size_t q_first = (pad_left + 1) / 2;
    const long q_limit = (static_cast<long>(in_w) - 2 + pad_left) / 2 + 1;  // exclusive
    const std::size_t q_end = q_limit < 0 ? 0 : std::min<std::size_t>(q_limit, plane_w);
    if (q_first + 4 <= q_end) {
      split_phase_columns(row, in_w, channels, pad_left, plane_w, 0, q_first, planes);
      float* c0 = planes;
      float* c1 = planes + 2 * plane_w;
      float* c2 = planes + 4 * plane_w;
      for (q = q_first; q + 4 <= q_end; q += 4) {
        const float* src = row + (2 * q - pad_left) * 3;
        const float32x4x3_t lo = vld3q_f32(src);
        const float32x4x3_t hi = vld3q_f32(src + 12);
        vst1q_f32(c0 + q, vuzp1q_f32(lo.val[0], hi.val[0]));
        vst1q_f32(c0 + plane_w + q, vuzp2q_f32(lo.val[0], hi.val[0]));
        vst1q_f32(c1 + q, vuzp1q_f32(lo.val[1], hi.val[1]));
        vst1q_f32(c1 + plane_w + q, vuzp2q_f32(lo.val[1], hi.val[1]));
        vst1q_f32(c2 + q, vuzp1q_f32(lo.val[2], hi.val[2]));
        vst1q_f32(c2 + plane_w + q, vuzp2q_f32(lo.val[2], hi.val[2]));
      }
    }
  }
  split_phase_columns(row, in_w, channels, pad_left, plane_w, q, plane_w, planes);
}

#undef IRNET_TAP
#undef IRNET_TAP_A
#undef IRNET_TAP_B
#undef IRNET_ALL
#undef IRNET_STORE_QUAD

}  // namespace

extern const PhaseConvKernel kPhaseConvKernelArm64 = {"sconv_7x2_4x16_neon_a64", &sconv_7x2_4x16_neon_a64,
                                                     &split_phase_row_neon_a64};

}  // namespace irnet
