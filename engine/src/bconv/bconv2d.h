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
//   activation stage (optional, on when act_slope is given; ReActNet's RPReLU):
//   z     = y + act_shift_in[o]                   (optional)
//   z     = z < 0 ? z * act_slope[o] : z          (ONNX PRelu: NaN and -0 stay)
//   y     = z + act_shift_out[o]                  (optional)
// and then, depending on BConv2dOutput::mode:
//   kInt32        write acc (no transform at all)
//   kFloat        write y
//   kBits         write the packed sign bit of y (bit 1 <=> y < 0), or with a
//                 threshold t (the next RSign's bias): bit 1 <=> y + t[o] < 0
//   kFloatAndBits write both (a Bi-Real block's output feeds the next block's
//                 residual as float and its binary conv as bits)
// Every step is one IEEE float32 operation in this order (no FMA); an absent
// step is skipped (adding +0 instead would turn -0 into +0). The residual has
// residual_channels channels C_r (0: out_c) with out_c = r * C_r: channel o
// adds residual[n,oh,ow, o mod C_r] (r = 2: ReActNet's channel-doubling
// concat of two convs on one input, as one conv with stacked weights).
// For kBits without residual (and without an activation stage, or with all
// slopes >= 0) the kernel never forms y: the bit is monotone in the integer
// acc, so it is replaced by an exact integer threshold found at construction
// by evaluating the same float expression (flipped for negative scales). The
// result is identical to forming y.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bconv/bconv_epilogue.h"
#include "bgemm/bgemm.h"
#include "bitpack/bitpack.h"
#include "common/conv_geometry.h"
#include "cpu/kernel_config.h"

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
  int residual_channels = 0;         // C_r of the residual, out_c = r * C_r; 0 = out_c
  // The activation stage and the bit threshold, per out channel; empty = absent step.
  std::vector<float> act_shift_in;   // only with act_slope
  std::vector<float> act_slope;      // given: the activation stage is on
  std::vector<float> act_shift_out;  // only with act_slope
  std::vector<float> threshold;      // kBits and kFloatAndBits only
};

// The plain reference: reads one bit at a time, skips padded taps by bounds
// checks. `weights` is [out_c][kh][kw][packed_words(in_c/groups)].
// Output buffers: out_i32 (kInt32), out_f32 (kFloat, kFloatAndBits),
// out_bits (kBits, kFloatAndBits; [N][oh][ow][packed_words(out_c)]).
void bconv2d_ref(const Conv2dGeometry& g, PadValue pad, const BConv2dOutput& out,
                 const BitWord* input, const BitWord* weights, const float* residual,
                 std::int32_t* out_i32, float* out_f32, BitWord* out_bits);

// The optimized layer: construct once at load (validates, precomputes padding
// corrections and thresholds, binds the bgemm, bitpack and epilogue kernels of
// `kernels` and packs `weights` for its bgemm kernel; `weights` must outlive
// it), then call run_rows from any number of threads on disjoint row ranges,
// each with its own scratch.
// Limits (irnet::Error otherwise): kh*kw*in_c/groups <= 2^24 (so every dot
// product is exact in float), shifts in 0..126, finite scale/bias and
// activation/threshold constants, clamp_lo <= clamp_hi, out_c a multiple of
// residual_channels.
class BConv2d {
 public:
  BConv2d(const Conv2dGeometry& g, PadValue pad, BConv2dOutput out, const BitWord* weights,
          const KernelConfig& kernels);
  // Not copyable or movable: the fused rows' constants point into its own vectors.
  BConv2d(const BConv2d&) = delete;
  BConv2d& operator=(const BConv2d&) = delete;

  const Conv2dGeometry& geometry() const { return g_; }
  // Output rows are the N*out_h*out_w output pixels, in NHWC order.
  std::size_t output_rows() const;
  // Bytes of scratch one call of run_rows needs for `rows` rows (8-byte aligned).
  std::size_t scratch_bytes(std::size_t rows) const;
  // Computes output rows [row_begin, row_end). Same buffers as bconv2d_ref;
  // `residual` may be the same buffer as `out_f32` (in-place residual add).
  void run_rows(std::size_t row_begin, std::size_t row_end, const BitWord* input,
                const float* residual, std::int32_t* out_i32, float* out_f32,
                BitWord* out_bits, void* scratch) const;
  // The kernels in use: bgemm and epilogue, e.g. "bgemm_4x8_avx2+bconv_epilogue_avx2"
  // ("bconv_epilogue_portable" where the conv takes the portable passes).
  std::string kernel_name() const;

 private:
  void init_accumulator_base();
  void init_epilogue_constants();
  bool bits_by_threshold() const;  // kBits computed from acc by the integer thresholds
  void select_fused_epilogue(const BconvEpilogueKernel& kernel);
  EpilogueConstants epilogue_constants() const;  // what the fused rows read
  void check_buffers(const BitWord* input, const float* residual, const std::int32_t* out_i32,
                     const float* out_f32, const BitWord* out_bits) const;
  void im2col_group(std::size_t row_begin, std::size_t rows, int group, const BitWord* input,
                    BitWord* cols) const;
  void im2col_pixels(std::size_t row_begin, std::size_t rows, const BitWord* input, BitWord* cols) const;
  static void im2col_pair_taps(std::size_t rows, std::size_t taps, BitWord* words);
  void epilogue(std::size_t row_begin, std::size_t rows, std::int32_t* counts, float* y_row,
                const std::int32_t** bases, const float* residual, std::int32_t* out_i32,
                float* out_f32, BitWord* out_bits) const;

  Conv2dGeometry g_;
  PadValue pad_;
  BConv2dOutput out_;
  const BitWord* weights_;
  const BgemmKernel* bgemm_;
  PackSignsFn pack_signs_;  // bits of y in float modes (the "bitpack" kernel)
  PackSignsThresholdFn pack_threshold_;  // the same with a threshold
  const BconvEpilogueKernel* epilogue_kernel_;

  int out_h_ = 0, out_w_ = 0;
  int in_c_group_ = 0, out_c_group_ = 0;
  std::size_t in_words_ = 0;       // words per input pixel: packed_words(in_c)
  std::size_t group_words_ = 0;    // words per tap of one group: packed_words(in_c/groups)
  std::size_t k_words_ = 0;        // words per im2col row: kh * kw * group_words_
  bool half_word_taps_ = false;    // taps of <= 32 channels, two per bgemm word (im2col_pair_taps)
  std::size_t bgemm_words_ = 0;    // bgemm K: k_words_, or (k_words_ + 1) / 2 with half-word taps
  std::int32_t k_bits_ = 0;        // valid bits per output: kh * kw * in_c/groups
  std::size_t out_words_ = 0;      // packed_words(out_c)
  std::size_t block_rows_ = 0;     // output rows per im2col + bgemm block
  bool pixels_are_rows_ = false;   // 1x1/stride 1/no pad/1 group: bgemm straight on the input
  BgemmFn pixels_bgemm_ = nullptr; // its bgemm: run, or run_half_words for <= 32 channels
  BitWord tail_mask_ = 0;          // valid bits of a group's last word
  std::vector<BitWord> pad_fill_;  // group_words_ words written for a padded tap

  // dot = acc_base_[(row_class_[oh] * n_col_classes_ + col_class_[ow]) * out_c + o] - 2 * popcount:
  // k_bits minus the PadValue::kZero correction of the row's border class (one class otherwise).
  std::vector<int> row_class_, col_class_;
  int n_col_classes_ = 0;
  std::vector<std::int32_t> acc_base_;

  // Epilogue constants per output channel (absent parameters filled in).
  std::vector<float> pow2_shift_, scale_, bias_;
  // kBits without residual: bit = acc * bit_dir_[o] < bit_limit_[o].
  std::vector<std::int32_t> bit_dir_, bit_limit_;
  // The activation stage with absent steps filled in (bconv_epilogue_row.h),
  // -threshold (+0 when absent) for the fused rows, and C_r.
  bool activation_ = false;      // act_slope given
  bool activation_rows_ = false;  // activation, threshold or repeated residual: the activation rows
  std::vector<float> act_shift_in_, act_slope_, act_shift_out_, neg_threshold_;
  int residual_channels_ = 0;

  // Fused one-pass rows of the epilogue kernel (bconv_epilogue.h) where it has
  // them for this conv; null: the portable passes in BConv2d::epilogue.
  EpilogueRowsFn fused_rows_ = nullptr;
  FloatEpilogueRowFn float_row_ = nullptr;  // the portable passes' float row
  std::vector<float> fused_multiplier_;  // float rows: 2^-shift * scale, exact for every channel
  EpilogueConstants fused_constants_;    // what fused_rows_ reads (pointers into the vectors above)

  // Last: packed from weights_ (tap pairs of half-word taps: paired_weights_)
  // once the geometry is known.
  std::vector<BitWord> paired_weights_;
  BgemmWeights packed_weights_;
};

}  // namespace irnet
