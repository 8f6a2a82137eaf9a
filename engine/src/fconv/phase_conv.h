// Direct float convolution for 7-wide, column-stride-2 kernels (the ResNet
// stem, 7x7/2 over 3 channels) on column-phase planes: no im2col.
//
// For such a conv the im2col matrix (K = 7*7*3 = 147 floats per output pixel)
// costs as much to write as the kernel costs to read it. Instead, the input
// rows are split once into column phases, per channel:
//
//   plane(row, c, phase)[q] = x_padded[row][2q + phase][c]     q in [0, plane_w)
//
// (x_padded: the input with the conv's zero padding around it). Output pixel
// ow, kernel tap (i, j) reads padded column 2*ow + j, which is
//   j even: plane(row, c, 0)[ow + j/2]        j odd: plane(row, c, 1)[ow + (j-1)/2]
// so for 16 consecutive output pixels and one tap the 16 inputs are 16
// CONSECUTIVE floats of one plane: one vector load. The AVX2 kernel makes the
// output pixels the vector lanes and the weights the broadcast operand; the
// NEON kernel makes the 4 channels the lanes and takes each pixel's input by
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
// such pairs; within one pair it reads the taps in the order
// j = 0, 2, 4, 6 (phase 0, q + 0..3), then j = 1, 3, 5 (phase 1, q + 0..2).
//
// Weights, packed at load per tile of 4 output channels, in the same order:
//   w_tile[(s * 7 + t) * 4 + o] = w[o0 + o][i][kPhaseTapOrder[t]][c],  s = i*C + c
// (zero for channels past out_c). The sum runs in that (i, c, t) order, with
// fused multiply-adds (PhaseConvKernel::fused; else multiply, then add), then
// + bias, then the clamp: the result differs from conv2d_f32_ref (which sums
// in (i, j, c) order) by rounding only.
#pragma once

#include <cstddef>

namespace irnet {

constexpr std::size_t kPhaseTilePixels = 16;   // AArch64 NEON output pixels per tile (4 vectors of 4)
constexpr std::size_t kPhaseTileChannels = 4;  // output channels per tile (one vector's lanes)
constexpr int kPhaseKernelW = 7;
constexpr int kPhaseStrideW = 2;
// Kernel column j of the t-th tap read within one (i, c) pair.
constexpr int kPhaseTapOrder[kPhaseKernelW] = {0, 2, 4, 6, 1, 3, 5};

// Computes up to tile_pixels output pixels (one row) x all output channels, one
// tile of 4 channels after the other: x points at plane(row of tap i = 0, c = 0,
// phase 0)[ow0]; plane_w is the length of one phase plane (>= ow0 + tile_pixels
// + 3 for every tile, so that every load stays inside the planes); w holds the packed
// weights of all ceil(channels / 4) tiles (steps * 7 * 4 floats each, in
// order), bias the biases padded to whole tiles. Stores the first `pixels`
// pixels x `channels` channels at y[p * ldc + o].
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

// A variant of the "phase_conv" kernel family (cpu/kernel_config.h). The
// variant "im2col_sgemm" has no direct kernel (fn and split null): with it
// every float conv runs im2col + sgemm.
struct PhaseConvKernel {
  const char* name;     // e.g. "sconv_7x2_4x16_neon_a64"
  bool (*supported)();  // can this CPU run it
  PhaseConvFn fn;
  PhaseSplitFn split;
  std::size_t tile_pixels = kPhaseTilePixels;  // output pixels per call, at most
  // Each multiply-add fused (one rounding). ARMv7 NEON has no fused multiply
  // by element: there the product is rounded, then the sum (sconv_neon_a32.cc).
  bool fused = true;
};


}  // namespace irnet
