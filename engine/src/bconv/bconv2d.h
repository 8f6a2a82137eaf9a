// Binary 2-D convolution on packed activations and packed weights.
//
// Semantics (what bconv2d_ref computes and every fast path must match bit for bit):
//   dot[n,oh,ow,o] = sum over taps (i,j) inside the input, channels c of group(o):
//                    a[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, c] * w[o,i,j,c]
//   with a, w in {-1,+1}. Taps that fall in the padding contribute
//     PadValue::kZero      0   (PyTorch/ONNX: zeros inserted *after* sign())
//     PadValue::kPlusOne  +w   (padding with +1)
//     PadValue::kMinusOne -w   (daBNN-style models pad with -1 on purpose)
//
// The fast path im2col's packed pixels and runs a bgemm over K = kh*kw*words
// words. Padded taps are filled with bits 0 (+1) or 1 (-1), so kPlusOne and
// kMinusOne come out right directly. kZero uses +1 fill and then subtracts,
// per output channel, the sum of the weights over the padded taps: a constant
// per (output channel, border position) precomputed at construction.
//
// Output transform (the epilogue), per output channel o, in this order:
//   acc   = dot                                   (int32)
//   y     = acc * 2^-shift[o]                     (IR-Net bit-shift scale, exact:
//                                                  applied as an exponent decrement)
//   y     = y * scale[o] + bias[o]                (folded BatchNorm etc.; no FMA)
//   y     = y + residual[n,oh,ow,o]               (optional residual Add)
//   y     = clamp(y, clamp_lo, clamp_hi)          (optional, e.g. Hardtanh)
// and then, depending on BConv2dOutput::mode:
//   kInt32        write acc (no transform at all)
//   kFloat        write y
//   kBits         write the packed sign bit of y (bit 1 <=> y < 0)
//   kFloatAndBits write both (a Bi-Real block's output feeds the next block's
//                 residual as float and its binary conv as bits)
// For kBits without residual the kernel never forms y: the predicate y < 0 is
// monotone in the integer acc, so it is replaced by an exact integer threshold
// found at construction by evaluating the same float expression (flipped for
// negative scales). The result is identical to forming y.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bitpack/bitpack.h"
#include "common/conv_geometry.h"

namespace irnet {

enum class PadValue : std::int8_t { kZero = 0, kPlusOne = 1, kMinusOne = -1 };

struct BConv2dOutput {
  enum Mode { kInt32, kFloat, kBits, kFloatAndBits };
  Mode mode = kFloat;
  std::vector<std::int32_t> shift;  // per out channel, each >= 0; empty = all 0
  std::vector<float> scale;         // per out channel; empty = all 1
  std::vector<float> bias;          // per out channel; empty = all 0
  bool has_residual = false;        // add a float NHWC tensor shaped like the output
  bool has_clamp = false;
  float clamp_lo = 0.f, clamp_hi = 0.f;
};

// The plain reference: reads one bit at a time, skips padded taps by bounds
// checks. `weights` is [out_c][kh][kw][packed_words(in_c/groups)].
// Output buffers: out_i32 (kInt32), out_f32 (kFloat, kFloatAndBits),
// out_bits (kBits, kFloatAndBits; [N][oh][ow][packed_words(out_c)]).
void bconv2d_ref(const Conv2dGeometry& g, PadValue pad, const BConv2dOutput& out,
                 const BitWord* input, const BitWord* weights, const float* residual,
                 std::int32_t* out_i32, float* out_f32, BitWord* out_bits);

// The optimized layer: construct once at load (validates, precomputes padding
// corrections and thresholds, keeps a pointer to `weights`, which must outlive it),
// then call run_rows from any number of threads on disjoint row ranges.
class BConv2d {
 public:
  BConv2d(const Conv2dGeometry& g, PadValue pad, BConv2dOutput out, const BitWord* weights);

  const Conv2dGeometry& geometry() const { return g_; }
  // Output rows are the N*out_h*out_w output pixels, in NHWC order.
  std::size_t output_rows() const;
  // Bytes of scratch one call of run_rows needs for `rows` rows.
  std::size_t scratch_bytes(std::size_t rows) const;
  // Computes output rows [row_begin, row_end). Same buffers as bconv2d_ref.
  void run_rows(std::size_t row_begin, std::size_t row_end, const BitWord* input,
                const float* residual, std::int32_t* out_i32, float* out_f32,
                BitWord* out_bits, void* scratch) const;
  // Name of the bgemm micro-kernel in use, e.g. "bgemm_8x4_avx512".
  const char* kernel_name() const;

 private:
  Conv2dGeometry g_;
  // Implementation state (padding corrections, thresholds, im2col plan) is
  // added by bconv2d.cc.
};

}  // namespace irnet
