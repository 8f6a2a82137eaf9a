// bconv2d_ref: the binary convolution written from its definition, one bit at
// a time, sharing nothing with the fast path (no im2col, no bgemm, no
// padding correction, no thresholds): padded taps are skipped by bounds
// checks and contribute pad * w directly; the epilogue always forms y.
#include <cmath>

#include "bconv/bconv2d.h"
#include "core/check.h"

namespace irnet {
namespace {

int sign_of_bit(const BitWord* row, int c) {
  return ((row[c / kBitsPerWord] >> (c % kBitsPerWord)) & 1) ? -1 : 1;
}

}  // namespace

void bconv2d_ref(const Conv2dGeometry& g, PadValue pad, const BConv2dOutput& out,
                 const BitWord* input, const BitWord* weights, const float* residual,
                 std::int32_t* out_i32, float* out_f32, BitWord* out_bits) {
  g.validate();
  const int oh_n = g.out_h(), ow_n = g.out_w();
  const int cin_g = g.in_c_per_group(), cout_g = g.out_c_per_group();
  const std::size_t in_words = packed_words(g.in_c);
  const std::size_t w_words = packed_words(cin_g);
  const std::size_t out_words = packed_words(g.out_c);
  const int pad_sign = static_cast<int>(pad);
  const std::size_t res_c = out.residual_channels > 0 ? std::size_t(out.residual_channels) : std::size_t(g.out_c);

  for (int n = 0; n < g.batch; ++n)
    for (int oh = 0; oh < oh_n; ++oh)
      for (int ow = 0; ow < ow_n; ++ow) {
        const std::size_t pixel = (std::size_t(n) * oh_n + oh) * ow_n + ow;
        if (out_bits != nullptr && out.mode != BConv2dOutput::kInt32 && out.mode != BConv2dOutput::kFloat)
          for (std::size_t w = 0; w < out_words; ++w) out_bits[pixel * out_words + w] = 0;
        for (int o = 0; o < g.out_c; ++o) {
          const int group = o / cout_g;
          std::int32_t acc = 0;
          for (int i = 0; i < g.kernel_h; ++i)
            for (int j = 0; j < g.kernel_w; ++j) {
              const int ih = oh * g.stride_h - g.pad_top + i * g.dilation_h;
              const int iw = ow * g.stride_w - g.pad_left + j * g.dilation_w;
              const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
              const BitWord* w_row = weights + ((std::size_t(o) * g.kernel_h + i) * g.kernel_w + j) * w_words;
              const BitWord* a_row =
                  inside ? input + ((std::size_t(n) * g.in_h + ih) * g.in_w + iw) * in_words : nullptr;
              for (int c = 0; c < cin_g; ++c) {
                const int w = sign_of_bit(w_row, c);
                acc += inside ? sign_of_bit(a_row, group * cin_g + c) * w : pad_sign * w;
              }
            }
          const std::size_t idx = pixel * g.out_c + o;
          if (out.mode == BConv2dOutput::kInt32) {
            out_i32[idx] = acc;
            continue;
          }
          const int shift = out.shift.empty() ? 0 : out.shift[o];
          const float scale = out.scale.empty() ? 1.f : out.scale[o];
          const float bias = out.bias.empty() ? 0.f : out.bias[o];
          float y = std::ldexp(static_cast<float>(acc), -shift);
          y = y * scale;
          y = y + bias;
          if (out.has_residual) y = y + residual[pixel * res_c + std::size_t(o) % res_c];
          if (out.has_clamp) y = y < out.clamp_lo ? out.clamp_lo : (y > out.clamp_hi ? out.clamp_hi : y);
          if (!out.act_slope.empty()) {
            if (!out.act_shift_in.empty()) y = y + out.act_shift_in[o];
            if (y < 0.f) y = y * out.act_slope[o];
            if (!out.act_shift_out.empty()) y = y + out.act_shift_out[o];
          }
          if (out.mode == BConv2dOutput::kFloat || out.mode == BConv2dOutput::kFloatAndBits) out_f32[idx] = y;
          const bool negative = out.threshold.empty() ? y < 0.f : y + out.threshold[o] < 0.f;
          if ((out.mode == BConv2dOutput::kBits || out.mode == BConv2dOutput::kFloatAndBits) && negative)
            out_bits[pixel * out_words + o / kBitsPerWord] |= BitWord{1} << (o % kBitsPerWord);
        }
      }
}

}  // namespace irnet
