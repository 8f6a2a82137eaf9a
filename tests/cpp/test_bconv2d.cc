// BConv2d (im2col + bgemm + epilogue) against bconv2d_ref, exactly, over the
// shape matrix: every in_c in {1,3,16,32,63,64,65,130,512} x every pad value x
// every output mode, with random kernels 1/3/5/7, strides 1/2, dilations
// 1/2, pads 0..3 (asymmetric), groups (incl. groups whose channels start
// mid-word), kernels larger than the input, batch 2, shifts 0..3, negative /
// zero scales, biases that put y exactly on 0, residual and clamp; run in
// several disjoint row ranges (as threads would). The bgemm and the epilogue
// variants rotate through every supported one. Plus the zero-padding semantics checked
// against a plain float convolution of sign(x) with sign(W)*2^-k, and the
// parameter errors.
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "bconv/bconv2d.h"
#include "bit_testing.h"
#include "check.h"

using irnet::BConv2d;
using irnet::BConv2dOutput;
using irnet::BitWord;
using irnet::Conv2dGeometry;
using irnet::PadValue;
using namespace irnet_test;

namespace {

const int kInChannels[] = {1, 3, 16, 32, 63, 64, 65, 130, 512};
const PadValue kPads[] = {PadValue::kZero, PadValue::kPlusOne, PadValue::kMinusOne};
const BConv2dOutput::Mode kModes[] = {BConv2dOutput::kInt32, BConv2dOutput::kFloat,
                                      BConv2dOutput::kBits, BConv2dOutput::kFloatAndBits};

std::int64_t ref_cost(const Conv2dGeometry& g) {
  return std::int64_t(g.batch) * g.out_h() * g.out_w() * g.out_c * g.kernel_h * g.kernel_w *
         g.in_c_per_group();
}

// A random valid geometry with in_c channels whose reference cost stays below `budget`.
Conv2dGeometry random_geometry(Rng& rng, int in_c, std::int64_t budget) {
  for (;;) {
    Conv2dGeometry g;
    g.in_c = in_c;
    std::vector<int> groups = {1};
    for (int d = 2; d <= in_c; ++d)
      if (in_c % d == 0 && (d <= 8 || d == in_c)) groups.push_back(d);
    g.groups = uniform_int(rng, 0, 2) == 0 ? groups[rng() % groups.size()] : 1;
    g.out_c = g.groups * uniform_int(rng, 1, std::max(1, 70 / g.groups));
    if (uniform_int(rng, 0, 5) == 0 && g.groups == 1) g.out_c = uniform_int(rng, 0, 1) ? 65 : 130;
    g.batch = uniform_int(rng, 0, 3) == 0 ? 2 : 1;
    const int kernels[] = {1, 3, 5, 7};
    g.kernel_h = kernels[rng() % 4];
    g.kernel_w = uniform_int(rng, 0, 2) == 0 ? kernels[rng() % 4] : g.kernel_h;
    g.stride_h = uniform_int(rng, 1, 2);
    g.stride_w = uniform_int(rng, 1, 2);
    g.dilation_h = uniform_int(rng, 0, 3) == 0 ? 2 : 1;
    g.dilation_w = uniform_int(rng, 0, 3) == 0 ? 2 : 1;
    g.pad_top = uniform_int(rng, 0, 3);
    g.pad_left = uniform_int(rng, 0, 3);
    g.pad_bottom = uniform_int(rng, 0, 1) ? g.pad_top : uniform_int(rng, 0, 3);
    g.pad_right = uniform_int(rng, 0, 1) ? g.pad_left : uniform_int(rng, 0, 3);
    g.in_h = uniform_int(rng, 1, 9);
    g.in_w = uniform_int(rng, 1, 9);
    const bool valid = g.in_h + g.pad_top + g.pad_bottom >= g.dilation_h * (g.kernel_h - 1) + 1 &&
                       g.in_w + g.pad_left + g.pad_right >= g.dilation_w * (g.kernel_w - 1) + 1;
    if (valid && ref_cost(g) <= budget) return g;
  }
}

BConv2dOutput random_output(Rng& rng, BConv2dOutput::Mode mode, const Conv2dGeometry& g) {
  BConv2dOutput out;
  out.mode = mode;
  const int k_bits = g.kernel_h * g.kernel_w * g.in_c_per_group();
  if (uniform_int(rng, 0, 3) != 0) {
    out.shift.resize(g.out_c);
    for (int& s : out.shift) s = uniform_int(rng, 0, 3);
  }
  if (uniform_int(rng, 0, 3) != 0) {
    out.scale.resize(g.out_c);
    for (float& s : out.scale) {
      const int kind = uniform_int(rng, 0, 9);
      s = kind == 0 ? 0.f : std::uniform_real_distribution<float>(0.05f, 3.f)(rng) * (kind < 4 ? -1.f : 1.f);
    }
  }
  if (uniform_int(rng, 0, 3) != 0) {
    out.bias.resize(g.out_c);
    for (int o = 0; o < g.out_c; ++o) {
      if (uniform_int(rng, 0, 1)) {
        // y is exactly 0 at acc = a: the bits must follow y < 0 (false at 0) exactly.
        const int a = uniform_int(rng, -k_bits, k_bits);
        const float scale = out.scale.empty() ? 1.f : out.scale[o];
        const int shift = out.shift.empty() ? 0 : out.shift[o];
        out.bias[o] = -(std::ldexp(float(a), -shift) * scale);
      } else {
        out.bias[o] = std::uniform_real_distribution<float>(-5.f, 5.f)(rng);
      }
    }
  }
  out.has_residual = mode != BConv2dOutput::kInt32 && uniform_int(rng, 0, 2) == 0;
  out.has_clamp = uniform_int(rng, 0, 1) == 1;
  if (out.has_clamp) {
    out.clamp_lo = std::uniform_real_distribution<float>(-3.f, 0.5f)(rng);
    out.clamp_hi = out.clamp_lo + std::uniform_real_distribution<float>(0.f, 4.f)(rng);
  }
  return out;
}

struct Outputs {
  std::vector<std::int32_t> i32;
  std::vector<float> f32;
  std::vector<BitWord> bits;
};

Outputs make_outputs(const Conv2dGeometry& g) {
  const std::size_t rows = std::size_t(g.batch) * g.out_h() * g.out_w();
  Outputs o;
  o.i32.assign(rows * g.out_c, 0x5a5a5a5a);
  o.f32.assign(rows * g.out_c, std::numeric_limits<float>::quiet_NaN());
  o.bits.assign(rows * irnet::packed_words(g.out_c), 0xA5A5A5A5A5A5A5A5ull);
  return o;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;  // bit-exact, NaN == NaN
  return true;
}

std::string describe(const Conv2dGeometry& g, PadValue pad, const BConv2dOutput& out, const std::string& kernel) {
  return str_cat_test("N", g.batch, " ", g.in_h, "x", g.in_w, "x", g.in_c, " -> ", g.out_c, " k",
                      g.kernel_h, "x", g.kernel_w, " s", g.stride_h, g.stride_w, " d", g.dilation_h,
                      g.dilation_w, " p", g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, " g", g.groups,
                      " pad", int(pad), " mode", int(out.mode), " res", out.has_residual, " clamp",
                      out.has_clamp, " ", kernel);
}

// Runs the fast layer in 1-3 disjoint row ranges (each with its own scratch) and compares to the ref.
void check_case(Rng& rng, const Conv2dGeometry& g, PadValue pad, const BConv2dOutput& out) {
  const std::vector<BitWord> input = random_packed(rng, std::size_t(g.batch) * g.in_h * g.in_w, g.in_c);
  const std::vector<BitWord> weights =
      random_packed(rng, std::size_t(g.out_c) * g.kernel_h * g.kernel_w, g.in_c_per_group());
  const std::size_t rows = std::size_t(g.batch) * g.out_h() * g.out_w();
  std::vector<float> residual(rows * g.out_c);
  for (float& r : residual) r = std::uniform_real_distribution<float>(-4.f, 4.f)(rng);
  const float* res = out.has_residual ? residual.data() : nullptr;
  Outputs expected = make_outputs(g), got = make_outputs(g);
  irnet::bconv2d_ref(g, pad, out, input.data(), weights.data(), res, expected.i32.data(),
                     expected.f32.data(), expected.bits.data());
  const BConv2d layer(g, pad, out, weights.data(), irnet::selected_kernels());
  CHECK_EQ(layer.output_rows(), rows);
  // Sometimes add the residual in place: residual and float output are one buffer.
  const bool in_place = out.has_residual && out.mode != BConv2dOutput::kBits && uniform_int(rng, 0, 1) == 0;
  if (in_place) {
    got.f32 = residual;
    res = got.f32.data();
  }
  std::size_t begin = 0;
  while (begin < rows) {
    const std::size_t end = uniform_int(rng, 0, 2) == 0 ? rows : std::min<std::size_t>(rows, begin + 1 + rng() % rows);
    std::vector<BitWord> scratch(layer.scratch_bytes(end - begin) / sizeof(BitWord) + 1);
    layer.run_rows(begin, end, input.data(), res, got.i32.data(), got.f32.data(), got.bits.data(),
                   scratch.data());
    begin = end;
  }
  const bool ok = got.i32 == expected.i32 && same_floats(got.f32, expected.f32) && got.bits == expected.bits;
  if (!ok) CHECK_EQ(describe(g, pad, out, layer.kernel_name()), std::string("matches bconv2d_ref"));
}

}  // namespace

TEST(matches_reference_over_shape_matrix) {
  Rng rng(4);
  const std::vector<std::string> kernels = supported_variants("bgemm");
  const std::vector<std::string> epilogues = supported_variants("bconv_epilogue");
  std::size_t case_index = 0;
  for (int in_c : kInChannels)
    for (PadValue pad : kPads)
      for (BConv2dOutput::Mode mode : kModes)
        for (int rep = 0; rep < 3; ++rep) {
          const Conv2dGeometry g = random_geometry(rng, in_c, 150000);
          const BConv2dOutput out = random_output(rng, mode, g);
          ForcedKernel forced_epilogue("bconv_epilogue", epilogues[case_index % epilogues.size()]);
          ForcedKernel forced("bgemm", kernels[case_index++ % kernels.size()]);
          check_case(rng, g, pad, out);
        }
}

TEST(matches_reference_resnet_like_3x3) {
  // The production shape class: 3x3, stride 1 and 2, pad 1, channel multiples of 64.
  Rng rng(5);
  for (const std::string& kernel : supported_variants("bgemm"))
    for (int in_c : {64, 128})
      for (int stride : {1, 2}) {
        Conv2dGeometry g;
        g.in_h = g.in_w = 8;
        g.in_c = in_c;
        g.out_c = 64;
        g.kernel_h = g.kernel_w = 3;
        g.stride_h = g.stride_w = stride;
        g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
        ForcedKernel forced("bgemm", kernel);
        for (BConv2dOutput::Mode mode : kModes) check_case(rng, g, PadValue::kZero, random_output(rng, mode, g));
      }
}

TEST(matches_reference_half_word_taps) {
  // Taps of at most 32 channels are paired two per bgemm word: ReActNet-A's
  // first block (3x3 over 32 channels, stride 1 and 2, pad 1: every border
  // class of the zero-padding correction) and odd kernels (5x3: 15 taps, the
  // last word half empty) over 1, 17 and 32 channels, grouped convs whose
  // groups have <= 32 channels (64 = 2 x 32, 34 = 2 x 17); every pad value,
  // output mode and bgemm variant, against the per-bit reference.
  Rng rng(10);
  const std::vector<std::string> kernels = supported_variants("bgemm");
  const std::pair<int, int> channels_groups[] = {{32, 1}, {17, 1}, {1, 1}, {64, 2}, {34, 2}};
  const std::pair<int, int> kernel_sizes[] = {{3, 3}, {5, 3}};
  std::size_t case_index = 0;
  for (const auto& [in_c, groups] : channels_groups)
    for (const auto& [kernel_h, kernel_w] : kernel_sizes)
      for (int stride : {1, 2})
        for (PadValue pad : kPads) {
          Conv2dGeometry g;
          g.in_h = 7;
          g.in_w = 6;
          g.in_c = in_c;
          g.groups = groups;
          g.out_c = groups * uniform_int(rng, 20, 36);
          g.kernel_h = kernel_h;
          g.kernel_w = kernel_w;
          g.stride_h = g.stride_w = stride;
          g.pad_top = g.pad_bottom = kernel_h / 2;
          g.pad_left = g.pad_right = kernel_w / 2;
          ForcedKernel forced("bgemm", kernels[case_index % kernels.size()]);
          check_case(rng, g, pad, random_output(rng, kModes[case_index++ % 4], g));
        }
}

TEST(matches_reference_kernel_larger_than_input) {
  // Every tap pattern at once: a 7x7 (and dilated 3x3) kernel over a 2x3 image
  // with padding just large enough; most taps of every output are padding.
  Rng rng(8);
  for (PadValue pad : kPads)
    for (BConv2dOutput::Mode mode : kModes)
      for (int dilated = 0; dilated < 2; ++dilated) {
        Conv2dGeometry g;
        g.in_h = 2;
        g.in_w = 3;
        g.in_c = 65;
        g.out_c = 9;
        g.kernel_h = g.kernel_w = dilated ? 3 : 7;
        g.dilation_h = g.dilation_w = dilated ? 3 : 1;
        g.pad_top = 3, g.pad_bottom = 3, g.pad_left = 1, g.pad_right = 4;  // 2x2 outputs
        check_case(rng, g, pad, random_output(rng, mode, g));
      }
}

TEST(matches_reference_1x1_unpadded) {
  // BinaryGemm (1x1 kernel on a 1x1 image, batch = GEMM rows) and 1x1 convs:
  // the path where the input pixels are the bgemm rows without im2col.
  Rng rng(7);
  const std::vector<std::string> kernels = supported_variants("bgemm");
  const std::vector<std::string> epilogues = supported_variants("bconv_epilogue");
  std::size_t case_index = 0;
  for (int in_c : kInChannels)
    for (BConv2dOutput::Mode mode : kModes) {
      Conv2dGeometry g;
      g.in_c = in_c;
      g.out_c = uniform_int(rng, 1, 70);
      const bool gemm = uniform_int(rng, 0, 1) == 0;
      g.batch = gemm ? uniform_int(rng, 1, 9) : 2;
      g.in_h = gemm ? 1 : uniform_int(rng, 1, 6);
      g.in_w = gemm ? 1 : uniform_int(rng, 1, 6);
      ForcedKernel forced("bgemm", kernels[case_index++ % kernels.size()]);
      check_case(rng, g, PadValue::kZero, random_output(rng, mode, g));
    }
}

TEST(matches_reference_whole_pixel_im2col) {
  // One group: every tap is a whole-pixel copy, and with dilation_w 1 a kernel
  // row whose taps are all inside is one run of kw pixels. Every border
  // (left, right, top, bottom, several at once), strides 1 and 2, pads 0-3
  // (asymmetric), word-aligned and unaligned channel counts: 1-8 words per
  // pixel, so 3-wide kernel rows run every fixed-size copy (3, 6, 12, 24
  // words; the two-column step of 1-word pixels at stride 1, with an odd
  // and an even number of interior columns) and the run-time one (9 words).
  Rng rng(9);
  const std::vector<std::string> kernels = supported_variants("bgemm");
  const std::vector<std::string> epilogues = supported_variants("bconv_epilogue");
  std::size_t case_index = 0;
  for (int in_c : {1, 63, 64, 65, 130, 256, 512})
    for (int kernel_w : {1, 3, 5})
      for (int stride : {1, 2})
        for (int pad = 0; pad <= 3; ++pad)
          for (int dilation_w : {1, 2}) {
            Conv2dGeometry g;
            g.in_h = 5;
            g.in_w = 7 + pad % 2;  // odd and even interior widths
            g.in_c = in_c;
            g.out_c = 5;
            g.kernel_h = 3;
            g.kernel_w = kernel_w;
            g.stride_h = g.stride_w = stride;
            g.dilation_w = dilation_w;
            g.pad_top = pad;
            g.pad_left = pad;
            g.pad_bottom = 3 - pad;
            g.pad_right = (pad + 1) % 4;
            if (g.in_w + g.pad_left + g.pad_right < dilation_w * (kernel_w - 1) + 1) continue;
            ForcedKernel forced_epilogue("bconv_epilogue", epilogues[case_index % epilogues.size()]);
          ForcedKernel forced("bgemm", kernels[case_index++ % kernels.size()]);
            for (PadValue pv : kPads) check_case(rng, g, pv, random_output(rng, BConv2dOutput::kInt32, g));
          }
}

TEST(matches_reference_epilogue_edge_cases) {
  // The fused epilogue's branches: every output mode x residual (also in
  // place) x clamp with zero, negative-zero and nonzero bounds, and shifts up
  // to 126 with scales whose product with 2^-shift is exact or is not
  // (tiny and subnormal scales), zero and negative scales; channel counts
  // around the 16-channel step and the 64-bit word.
  Rng rng(10);
  // 2^-shift * scale is exact for the first six for every shift 0..126, never for the last two.
  const float kScales[] = {1.f, -0.75f, 0.f, -0.f, 2.5f, -3.f, 3.5e-38f, -1.5e-40f};
  const float kBounds[][2] = {{0.f, 1.f}, {-1.f, 0.f}, {-0.f, 2.f}, {-1.f, -0.f}, {-1.f, 1.f}, {0.f, 0.f}, {0.5f, 0.75f}};
  int case_index = 0;
  for (int out_c : {1, 3, 15, 16, 17, 63, 64, 65, 130})
    for (BConv2dOutput::Mode mode : kModes)
      for (int variant = 0; variant < 6; ++variant) {
        Conv2dGeometry g;
        g.in_h = 4;
        g.in_w = 3;
        g.in_c = variant % 2 ? 65 : 64;
        g.out_c = out_c;
        g.kernel_h = g.kernel_w = 3;
        g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
        const int k_bits = 9 * g.in_c;
        BConv2dOutput out;
        out.mode = mode;
        const bool inexact = variant == 5;  // some channel's 2^-shift * scale rounds
        out.shift.resize(out_c);
        for (int& sh : out.shift) sh = variant < 2 ? uniform_int(rng, 0, 3) : uniform_int(rng, 0, 126);
        out.scale.resize(out_c);
        for (float& sc : out.scale) sc = kScales[rng() % (inexact ? 8 : 6)];
        if (inexact) out.scale[0] = kScales[6 + rng() % 2];
        out.bias.resize(out_c);
        for (int o = 0; o < out_c; ++o) {
          const int kind = uniform_int(rng, 0, 2);
          // kind 1: y is exactly +-0 at a likely acc (|acc| is small for random bits).
          const int a = 2 * uniform_int(rng, -12, 12) + (k_bits % 2);
          out.bias[o] = kind == 0 ? (uniform_int(rng, 0, 1) ? 0.f : -0.f)
                        : kind == 1 ? -(std::ldexp(float(a), -out.shift[o]) * out.scale[o])
                                    : std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
        }
        // Inexact: channel 0 is tiny, and visible in y only without bias and residual.
        if (inexact) out.bias[0] = 0.f;
        out.has_residual = mode != BConv2dOutput::kInt32 && variant % 3 != 0 && !inexact;
        out.has_clamp = variant != 4;
        const float* bounds = kBounds[case_index++ % 7];
        out.clamp_lo = bounds[0];
        out.clamp_hi = bounds[1];
        for (PadValue pv : kPads) check_case(rng, g, pv, out);
      }
}

TEST(zero_padding_equals_float_convolution_of_signs) {
  // Independent of the bit conventions: float x and W, y = conv2d(sign(x)
  // zero-padded, sign(W) * 2^-k) in plain float loops, sign(0) := +1.
  Rng rng(6);
  std::uniform_real_distribution<float> value(-1.f, 1.f);
  for (int trial = 0; trial < 24; ++trial) {
    const Conv2dGeometry g = random_geometry(rng, kInChannels[trial % 8], 100000);
    const int cin_g = g.in_c_per_group(), cout_g = g.out_c_per_group();
    std::vector<float> x(std::size_t(g.batch) * g.in_h * g.in_w * g.in_c);
    std::vector<float> w(std::size_t(g.out_c) * g.kernel_h * g.kernel_w * cin_g);
    for (float& v : x) v = uniform_int(rng, 0, 15) == 0 ? 0.f : value(rng);
    for (float& v : w) v = value(rng);
    std::vector<int> shift(g.out_c);
    for (int& s : shift) s = uniform_int(rng, 0, 3);

    std::vector<BitWord> xb(std::size_t(g.batch) * g.in_h * g.in_w * irnet::packed_words(g.in_c));
    std::vector<BitWord> wb(std::size_t(g.out_c) * g.kernel_h * g.kernel_w * irnet::packed_words(cin_g));
    irnet::pack_signs_ref(x.data(), std::size_t(g.batch) * g.in_h * g.in_w, g.in_c, xb.data());
    irnet::pack_signs_ref(w.data(), std::size_t(g.out_c) * g.kernel_h * g.kernel_w, cin_g, wb.data());
    BConv2dOutput out;
    out.mode = BConv2dOutput::kFloat;
    out.shift = shift;
    const BConv2d layer(g, PadValue::kZero, out, wb.data(), irnet::selected_kernels());
    const std::size_t rows = layer.output_rows();
    std::vector<float> y(rows * g.out_c);
    std::vector<BitWord> scratch(layer.scratch_bytes(rows) / sizeof(BitWord) + 1);
    layer.run_rows(0, rows, xb.data(), nullptr, nullptr, y.data(), nullptr, scratch.data());

    const auto sign = [](float v) { return v < 0.f ? -1.f : 1.f; };
    bool ok = true;
    for (int n = 0; n < g.batch; ++n)
      for (int oh = 0; oh < g.out_h(); ++oh)
        for (int ow = 0; ow < g.out_w(); ++ow)
          for (int o = 0; o < g.out_c; ++o) {
            const float wscale = 1.f / float(1 << shift[o]);
            float sum = 0.f;  // a sum of multiples of 2^-3 below 2^20: exact in float
            for (int i = 0; i < g.kernel_h; ++i)
              for (int j = 0; j < g.kernel_w; ++j) {
                const int ih = oh * g.stride_h - g.pad_top + i * g.dilation_h;
                const int iw = ow * g.stride_w - g.pad_left + j * g.dilation_w;
                for (int c = 0; c < cin_g; ++c) {
                  const float xs = (ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w)
                      ? sign(x[((std::size_t(n) * g.in_h + ih) * g.in_w + iw) * g.in_c + (o / cout_g) * cin_g + c])
                      : 0.f;
                  sum += xs * (sign(w[((std::size_t(o) * g.kernel_h + i) * g.kernel_w + j) * cin_g + c]) * wscale);
                }
              }
            const std::size_t idx = ((std::size_t(n) * g.out_h() + oh) * g.out_w() + ow) * g.out_c + o;
            ok = ok && y[idx] == sum;
          }
    if (!ok) CHECK_EQ(describe(g, PadValue::kZero, out, layer.kernel_name()), std::string("float conv"));
  }
}

TEST(bad_parameters_throw) {
  Conv2dGeometry g;
  g.in_h = g.in_w = 4;
  g.in_c = 64;
  g.out_c = 8;
  g.kernel_h = g.kernel_w = 3;
  const std::vector<BitWord> w(std::size_t(8) * 9, 0);
  BConv2dOutput out;
  CHECK(BConv2d(g, PadValue::kZero, out, w.data(), irnet::selected_kernels()).output_rows() == 4);

  Conv2dGeometry bad = g;
  bad.stride_w = 0;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "stride must be >= 1");
  bad = g;
  bad.pad_left = -1;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "padding must be >= 0");
  bad = g;
  bad.groups = 3;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "input channels 64 are not divisible by groups 3");
  bad = g;
  bad.kernel_h = 5;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "larger than the padded input");
  bad = g;
  bad.dilation_h = 0;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "dilation must be >= 1");
  bad = g;
  bad.in_c = 0;
  CHECK_THROWS(BConv2d(bad, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "input channels must be >= 1");
  CHECK_THROWS(BConv2d(g, PadValue::kZero, out, nullptr, irnet::selected_kernels()), "weights are null");
  CHECK_THROWS(BConv2d(g, static_cast<PadValue>(2), out, w.data(), irnet::selected_kernels()), "pad value must be 0, 1 or -1");

  BConv2dOutput o = out;
  o.scale.assign(7, 1.f);
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "scale has 7 values, expected 0 or out_c = 8");
  o = out;
  o.bias.assign(9, 0.f);
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "bias has 9 values");
  o = out;
  o.shift.assign(8, 0);
  o.shift[3] = -1;
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "shift[3] = -1 is outside 0..126");
  o = out;
  o.scale.assign(8, 1.f);
  o.scale[5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "scale[5] is not finite");
  o = out;
  o.has_clamp = true;
  o.clamp_lo = 1.f;
  o.clamp_hi = -1.f;
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "clamp range");
  o = out;
  o.mode = BConv2dOutput::kInt32;
  o.has_residual = true;
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "int32 output takes no residual");
  // The activation stage, threshold and repeated residual (ops/binary_conv2d.cc
  // refuses the same in a file, naming the input).
  o = out;
  o.act_slope.assign(7, 0.25f);
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "act_slope has 7 values");
  o = out;
  o.act_slope.assign(8, 0.25f);
  o.act_shift_out.assign(8, 0.f);
  o.act_shift_out[2] = std::numeric_limits<float>::infinity();
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "act_shift_out[2] is not finite");
  o = out;
  o.act_shift_in.assign(8, 0.f);
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "need act_slope");
  o = out;
  o.mode = BConv2dOutput::kFloat;
  o.threshold.assign(8, 0.f);
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "a threshold needs mode bits");
  o = out;
  o.has_residual = true;
  o.residual_channels = 3;
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "must divide out_c = 8");
  o.has_residual = false;
  o.residual_channels = 4;
  CHECK_THROWS(BConv2d(g, PadValue::kZero, o, w.data(), irnet::selected_kernels()), "needs a residual");

  const BConv2d layer(g, PadValue::kZero, out, w.data(), irnet::selected_kernels());
  std::vector<BitWord> input(16, 0), scratch(layer.scratch_bytes(4) / 8 + 1);
  std::vector<float> y(4 * 8);
  CHECK_THROWS(layer.run_rows(0, 5, input.data(), nullptr, nullptr, y.data(), nullptr, scratch.data()),
               "rows [0, 5) outside the 4 output rows");
  CHECK_THROWS(layer.run_rows(0, 4, input.data(), nullptr, nullptr, nullptr, nullptr, scratch.data()),
               "float output buffer is null");
  CHECK_THROWS(layer.run_rows(0, 4, input.data(), nullptr, nullptr, y.data(), nullptr, nullptr),
               "scratch must be non-null");
  CHECK_THROWS(layer.run_rows(0, 4, nullptr, nullptr, nullptr, y.data(), nullptr, scratch.data()),
               "input is null");

  Conv2dGeometry huge = g;
  huge.kernel_h = huge.kernel_w = 3;
  huge.in_h = huge.in_w = 3;
  huge.in_c = 64 * 40000;
  CHECK_THROWS(BConv2d(huge, PadValue::kZero, out, w.data(), irnet::selected_kernels()), "exceeds 2^24");
}

TEST(geometry_output_size) {
  Conv2dGeometry g;
  g.in_h = 56;
  g.in_w = 55;
  g.in_c = 64;
  g.out_c = 64;
  g.kernel_h = g.kernel_w = 3;
  g.stride_h = g.stride_w = 2;
  g.pad_top = g.pad_left = 1;
  g.pad_bottom = g.pad_right = 0;
  g.validate();
  CHECK_EQ(g.out_h(), 28);  // (56 + 1 - 2 - 1) / 2 + 1
  CHECK_EQ(g.out_w(), 27);  // (55 + 1 - 2 - 1) / 2 + 1
  g.dilation_h = 2;
  CHECK_EQ(g.out_h(), 27);  // (56 + 1 - 4 - 1) / 2 + 1

  Conv2dGeometry bad = g;
  bad.pad_top = 2147483647;
  CHECK_THROWS(bad.validate(), "padded input size overflows");
  bad = g;
  bad.out_c = 10;
  bad.groups = 4;
  bad.in_c = 64;
  CHECK_THROWS(bad.validate(), "output channels 10 are not divisible by groups 4");
  bad = g;
  bad.batch = 1 << 30;
  bad.in_c = 1 << 30;
  CHECK_THROWS(bad.validate(), "tensor sizes overflow 64-bit indexing");
  bad = g;
  bad.kernel_w = 0;
  CHECK_THROWS(bad.validate(), "kernel must be >= 1x1, got 3x0");
}

int main() { return irnet_test::run_all(); }
