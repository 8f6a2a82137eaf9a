// Direct float convolution for odd-width, column-stride-2 kernels (kernel
// widths kPhaseKernelWidths: 7, the ResNet stem's 7x7/2 over 3 channels, and 3,
// the 3x3/2 stem of ReActNet / MobileNet) on column-phase planes: no im2col.
//
// For such a conv the im2col matrix (K = 7*7*3 = 147 floats per output pixel
// for the ResNet stem) costs as much to write as the kernel costs to read it.
// Instead, the input rows are split once into column phases, per channel:
//
//   plane(row, c, phase)[q] = x_padded[row][2q + phase][c]     q in [0, plane_w)
//
// (x_padded: the input with the conv's zero padding around it). Output pixel
// ow, kernel tap (i, j) reads padded column 2*ow + j, which is
//   j even: plane(row, c, 0)[ow + j/2]        j odd: plane(row, c, 1)[ow + (j-1)/2]
// so for 16 consecutive output pixels and one tap the 16 inputs are 16
// CONSECUTIVE floats of one plane: one vector load. The AVX2 kernel makes the
// output pixels the vector lanes and the weights the broadcast operand; the
// NEON kernels make the 4 channels the lanes and take each pixel's input by
// element (fconv/arm64/sconv_neon_a64.cc). Either way:
//
//   y[ow0 + p][o] = clamp(sum_{i, c, j} plane(...)[ow0 + p + j/2] * w[o][i][j][c] + bias[o])
//
// A kernel call computes one tile of up to tile_pixels output pixels (one output
// row; 16 for AArch64 NEON, 8 for ARMv7 NEON, 24 for AVX2) by all output
// channels, kPhaseTileChannels at a time. Memory layout of the planes: for
// each padded row, for each channel c, phase 0 then phase 1 (plane_w floats
// each), so a (row, c) pair is 2*plane_w floats and the pairs (i, c) of one
// output pixel's taps are consecutive: (i, c) -> (i, c+1) -> ... -> (i+1, 0)
// is a constant step of 2*plane_w floats. A call walks `steps` = kernel_h * C
// such pairs; within one pair of a kernel of width kw it reads the taps in the
// order of phase_tap_column: the even columns j = 0, 2, .., kw - 1 (phase 0,
// q + 0 .. (kw - 1) / 2), then the odd ones j = 1, 3, .., kw - 2 (phase 1,
// q + 0 .. (kw - 3) / 2); for kw = 7: 0, 2, 4, 6, 1, 3, 5.
//
// Weights, packed at load per tile of 4 output channels, in the same order:
//   w_tile[(s * kw + t) * 4 + o] = w[o0 + o][i][phase_tap_column(kw, t)][c],  s = i*C + c
// (zero for channels past out_c). The sum runs in that (i, c, t) order, with
// fused multiply-adds (PhaseConvKernel::fused; else multiply, then add), then
// + bias, then the clamp: the result differs from conv2d_f32_ref (which sums
// in (i, j, c) order) by rounding only.
#pragma once

#include <cstddef>

namespace irnet {

constexpr std::size_t kPhaseTilePixels = 16;   // AArch64 NEON output pixels per tile (4 vectors of 4)
constexpr std::size_t kPhaseTileChannels = 4;  // output channels per tile (one vector's lanes)
constexpr int kPhaseStrideW = 2;
// The kernel widths of the family, each a PhaseConvKernel::widths entry.
constexpr int kPhaseKernelWidths[] = {3, 7};
constexpr std::size_t kPhaseWidthCount = sizeof(kPhaseKernelWidths) / sizeof(kPhaseKernelWidths[0]);
// Most input channels a 3-wide conv runs direct with. Its kernel has 3 taps per
// (i, c) pair over which to spread the pair's input loads (the 7-wide one has
// 7), so it beats im2col + sgemm only where the im2col is a large part of the
// work: a stem over RGB(A). On aarch64 ReActNet-A's stem (3 -> 32 channels)
// takes 3.9 M instructions direct against 6.6 M; the float ResNet-18's pass
// takes 607.3 M with its three 3x3/2 convs (64 -> 128 channels and up) direct,
// 581.3 M with them on im2col + sgemm.
constexpr int kPhaseMaxInChannels3 = 4;

// Taps of phase 0 (the even columns) in a kernel of width kernel_w; the other
// kernel_w / 2 taps are phase 1's.
constexpr int phase0_taps(int kernel_w) { return (kernel_w + 1) / 2; }
// Kernel column j of the t-th tap read within one (i, c) pair.
constexpr int phase_tap_column(int kernel_w, int t) {
  return t < phase0_taps(kernel_w) ? 2 * t : 2 * (t - phase0_taps(kernel_w)) + 1;
}
// Plane floats a tile of a kernel of width kernel_w reads past its last
// pixel's own (phase 0, tap j = kernel_w - 1).
constexpr std::size_t phase_plane_margin(int kernel_w) { return static_cast<std::size_t>(kernel_w - 1) / 2; }

// Computes up to tile_pixels output pixels (one row) x all output channels, one
// tile of 4 channels after the other, for a kernel of one width kw: x points at
// plane(row of tap i = 0, c = 0, phase 0)[ow0]; plane_w is the length of one
// phase plane (>= ow0 + tile_pixels + phase_plane_margin(kw) for every tile,
// so that every load stays inside the planes); w holds the packed weights of
// all ceil(channels / 4) tiles (steps * kw * 4 floats each, in order), bias the
// biases padded to whole tiles. Stores the first `pixels` pixels x `channels`
// channels at y[p * ldc + o].
using PhaseConvFn = void (*)(const float* x, std::size_t steps, std::size_t plane_w,
                             const float* w_tile, const float* bias_tile, float lo, float hi,
                             float* y, std::size_t ldc, std::size_t pixels, std::size_t channels);

// Writes the 2*C phase planes of one padded input row (planes + (c*2 + phase)
// * plane_w), entries q in [q_begin, q_end) only: row is the NHWC input row of
// in_w pixels x C channels, nullptr for a padding row (all zeros). The plain
// loop; kernels may split faster but must write the same values.
void split_phase_columns(const float* row, int in_w, int channels, int pad_left,
                         std::size_t plane_w, std::size_t q_begin, std::size_t q_end, float* planes);
// All plane_w entries of one padded row.
using PhaseSplitFn = void (*)(const float* row, int in_w, int channels, int pad_left,
                              std::size_t plane_w, float* planes);

// The kernel of one width in a variant.
struct PhaseConvWidthKernel {
  // What a layer running it reports: "sconv_<width>x2_<tile>_<isa>" in the
  // variant "phase_conv_<tile>_<isa>", e.g. "sconv_3x2_4x16_neon_a64".
  const char* name;
  PhaseConvFn fn;  // nullptr: the variant has none for this width (im2col + sgemm)
};

// A variant of the "phase_conv" kernel family (cpu/kernel_config.h): one
// kernel per width, sharing the planes' splitter, the tile and the rounding.
// The variant "im2col_sgemm" has no direct kernel (every fn and split null):
// with it every float conv runs im2col + sgemm.
struct PhaseConvKernel {
  const char* name;     // e.g. "phase_conv_4x16_neon_a64"
  bool (*supported)();
  PhaseConvWidthKernel widths[kPhaseWidthCount];  // kernel width kPhaseKernelWidths[k]
  PhaseSplitFn split;
  std::size_t tile_pixels = kPhaseTilePixels;  // output pixels per call, at most
  // Each multiply-add fused (one rounding). ARMv7 NEON has no fused multiply
  // by element: there the product is rounded, then the sum (sconv_neon_a32.cc).
  bool fused = true;

  // The kernel for kernel_w, nullptr if the variant has none.
  const PhaseConvWidthKernel* of_width(int kernel_w) const {
    for (std::size_t k = 0; k < kPhaseWidthCount; ++k)
      if (kPhaseKernelWidths[k] == kernel_w && widths[k].fn != nullptr) return &widths[k];
    return nullptr;
  }
};

}  // namespace irnet
