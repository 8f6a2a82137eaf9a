// AArch64 NEON direct kernel for 7-wide, column-stride-2 float convolutions on
// column-phase planes (layout and math: fconv/phase_conv.h).
//
// One call: 16 output pixels x 4 output channels, the channels in the vector
// lanes: accumulator v(p) holds the 4 channels of pixel p. Tap t of an (i, c)
// pair multiplies the tap's 4 channel weights (one register of the packed
// tile) by the input float of each pixel, taken by element:
//   acc(p) += w_t * x_phase[q + p + k]   (k = t for t < 4 on phase 0, t - 4 on phase 1)
// So the 16 pixels x 4 taps of phase 0 read floats q .. q + 18 of one plane,
// and the 3 taps of phase 1 floats q .. q + 17 of the other: each input float
// is loaded once per pair and used by up to 4 taps (the element index does
// the shift). Per pair: 7 weight registers + 5 + 5 input registers (the fifth
// of each phase is an unaligned load of the last 4 floats, q + 15 / q + 14, so
// no load reads past the plane contract of phase_conv.h) for 112 fmla.
// The loop is rotated so that no branch waits on FMAs: a pair runs as START
// (its loads) then its FMAS, and an iteration is FMAS(k) START(k+1)
// FMAS(k+1) START(k+2), so its branch follows loads (on the in-order A53
// anything issued after an FMA waits for the FMA's write-back; a branch right
// after the FMAs waited 8 modelled cycles). START(0) comes before the loop and
// the last FMAS after it, so no load reads past the last pair. START loads the
// 4-register ld1 first (its longer latency waits 2 cycles behind the FMAs, an
// ldp 5). llvm-mca Cortex-A53: 266 cycles per iteration of 248 instructions,
// 133 per pair (the unrotated loop, weights loaded first: 278; one pair per
// iteration: 141; the 16-pixel by-tap kernel this replaced, with 35 register
// loads per pair: 152 for 130).
// Register use: v0-v15 accumulators, v16-v22 weights of taps 0-6, v23-v27
// phase 0 floats q + 0/4/8/12/15, v28-v31 phase 1 floats q + 0/4/8/12 and
// v23 again (after its last phase-0 use) for q + 14.
// The FMAs of one accumulator run in tap order t = 0..6 and pair order, the
// order of phase_conv.h; the FMAs of different pixels interleave freely.
// Epilogue: + bias (an FMA with 1.0, which rounds exactly like an add), clamp,
// and one 16-byte store per pixel.
#include <arm_neon.h>

#include <algorithm>
#include <iterator>

#include "cpu/kernel_config.h"
#include "fconv/phase_conv.h"

namespace irnet {
namespace {

// Four FMAs: accumulators A..D += weights W * the four input elements XA..XD.
#define IRNET_FMA4(a, b, c, d, w, xa, xb, xc, xd)                                           \
  "fmla " a ".4s, " w ".4s, " xa "\n"                                                       \
  "fmla " b ".4s, " w ".4s, " xb "\n"                                                       \
  "fmla " c ".4s, " w ".4s, " xc "\n"                                                       \
  "fmla " d ".4s, " w ".4s, " xd "\n"
// One epilogue op on all 16 accumulators.
#define IRNET_ALL(op, arg)                                                                 \
  op " v0.4s, v0.4s, " arg "\n" op " v1.4s, v1.4s, " arg "\n" op " v2.4s, v2.4s, " arg "\n" \
  op " v3.4s, v3.4s, " arg "\n" op " v4.4s, v4.4s, " arg "\n" op " v5.4s, v5.4s, " arg "\n" \
  op " v6.4s, v6.4s, " arg "\n" op " v7.4s, v7.4s, " arg "\n" op " v8.4s, v8.4s, " arg "\n" \
  op " v9.4s, v9.4s, " arg "\n" op " v10.4s, v10.4s, " arg "\n"                            \
  op " v11.4s, v11.4s, " arg "\n" op " v12.4s, v12.4s, " arg "\n"                          \
  op " v13.4s, v13.4s, " arg "\n" op " v14.4s, v14.4s, " arg "\n"                          \
  op " v15.4s, v15.4s, " arg "\n"
// Pixels A..D (one accumulator each, 4 channels) to 4 rows of y.
#define IRNET_STORE4(a, b, c, d)                                                           \
  "st1 {" a ".4s}, [%[dst]], %[dst_step]\n"                                                \
  "st1 {" b ".4s}, [%[dst]], %[dst_step]\n"                                                \
  "st1 {" c ".4s}, [%[dst]], %[dst_step]\n"                                                \
  "st1 {" d ".4s}, [%[dst]], %[dst_step]\n"

// START of one (i, c) pair: phase 0's floats (the ld1 first, see above), the
// weights of its 7 taps, with the pointer updates and the loop's counter
// update OP (or nothing) among the last loads, where they dual-issue (a scalar
// op right after an FMA would wait for the FMA's write-back).
#define IRNET_PAIR_START(op)                                                              \
  "ld1 {v23.4s, v24.4s, v25.4s, v26.4s}, [%[p0]]\n"                                      \
  "ldp q16, q17, [%[w]]\n"                                                               \
  "ldur q27, [%[p0], #60]\n"                                                             \
  "ldp q18, q19, [%[w], #32]\n"                                                          \
  "ldp q20, q21, [%[w], #64]\n"                                                          \
  "add %[p1], %[p0], %[plane_bytes]\n"                                                   \
  "add %[p0], %[p0], %[pair_bytes]\n"                                                    \
  op                                                                                     \
  "ldr q22, [%[w], #96]\n"                                                               \
  "add %[w], %[w], #112\n"
// FMAS: its 112 FMAs, tap by tap, with phase 1's floats loaded as soon as v23
// is free.
#define IRNET_PAIR_FMAS                                                                   \
  /* t = 0 (j = 0): phase 0, floats q + 0 .. q + 15 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v16", "v23.s[0]", "v23.s[1]", "v23.s[2]", "v23.s[3]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v16", "v24.s[0]", "v24.s[1]", "v24.s[2]", "v24.s[3]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v16", "v25.s[0]", "v25.s[1]", "v25.s[2]", "v25.s[3]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v16", "v26.s[0]", "v26.s[1]", "v26.s[2]", "v26.s[3]") \
  /* t = 1 (j = 2): phase 0, floats q + 1 .. q + 16 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v17", "v23.s[1]", "v23.s[2]", "v23.s[3]", "v24.s[0]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v17", "v24.s[1]", "v24.s[2]", "v24.s[3]", "v25.s[0]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v17", "v25.s[1]", "v25.s[2]", "v25.s[3]", "v26.s[0]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v17", "v26.s[1]", "v26.s[2]", "v26.s[3]", "v27.s[1]") \
  /* t = 2 (j = 4): phase 0, floats q + 2 .. q + 17 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v18", "v23.s[2]", "v23.s[3]", "v24.s[0]", "v24.s[1]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v18", "v24.s[2]", "v24.s[3]", "v25.s[0]", "v25.s[1]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v18", "v25.s[2]", "v25.s[3]", "v26.s[0]", "v26.s[1]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v18", "v26.s[2]", "v26.s[3]", "v27.s[1]", "v27.s[2]") \
  /* t = 3 (j = 6): phase 0, floats q + 3 .. q + 18 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v19", "v23.s[3]", "v24.s[0]", "v24.s[1]", "v24.s[2]") \
  /* v23 is free (its last reader was just above): phase 1 of this pair, */              \
  /* 12 FMAs before its first use. */                                                    \
  "ld1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[p1]]\n"                                      \
  "ldur q23, [%[p1], #56]\n"                                                             \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v19", "v24.s[3]", "v25.s[0]", "v25.s[1]", "v25.s[2]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v19", "v25.s[3]", "v26.s[0]", "v26.s[1]", "v26.s[2]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v19", "v26.s[3]", "v27.s[1]", "v27.s[2]", "v27.s[3]") \
  /* t = 4 (j = 1): phase 1, floats q + 0 .. q + 15 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v20", "v28.s[0]", "v28.s[1]", "v28.s[2]", "v28.s[3]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v20", "v29.s[0]", "v29.s[1]", "v29.s[2]", "v29.s[3]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v20", "v30.s[0]", "v30.s[1]", "v30.s[2]", "v30.s[3]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v20", "v31.s[0]", "v31.s[1]", "v31.s[2]", "v31.s[3]") \
  /* t = 5 (j = 3): phase 1, floats q + 1 .. q + 16 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v21", "v28.s[1]", "v28.s[2]", "v28.s[3]", "v29.s[0]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v21", "v29.s[1]", "v29.s[2]", "v29.s[3]", "v30.s[0]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v21", "v30.s[1]", "v30.s[2]", "v30.s[3]", "v31.s[0]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v21", "v31.s[1]", "v31.s[2]", "v31.s[3]", "v23.s[2]") \
  /* t = 6 (j = 5): phase 1, floats q + 2 .. q + 17 */                                   \
  IRNET_FMA4("v0", "v1", "v2", "v3", "v22", "v28.s[2]", "v28.s[3]", "v29.s[0]", "v29.s[1]") \
  IRNET_FMA4("v4", "v5", "v6", "v7", "v22", "v29.s[2]", "v29.s[3]", "v30.s[0]", "v30.s[1]") \
  IRNET_FMA4("v8", "v9", "v10", "v11", "v22", "v30.s[2]", "v30.s[3]", "v31.s[0]", "v31.s[1]") \
  IRNET_FMA4("v12", "v13", "v14", "v15", "v22", "v31.s[2]", "v31.s[3]", "v23.s[2]", "v23.s[3]")

void sconv_7x2_4x16_neon_a64(const float* x, std::size_t steps, std::size_t plane_w,
                             const float* w, const float* bias, float lo, float hi, float* y,
                             std::size_t ldc, std::size_t pixels, std::size_t channels) {
  float tile[kPhaseTilePixels * kPhaseTileChannels];
  const float lohi[2] = {lo, hi};
  const std::size_t plane_bytes = plane_w * sizeof(float);
  const std::size_t pair_bytes = 2 * plane_bytes;
  // One tile of 4 channels per iteration; the asm walks w on to the next tile.
  for (std::size_t o0 = 0; o0 < channels; o0 += kPhaseTileChannels, bias += kPhaseTileChannels) {
    const std::size_t cols = std::min(kPhaseTileChannels, channels - o0);
    // A full tile goes straight to y, a partial one through `tile`.
    const bool full = pixels == kPhaseTilePixels && cols == kPhaseTileChannels;
    float* dst = full ? y + o0 : tile;
    const std::size_t dst_step = (full ? ldc : kPhaseTileChannels) * sizeof(float);
    const float* lohi_ptr = lohi;
    // Pairs started after the first (steps >= 1): an odd one alone, then two
    // per iteration.
    const std::size_t odd = (steps - 1) & 1;
    std::size_t n = (steps - 1) / 2;
    const float* p0 = x;  // phase 0 plane of the next (i, c) pair to start, at q
    const float* p1;      // the phase 1 plane of the last pair started
    asm volatile(
        "movi v0.4s, #0\n" "movi v1.4s, #0\n" "movi v2.4s, #0\n" "movi v3.4s, #0\n"
        "movi v4.4s, #0\n" "movi v5.4s, #0\n" "movi v6.4s, #0\n" "movi v7.4s, #0\n"
        "movi v8.4s, #0\n" "movi v9.4s, #0\n" "movi v10.4s, #0\n" "movi v11.4s, #0\n"
        "movi v12.4s, #0\n" "movi v13.4s, #0\n" "movi v14.4s, #0\n" "movi v15.4s, #0\n"
        IRNET_PAIR_START("")
        "cbz %[odd], 1f\n"
        IRNET_PAIR_FMAS
        IRNET_PAIR_START("")
        "1:\n"
        "cbz %[n], 2f\n"
        "3:\n"
        IRNET_PAIR_FMAS
        IRNET_PAIR_START("")
        IRNET_PAIR_FMAS
        IRNET_PAIR_START("subs %[n], %[n], #1\n")
        "b.ne 3b\n"
        "2:\n"
        IRNET_PAIR_FMAS
        // Epilogue: + bias (acc += bias * 1.0), clamp to [lo, hi], store.
        "ldr q16, [%[bias]]\n"
        "fmov v17.4s, #1.0\n"
        IRNET_FMA4("v0", "v1", "v2", "v3", "v16", "v17.s[0]", "v17.s[0]", "v17.s[0]", "v17.s[0]")
        IRNET_FMA4("v4", "v5", "v6", "v7", "v16", "v17.s[0]", "v17.s[0]", "v17.s[0]", "v17.s[0]")
        IRNET_FMA4("v8", "v9", "v10", "v11", "v16", "v17.s[0]", "v17.s[0]", "v17.s[0]", "v17.s[0]")
        IRNET_FMA4("v12", "v13", "v14", "v15", "v16", "v17.s[0]", "v17.s[0]", "v17.s[0]", "v17.s[0]")
        "ld1r {v18.4s}, [%[lohi]], #4\n"
        "ld1r {v19.4s}, [%[lohi]]\n"
        IRNET_ALL("fmax", "v18.4s")
        IRNET_ALL("fmin", "v19.4s")
        IRNET_STORE4("v0", "v1", "v2", "v3")
        IRNET_STORE4("v4", "v5", "v6", "v7")
        IRNET_STORE4("v8", "v9", "v10", "v11")
        IRNET_STORE4("v12", "v13", "v14", "v15")
        : [p0] "+r"(p0), [p1] "=&r"(p1), [w] "+r"(w), [n] "+r"(n), [dst] "+r"(dst),
          [lohi] "+r"(lohi_ptr)
        : [plane_bytes] "r"(plane_bytes), [pair_bytes] "r"(pair_bytes), [bias] "r"(bias),
          [dst_step] "r"(dst_step), [odd] "r"(odd)
        : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
          "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24",
          "v25", "v26", "v27", "v28", "v29", "v30", "v31");
    if (!full)
      for (std::size_t p = 0; p < pixels; ++p)
        for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kPhaseTileChannels + o];
  }
}

// Phase planes of one padded row. For 3 channels (RGB input) the columns go
// 4 at a time: columns q .. q+3 are the 8 padded pixels from 2q - pad_left,
// de-interleaved by two ld3 into 3 channels x 2 vectors, then uzp1 / uzp2 take
// the even (phase 0) and odd (phase 1) pixels. The blocks whose pixels all lie
// inside the row read it in one tight run; the others, near the borders, read
// a zero-filled copy of their pixels where they reach into the padding, and the
// last block is moved back to end at plane_w (it rewrites some columns of the
// previous one with the same values). Other channel counts, padding rows and
// planes narrower than a block take the plain loop.
void split_phase_row_neon_a64(const float* row, int in_w, int channels, int pad_left,
                              std::size_t plane_w, float* planes) {
  constexpr long kBlockPixels = 8;
  constexpr std::size_t kBlockColumns = 4;
  if (channels != 3 || row == nullptr || plane_w < kBlockColumns) {
    split_phase_columns(row, in_w, channels, pad_left, plane_w, 0, plane_w, planes);
    return;
  }
  float* c0 = planes;
  float* c1 = planes + 2 * plane_w;
  float* c2 = planes + 4 * plane_w;
  // Columns q .. q+3 of the 6 planes from the 24 floats of 8 pixels at src.
  const auto split_block = [&](std::size_t q, const float* src) {
    const float32x4x3_t lo = vld3q_f32(src);
    const float32x4x3_t hi = vld3q_f32(src + 12);
    vst1q_f32(c0 + q, vuzp1q_f32(lo.val[0], hi.val[0]));
    vst1q_f32(c0 + plane_w + q, vuzp2q_f32(lo.val[0], hi.val[0]));
    vst1q_f32(c1 + q, vuzp1q_f32(lo.val[1], hi.val[1]));
    vst1q_f32(c1 + plane_w + q, vuzp2q_f32(lo.val[1], hi.val[1]));
    vst1q_f32(c2 + q, vuzp1q_f32(lo.val[2], hi.val[2]));
    vst1q_f32(c2 + plane_w + q, vuzp2q_f32(lo.val[2], hi.val[2]));
  };
  // Interior blocks q in [q_in, q_out), q a multiple of 4: 2q >= pad_left,
  // 2q <= room = in_w + pad_left - 8 (the block ends inside the row) and
  // q + 4 <= plane_w.
  const long q_in = ((pad_left + 1) / 2 + 3) & ~3L;
  const long room = static_cast<long>(in_w) + pad_left - kBlockPixels;
  const long q_fit = room < 0 ? -1 : std::min(room / 2, static_cast<long>(plane_w - kBlockColumns));
  const long q_out = q_fit < q_in ? q_in : (q_fit & ~3L) + 4;
  for (long q = q_in; q < q_out; q += 4) split_block(static_cast<std::size_t>(q), row + (2 * q - pad_left) * 3);
  // The other blocks.
  for (std::size_t q_next = 0; q_next < plane_w; q_next += kBlockColumns) {
    if (static_cast<long>(q_next) == q_in) q_next = q_out;
    if (q_next >= plane_w) break;
    const std::size_t q = std::min(q_next, plane_w - kBlockColumns);
    const long first = 2 * static_cast<long>(q) - pad_left;  // first pixel of the block
    if (first >= 0 && first + kBlockPixels <= in_w) {
      split_block(q, row + first * 3);
      continue;
    }
    float padded[kBlockPixels * 3];
    std::fill(padded, padded + kBlockPixels * 3, 0.f);
    const long begin = std::max(first, 0L), end = std::min(first + kBlockPixels, static_cast<long>(in_w));
    if (end > begin) std::copy(row + begin * 3, row + end * 3, padded + (begin - first) * 3);
    split_block(q, padded);
  }
}

#undef IRNET_PAIR_START
#undef IRNET_PAIR_FMAS
#undef IRNET_FMA4
#undef IRNET_ALL
#undef IRNET_STORE4

const PhaseConvKernel kNeonA64 = {"sconv_7x2_4x16_neon_a64", always_supported, &sconv_7x2_4x16_neon_a64,
                                  &split_phase_row_neon_a64};
const PhaseConvKernel* const kKernels[] = {&kNeonA64};

}  // namespace

extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
