// Float conv / sgemm: every sgemm variant this CPU supports, forced in turn,
// against the plain references (portable kernel: bit-exact; FMA kernels:
// within rounding), over a shape matrix of kernels, strides, dilations,
// asymmetric pads, groups, channel counts and batch 2.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/check.h"
#include "fconv/conv2d_f32.h"
#include "fconv/phase_conv.h"
#include "fconv/sgemm.h"
#include "cpu/kernel_config.h"
#include "irnet/kernels.h"

using namespace irnet;

namespace {

std::vector<const SgemmKernel*> supported_sgemm_kernels() { return supported_kernels<SgemmKernel>(); }
const SgemmKernel& selected_sgemm_kernel() { return *selected_kernels().sgemm; }
// Every "phase_conv" variant with a direct kernel that this CPU runs (none
// where the build has none), so that each is tested, not only the selected one.
std::vector<const PhaseConvKernel*> direct_phase_kernels() {
  std::vector<const PhaseConvKernel*> out;
  for (const PhaseConvKernel* phase : supported_kernels<PhaseConvKernel>())
    if (phase->split != nullptr) out.push_back(phase);
  return out;
}
// The "phase_conv" variant without a direct kernel: every conv runs im2col + sgemm.
const PhaseConvKernel& im2col_sgemm() { return *supported_kernels<PhaseConvKernel>().back(); }

}  // namespace

namespace {

std::vector<float> random_floats(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> abs_of(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

bool is_portable(const SgemmKernel& k) { return std::string(k.name).find("portable") != std::string::npos; }

struct ConvCase {
  int batch, in_h, in_w, in_c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups;
};

Conv2dGeometry geometry_of(const ConvCase& c) {
  Conv2dGeometry g;
  g.batch = c.batch; g.in_h = c.in_h; g.in_w = c.in_w; g.in_c = c.in_c; g.out_c = c.out_c;
  g.kernel_h = c.kh; g.kernel_w = c.kw; g.stride_h = c.sh; g.stride_w = c.sw;
  g.dilation_h = c.dh; g.dilation_w = c.dw;
  g.pad_top = c.pt; g.pad_left = c.pl; g.pad_bottom = c.pb; g.pad_right = c.pr;
  g.groups = c.groups;
  return g;
}

std::string describe(const ConvCase& c) {
  return str_cat("N", c.batch, " ", c.in_h, "x", c.in_w, "x", c.in_c, "->", c.out_c, " k", c.kh,
                 "x", c.kw, " s", c.sh, "x", c.sw, " d", c.dh, "x", c.dw, " p", c.pt, ",", c.pl, ",",
                 c.pb, ",", c.pr, " g", c.groups);
}

// The geometries the direct kernels handle (phase_conv.h): 3 or 7 wide, column
// stride 2, no dilation, one group.
bool uses_phase_kernel(const ConvCase& c) {
  return (c.kw == 7 || (c.kw == 3 && c.in_c <= kPhaseMaxInChannels3)) && c.sw == 2 && c.dh == 1 && c.dw == 1 &&
         c.groups == 1;
}

// The direct kernel's own order of operations (phase_conv.h): per output
// pixel and channel, multiply-adds (fused, or multiply then add, as the kernel
// declares) over the (i, c) pairs, and within a pair the taps of the even
// columns j = 0, 2, .. then of the odd ones j = 1, 3, .., padding taps
// included (they add 0 * w); then + bias (+ 0 without one) and the clamp. A
// direct kernel must match it bit for bit.
std::vector<float> phase_order_ref(const Conv2dGeometry& g, const float* x, const float* w,
                                   const float* bias, FloatClamp clamp, bool fused) {
  const int oh_n = g.out_h(), ow_n = g.out_w();
  std::vector<float> y(static_cast<std::size_t>(g.batch) * oh_n * ow_n * g.out_c);
  for (int n = 0; n < g.batch; ++n)
    for (int oh = 0; oh < oh_n; ++oh)
      for (int ow = 0; ow < ow_n; ++ow)
        for (int o = 0; o < g.out_c; ++o) {
          float sum = 0.f;
          for (int i = 0; i < g.kernel_h; ++i)
            for (int c = 0; c < g.in_c; ++c)
              for (int t = 0; t < g.kernel_w; ++t) {
                const int j = 2 * t < g.kernel_w ? 2 * t : 2 * t - g.kernel_w;  // 0, 2, .., then 1, 3, ..
                const int ih = oh * g.stride_h - g.pad_top + i, iw = ow * g.stride_w - g.pad_left + j;
                const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
                const float xv =
                    inside ? x[((static_cast<std::size_t>(n) * g.in_h + ih) * g.in_w + iw) * g.in_c + c] : 0.f;
                const float wv = w[((static_cast<std::size_t>(o) * g.kernel_h + i) * g.kernel_w + j) * g.in_c + c];
                sum = fused ? std::fma(xv, wv, sum) : sum + xv * wv;
              }
          sum += bias != nullptr ? bias[o] : 0.f;
          y[((static_cast<std::size_t>(n) * oh_n + oh) * ow_n + ow) * g.out_c + o] =
              std::min(std::max(sum, clamp.lo), clamp.hi);
        }
  return y;
}

// Runs the layer with its slots split into `parts` calls, last part first
// (what any thread interleaving could do).
std::vector<float> run_conv(const FloatConv2d& conv, const std::vector<float>& x, std::size_t parts) {
  const Conv2dGeometry& g = conv.geometry();
  std::vector<float> y(static_cast<std::size_t>(g.batch) * g.out_h() * g.out_w() * g.out_c, NAN);
  std::vector<std::uint8_t> scratch(conv.scratch_bytes() + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64;
  const std::size_t n = conv.num_slots();
  for (std::size_t p = parts; p-- > 0;) conv.run_slots(p * n / parts, (p + 1) * n / parts, x.data(), y.data(), aligned);
  return y;
}

void check_conv_case(const ConvCase& c, FloatClamp clamp, bool with_bias, std::mt19937& rng) {
  const Conv2dGeometry g = geometry_of(c);
  const std::vector<float> x = random_floats(static_cast<std::size_t>(c.batch) * c.in_h * c.in_w * c.in_c, rng);
  const std::vector<float> w = random_floats(static_cast<std::size_t>(c.out_c) * c.kh * c.kw * (c.in_c / c.groups), rng);
  const std::vector<float> b = random_floats(c.out_c, rng);
  const float* bias = with_bias ? b.data() : nullptr;
  std::vector<float> ref(static_cast<std::size_t>(c.batch) * g.out_h() * g.out_w() * c.out_c);
  std::vector<float> magnitude(ref.size());
  conv2d_f32_ref(g, x.data(), w.data(), bias, clamp, ref.data());
  const std::vector<float> abs_b = abs_of(b);
  conv2d_f32_ref(g, abs_of(x).data(), abs_of(w).data(), with_bias ? abs_b.data() : nullptr,
                 FloatClamp{}, magnitude.data());

  // Compares a layer's output with the reference (bit-exact or within the
  // rounding bound of a K-term sum) and checks that any split of its slots over
  // calls (threads) gives identical bits.
  const auto check_layer = [&](const FloatConv2d& conv, bool exact) {
    const std::vector<float> y = run_conv(conv, x, 1);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const bool ok = exact ? y[i] == ref[i] : std::fabs(y[i] - ref[i]) <= 1e-5f * magnitude[i] + 1e-7f;
      if (!ok && bad++ < 3)
        irnet_test::report(__FILE__, __LINE__,
                           str_cat(conv.kernel_name(), " ", describe(c), " at ", i, ": ", y[i], " vs ref ", ref[i]));
    }
    CHECK_EQ(bad, std::size_t{0});
    CHECK(run_conv(conv, x, 3) == y);
    CHECK(run_conv(conv, x, conv.num_slots()) == y);
  };
  for (const SgemmKernel* kernel : supported_sgemm_kernels()) {
    const FloatConv2d conv(g, w.data(), bias, clamp, *kernel, im2col_sgemm());
    CHECK_EQ(std::string(conv.kernel_name()), std::string(kernel->name));
    check_layer(conv, is_portable(*kernel));
  }
  // Each direct column-phase kernel where it applies (im2col + sgemm elsewhere).
  for (const PhaseConvKernel* phase : direct_phase_kernels()) {
    const FloatConv2d conv(g, w.data(), bias, clamp, selected_sgemm_kernel(), *phase);
    if (!uses_phase_kernel(c)) {
      CHECK_EQ(std::string(conv.kernel_name()), std::string(selected_sgemm_kernel().name));
      continue;
    }
    const PhaseConvWidthKernel* of_width = phase->of_width(c.kw);
    CHECK(of_width != nullptr);
    if (of_width == nullptr) continue;
    CHECK_EQ(std::string(conv.kernel_name()), std::string(of_width->name));
    CHECK_EQ(std::string(of_width->name).rfind(str_cat("sconv_", c.kw, "x2_"), 0), std::size_t{0});
    check_layer(conv, false);
    const std::vector<float> y = run_conv(conv, x, 1);
    const std::vector<float> exact = phase_order_ref(g, x.data(), w.data(), bias, clamp, phase->fused);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!(y[i] == exact[i]) && bad++ < 3)
        irnet_test::report(__FILE__, __LINE__, str_cat(of_width->name, " ", describe(c), " at ", i, ": ", y[i],
                                                       " vs its order's reference ", exact[i]));
    CHECK_EQ(bad, std::size_t{0});
  }
}

}  // namespace

TEST(every_platform_has_a_portable_and_a_selected_sgemm_kernel) {
  const std::vector<const SgemmKernel*> kernels = supported_sgemm_kernels();
  CHECK(!kernels.empty());
  bool has_portable = false;
  for (const SgemmKernel* k : kernels) has_portable |= is_portable(*k);
  CHECK(has_portable);
  CHECK(selected_sgemm_kernel().micro == kernels.front()->micro);
}

TEST(forcing_an_sgemm_kernel_by_name_selects_it_for_new_layers) {
  for (const SgemmKernel* kernel : supported_sgemm_kernels()) {
    force_kernel("sgemm", kernel->name);
    CHECK_EQ(std::string(selected_sgemm_kernel().name), std::string(kernel->name));
    const std::vector<float> w(4 * 9 * 2, 0.5f);
    Conv2dGeometry g;
    g.in_h = g.in_w = 5;
    g.in_c = 2;
    g.out_c = 4;
    g.kernel_h = g.kernel_w = 3;
    CHECK_EQ(std::string(FloatConv2d(g, w.data(), nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv).kernel_name()), std::string(kernel->name));
  }
  CHECK_THROWS(force_kernel("sgemm", "sgemm_99x99_imaginary"), "sgemm_4x8_portable");
  force_kernel("sgemm", "auto");
  CHECK(selected_sgemm_kernel().micro == supported_sgemm_kernels().front()->micro);
}

TEST(sgemm_micro_kernels_match_reference_on_partial_tiles) {
  std::mt19937 rng(7);
  for (const SgemmKernel* kernel : supported_sgemm_kernels()) {
    const std::size_t mr = kernel->mr, nr = kernel->nr;
    // Padded K of 1, 2, 3 and many 4-k steps (the aarch64 8x8 loop starts a step ahead).
    for (std::size_t K : {1u, 3u, 5u, 9u, 64u, 147u}) {
      const std::vector<float> A = random_floats(mr * K, rng);      // [mr][K]
      const std::vector<float> W = random_floats(nr * K, rng);      // [nr][K]
      const std::vector<float> bias = random_floats(nr, rng);
      const std::size_t kp = kernel->padded_k(K);
      std::vector<float> a_panel(kp * mr, 0.f);
      for (std::size_t r = 0; r < mr; ++r)
        for (std::size_t k = 0; k < K; ++k) a_panel[kernel->a_index(r, k, kp)] = A[r * K + k];
      // NaN before packing: every float of the panel, zero padding included, must be written.
      std::vector<float> b_panel(kp * nr, std::numeric_limits<float>::quiet_NaN());
      sgemm_pack_b(W.data(), K, K, kp, nr, nr, b_panel.data());
      // Clamps: both bounds, none (kernels may skip a bound at infinity), relu.
      constexpr float kInf = std::numeric_limits<float>::infinity();
      const float bounds[][2] = {{-0.5f, 0.75f}, {-kInf, kInf}, {0.f, kInf}};
      for (const auto& [lo, hi] : bounds)
        for (std::size_t rows : {mr, mr - 1, std::size_t{1}})
          for (std::size_t cols : {nr, nr - 1, std::size_t{1}}) {
            const std::size_t ldc = nr + 3;
            std::vector<float> C(mr * ldc, 42.f), ref(mr * ldc, 42.f);
            kernel->micro(kp, a_panel.data(), b_panel.data(), bias.data(), lo, hi, C.data(), ldc, rows, cols);
            sgemm_ref(rows, cols, K, A.data(), K, W.data(), K, bias.data(), lo, hi, ref.data(), ldc);
            for (std::size_t i = 0; i < C.size(); ++i) {
              const bool ok = is_portable(*kernel) ? C[i] == ref[i] : std::fabs(C[i] - ref[i]) <= 1e-5f * K;
              if (!ok)
                irnet_test::report(__FILE__, __LINE__, str_cat(kernel->name, " K=", K, " rows=", rows, " cols=",
                                                               cols, " at ", i, ": ", C[i], " vs ", ref[i]));
            }
          }
    }
  }
}

TEST(conv_shape_matrix_all_kernels) {
  std::mt19937 rng(1);
  const FloatClamp none{}, relu{0.f}, clip{-1.f, 1.f};
  // batch, h, w, in_c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
  const ConvCase cases[] = {
      {1, 5, 6, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {1, 8, 8, 16, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {2, 7, 9, 64, 130, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},       // 1x1/2 downsample
      {1, 19, 21, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},       // ResNet stem
      {1, 6, 7, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 9, 8, 63, 65, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
      {2, 10, 11, 16, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},       // dilation 2
      {1, 7, 6, 65, 63, 3, 3, 1, 2, 1, 1, 0, 2, 3, 1, 1},        // asymmetric pads
      {1, 4, 5, 130, 64, 3, 2, 1, 1, 1, 2, 3, 0, 1, 2, 1},
      {1, 6, 6, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},        // groups
      {2, 5, 7, 16, 16, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 16},       // depthwise
      {1, 6, 5, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8},         // depthwise, multiplier 3
      {1, 1, 1, 512, 10, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},       // fc-like
      {1, 1, 1, 130, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},       // fc-like: column bands of B panels
      {3, 1, 1, 65, 33, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},        // fc-like, batch 3
      {1, 5, 4, 9, 12, 1, 1, 2, 1, 1, 1, 1, 0, 0, 2, 1},         // 1x1 with padding (not pointwise)
      {2, 3, 3, 8, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2},         // 1x1, groups, rows across images
      {1, 2, 2, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},          // tiny, all border
      {1, 3, 3, 4, 4, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1},          // output 1x1
      // Row-major im2col interior path: patches fully inside, kernel-row runs of
      // 147/8/16/7 floats (block copies with an overlapping last block, or scalar).
      {1, 15, 15, 3, 64, 7, 7, 2, 2, 1, 1, 0, 0, 0, 0, 1},       // stem, no padding
      {1, 12, 11, 4, 8, 3, 2, 1, 1, 2, 1, 1, 0, 2, 1, 1},        // dilation_h 2 only, run 8
      {1, 9, 10, 4, 17, 2, 4, 1, 2, 1, 1, 0, 1, 0, 0, 1},        // run 16
      {1, 8, 9, 1, 5, 3, 7, 1, 1, 3, 1, 0, 0, 0, 0, 1},          // run 7, dilation_h 3
  };
  for (const ConvCase& c : cases) {
    check_conv_case(c, none, true, rng);
    check_conv_case(c, relu, false, rng);
    check_conv_case(c, clip, true, rng);
  }
}

TEST(a_batch_1_gemm_is_split_over_output_channels) {
  // One row panel: without column bands its single slot would leave every
  // other thread idle. The shape matrix above checks that the split is exact.
  Conv2dGeometry g;
  g.in_h = g.in_w = 1;
  g.in_c = 512;
  g.out_c = 1000;
  const std::vector<float> w(static_cast<std::size_t>(g.in_c) * g.out_c, 0.25f);
  for (const SgemmKernel* kernel : supported_sgemm_kernels()) {
    const FloatConv2d conv(g, w.data(), nullptr, FloatClamp{}, *kernel, im2col_sgemm());
    CHECK(conv.num_slots() >= FloatConv2d::kMinSlots);
  }
}

TEST(phase_kernel_shape_matrix) {
  // 7-wide, column-stride-2 convs (the direct kernel where the build has one;
  // im2col + sgemm elsewhere, also checked): full and partial pixel tiles of
  // 16 (NEON), 24 (AVX2: its last tile of a row takes 1, 2 or 3 vectors of 8
  // pixels, each full or partial) and 48 (AVX-512: 1 to 3 vectors of 16, the
  // channels 8 at a time, the last 1 to 4 alone), partial channel tiles (out_c 1, 3, 5, 63, 65,
  // 130), channels 1/3/63/64/65, kernel heights 1/3/7, row strides 1/2/3,
  // asymmetric pads 0-3, inputs narrower than the kernel, batch 2; whole rows of
  // 16-pixel tiles and a last tile of 1 or 15 pixels; 1 to 6 and larger odd
  // and even numbers of (i, c) pairs (kernel_h * in_c). The direct kernel
  // must match the reference of its own order of operations bit for bit.
  std::mt19937 rng(3);
  const FloatClamp none{}, relu{0.f}, clip{-1.f, 1.f};
  // batch, h, w, in_c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
  const ConvCase cases[] = {
      {1, 40, 70, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},    // stem; out_w 35 = 16 + 16 + 3
      {2, 23, 37, 3, 5, 7, 7, 2, 2, 1, 1, 0, 1, 2, 3, 1},     // asymmetric pads, batch 2
      {1, 9, 13, 1, 1, 7, 7, 2, 2, 1, 1, 3, 0, 0, 3, 1},      // one channel in and out
      {1, 11, 49, 63, 65, 3, 7, 1, 2, 1, 1, 1, 2, 1, 0, 1},   // kernel 3x7, row stride 1
      {1, 8, 31, 64, 130, 1, 7, 3, 2, 1, 1, 0, 3, 2, 3, 1},   // kernel 1x7, row stride 3
      {1, 12, 20, 65, 3, 7, 7, 2, 2, 1, 1, 2, 2, 2, 2, 1},
      {1, 3, 2, 3, 63, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},      // input narrower than the kernel
      {2, 7, 7, 3, 4, 7, 7, 2, 2, 1, 1, 0, 0, 0, 0, 1},       // output 1x1
      {1, 5, 90, 2, 8, 5, 7, 1, 2, 1, 1, 1, 3, 1, 1, 1},      // out_w 45 = 24 + 21
      {1, 9, 96, 3, 12, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},     // out_w 48 = 2 * 24
      {1, 8, 80, 3, 8, 7, 7, 2, 2, 1, 1, 3, 3, 2, 3, 1},      // out_w 40 = 24 + 16
      {1, 7, 65, 3, 9, 7, 7, 2, 2, 1, 1, 1, 3, 1, 2, 1},      // out_w 32 = 24 + 8
      {1, 6, 23, 4, 4, 3, 7, 1, 2, 1, 1, 0, 1, 0, 2, 1},      // out_w 10 = 8 + 2
      {1, 9, 224, 3, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},   // stem rows, out_w 112 = 7 * 16
      {1, 7, 34, 4, 4, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},      // out_w 17 = 16 + 1, 4 channels
      {1, 6, 64, 64, 2, 3, 7, 1, 2, 1, 1, 1, 2, 1, 2, 1},     // out_w 31 = 16 + 15, 64 channels in
      {1, 5, 30, 2, 64, 2, 7, 2, 2, 1, 1, 0, 0, 1, 1, 1},     // out_w 13 < 16, 64 channels out
      {1, 4, 20, 1, 4, 1, 7, 1, 2, 1, 1, 0, 3, 0, 3, 1},      // one (i, c) pair per output pixel
      {1, 6, 21, 1, 5, 2, 7, 2, 2, 1, 1, 0, 2, 1, 2, 1},      // two pairs
      // The NEON loop starts pairs ahead: pairs 3, 4, 5, 6 (odd / even, 1 or 2
      // loop iterations after the first pair)
      {1, 6, 21, 1, 5, 3, 7, 1, 2, 1, 1, 0, 2, 1, 2, 1},      // three pairs
      {1, 5, 33, 2, 7, 2, 7, 2, 2, 1, 1, 1, 3, 0, 1, 1},      // four pairs
      {1, 7, 35, 1, 4, 5, 7, 1, 2, 1, 1, 2, 1, 2, 3, 1},      // five pairs
      {1, 6, 40, 2, 9, 3, 7, 2, 2, 1, 1, 1, 2, 1, 2, 1},      // six pairs
      {1, 7, 128, 3, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},     // out_w 64 = 48 + 16
      {1, 6, 125, 2, 5, 3, 7, 1, 2, 1, 1, 1, 2, 1, 1, 1},     // out_w 61 = 48 + 13
      {1, 5, 257, 3, 4, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},     // out_w 129 = 2 * 48 + 33
      {1, 7, 225, 3, 6, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},     // out_w 113 = 2 * 48 + 17
      {1, 5, 99, 3, 16, 7, 7, 2, 2, 1, 1, 2, 3, 2, 2, 1},     // out_w 49 = 48 + 1, 16 channels out
      {1, 6, 68, 2, 7, 3, 7, 1, 2, 1, 1, 1, 2, 0, 1, 1},      // out_w 33 = 2 * 16 + 1
  };
  for (const ConvCase& c : cases) {
    check_conv_case(c, none, true, rng);
    check_conv_case(c, relu, false, rng);
    check_conv_case(c, clip, true, rng);
  }
}

TEST(phase_kernel_3_wide_shape_matrix) {
  // 3-wide, column-stride-2 convs (ReActNet's stem, 3x3/2 over 3 channels),
  // as above: whole rows of tiles (out_w 112 = 7 x 16 = 4 x 24 + 16 = 14 x 8
  // = 2 x 48 + 16) and last tiles of 1 to 47 pixels, odd and even input widths with every
  // left / right padding 0-2 (the last tap of a row in the padding, inside the
  // row, or past a padding the output does not reach), outputs of one pixel,
  // partial channel tiles, kernel heights 1-5, row strides 1-3, 1 to 6 and
  // more (i, c) pairs, batch 2 (random geometries: phase_kernel_random_shapes).
  std::mt19937 rng(11);
  const FloatClamp none{}, relu{0.f}, clip{-1.f, 1.f};
  // batch, h, w, in_c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
  const std::vector<ConvCase> cases = {
      {1, 9, 224, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},    // stem rows, out_w 112, right padding unread
      {1, 8, 223, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},    // odd width: out_w 112, last tap in the padding
      {2, 11, 37, 3, 5, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1},     // no padding, out_w 18 = 16 + 2, batch 2
      {1, 7, 34, 3, 7, 3, 3, 2, 2, 1, 1, 1, 2, 0, 1, 1},      // pads 2 left, 1 right: out_w 18
      {1, 6, 33, 3, 9, 3, 3, 1, 2, 1, 1, 2, 0, 1, 2, 1},      // pads 0 left, 2 right: out_w 17 = 16 + 1
      {1, 5, 3, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},       // out_w 2
      {1, 3, 1, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},       // one input column: out_w 1, all but one tap padding
      {2, 3, 3, 3, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1},       // output 1x1
      {1, 5, 95, 2, 8, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1},      // out_w 48 = 2 x 24 = 3 x 16
      {1, 4, 80, 3, 12, 3, 3, 2, 2, 1, 1, 1, 1, 2, 0, 1},     // out_w 40 = 24 + 16
      {1, 4, 63, 3, 1, 3, 3, 2, 2, 1, 1, 1, 0, 1, 2, 1},      // out_w 32 = 24 + 8 = 2 x 16, one channel out
      {1, 6, 61, 64, 65, 3, 3, 2, 2, 1, 1, 1, 2, 1, 2, 1},    // out_w 32, 64 channels in, 65 out
      {1, 4, 47, 1, 130, 1, 3, 3, 2, 1, 1, 0, 1, 2, 1, 1},    // kernel 1x3: one pair; out_w 24
      {1, 6, 45, 1, 5, 2, 3, 2, 2, 1, 1, 0, 0, 1, 2, 1},      // two pairs, out_w 23
      {1, 6, 31, 1, 3, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1},      // three pairs, out_w 16 (a partial AVX2 tile)
      {1, 5, 29, 2, 6, 2, 3, 1, 2, 1, 1, 0, 2, 1, 0, 1},      // four pairs
      {1, 7, 27, 1, 4, 5, 3, 3, 2, 1, 1, 2, 1, 2, 1, 1},      // five pairs, out_w 14
      {1, 6, 50, 2, 9, 3, 3, 2, 2, 1, 1, 1, 2, 1, 2, 1},      // six pairs, out_w 26 = 24 + 2 = 16 + 10
      // AVX-512: rows of 48-pixel tiles, 8 channels a pass and the last 1 to 4 alone
      {1, 4, 128, 3, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // out_w 64 = 48 + 16, one pass of 8 channels
      {1, 5, 97, 3, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // out_w 49 = 48 + 1, 13 = 8 + 5 channels
      {1, 4, 121, 3, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // out_w 61 = 48 + 13, 9 = 8 + 1 channels
      {1, 4, 225, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},     // out_w 113 = 2 x 48 + 17, one tile of 4
  };
  for (const ConvCase& c : cases) {
    check_conv_case(c, none, true, rng);
    check_conv_case(c, relu, false, rng);
    check_conv_case(c, clip, true, rng);
  }
}

TEST(phase_conv_variants_name_their_kernels_by_width) {
  // Every direct variant "phase_conv_<tile>_<isa>" has a kernel of each width,
  // "sconv_<width>x2_<tile>_<isa>" (what layers report: test_kernel_variants).
  const std::string prefix = "phase_conv_";
  for (const PhaseConvKernel* phase : supported_kernels<PhaseConvKernel>()) {
    if (phase->split == nullptr) continue;  // im2col_sgemm
    const std::string name = phase->name;
    CHECK_EQ(name.rfind(prefix, 0), std::size_t{0});
    for (int kw : kPhaseKernelWidths) {
      const PhaseConvWidthKernel* of_width = phase->of_width(kw);
      CHECK(of_width != nullptr);
      if (of_width != nullptr)
        CHECK_EQ(std::string(of_width->name), str_cat("sconv_", kw, "x2_", name.substr(prefix.size())));
    }
  }
}

TEST(phase_kernel_random_shapes) {
  // Random column-stride-2 geometries of each kernel width: output widths
  // 1..140 (every tile count and partial last tile of 8, 16, 24 and 48
  // pixels), 1..9 input and 1..70 output channels, kernel heights 1..7, row
  // strides 1..3, pads 0..min(3, width - 1), batch 1..2. Each direct kernel
  // against its order's reference, exactly.
  std::mt19937 rng(11);
  const auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1)); };
  const FloatClamp clamps[] = {FloatClamp{}, FloatClamp{0.f}, FloatClamp{-1.f, 1.f}};
  for (int kw : kPhaseKernelWidths)
    for (int round = 0; round < 40; ++round) {
      ConvCase c{};
      c.batch = pick(1, 2);
      c.in_c = pick(1, 9);
      c.out_c = pick(1, 70);
      c.kh = pick(1, 7);
      c.kw = kw;
      c.sh = pick(1, 3);
      c.sw = kPhaseStrideW;
      c.dh = c.dw = c.groups = 1;
      const int max_pad = std::min(3, kw - 1);
      c.pt = pick(0, max_pad), c.pl = pick(0, max_pad), c.pb = pick(0, max_pad), c.pr = pick(0, max_pad);
      const int out_w = pick(1, 140);
      c.in_w = std::max(1, 2 * (out_w - 1) + kw - c.pl - c.pr + pick(0, 1));
      c.in_h = std::max(1, c.kh - c.pt - c.pb + pick(0, 6));
      check_conv_case(c, clamps[round % 3], round % 2 == 0, rng);
    }
}

TEST(phase_kernel_gives_way_to_im2col_when_its_planes_exceed_the_scratch_budget) {
  // 7x7/2 over 512 channels: 8 bands of 13 plane rows x 512 channels x 2 x 35
  // floats = 14.9 MB of planes, over kScratchBudget (8 MB).
  const ConvCase c = {1, 64, 64, 512, 4, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1};
  const std::vector<float> w(static_cast<std::size_t>(c.out_c) * c.kh * c.kw * c.in_c, 0.5f);
  const FloatConv2d conv(geometry_of(c), w.data(), nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv);
  CHECK_EQ(std::string(conv.kernel_name()), std::string(selected_sgemm_kernel().name));
}

TEST(nan_inputs_come_out_nan_on_every_kernel) {
  // x86 max/min return their second operand when either is NaN, so an
  // epilogue written max(sum, lo) turns a NaN sum into lo (-inf without
  // activation, 0 with relu); the bound goes first. Every kernel must give NaN
  // exactly where the reference does, with each clamp: an all-NaN image, and
  // one NaN pixel among ordinary ones.
  std::mt19937 rng(9);
  const FloatClamp clamps[] = {FloatClamp{}, FloatClamp{0.f}, FloatClamp{-1.f, 1.f}};
  // batch, h, w, in_c, out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
  const ConvCase cases[] = {
      {1, 9, 13, 3, 20, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},  // the direct kernel's geometry
      {2, 5, 6, 8, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {3, 1, 1, 40, 17, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},  // Gemm-like
  };
  for (const ConvCase& c : cases)
    for (const FloatClamp& clamp : clamps)
      for (bool all_nan : {true, false}) {
        const Conv2dGeometry g = geometry_of(c);
        std::vector<float> x = random_floats(static_cast<std::size_t>(c.batch) * c.in_h * c.in_w * c.in_c, rng);
        if (all_nan) std::fill(x.begin(), x.end(), NAN);
        else x[x.size() / 2] = NAN;
        const std::vector<float> w = random_floats(static_cast<std::size_t>(c.out_c) * c.kh * c.kw * c.in_c, rng);
        const std::vector<float> b = random_floats(c.out_c, rng);
        std::vector<float> ref(static_cast<std::size_t>(c.batch) * g.out_h() * g.out_w() * c.out_c);
        conv2d_f32_ref(g, x.data(), w.data(), b.data(), clamp, ref.data());
        const std::size_t ref_nans = static_cast<std::size_t>(std::count_if(ref.begin(), ref.end(), [](float v) { return std::isnan(v); }));
        CHECK(ref_nans > 0);
        const auto check_nans = [&](const FloatConv2d& conv) {
          const std::vector<float> y = run_conv(conv, x, 1);
          std::size_t bad = 0;
          for (std::size_t i = 0; i < y.size(); ++i)
            if (std::isnan(y[i]) != std::isnan(ref[i]) && bad++ < 3)
              irnet_test::report(__FILE__, __LINE__, str_cat(conv.kernel_name(), " ", describe(c), " clamp [", clamp.lo,
                                                             ", ", clamp.hi, "] at ", i, ": ", y[i], " vs ref ", ref[i]));
        };
        for (const SgemmKernel* kernel : supported_sgemm_kernels())
          check_nans(FloatConv2d(g, w.data(), b.data(), clamp, *kernel, im2col_sgemm()));
        for (const PhaseConvKernel* phase : direct_phase_kernels())  // each direct kernel where it applies
          check_nans(FloatConv2d(g, w.data(), b.data(), clamp, selected_sgemm_kernel(), *phase));
      }
}

TEST(phase_plan_whose_size_overflows_64_bits_is_not_taken) {
  // Kernel 1x7, strides 1864863098 x 2, 65,536 channels,
  // batch 8, output 2 x 18850. The direct kernel's planes would need
  // 8 slots x 1864863099 rows x 65536 x 2 x plane_w x 4 bytes (1.5e20 on AVX2),
  // a product that wraps to 4 MiB in 64-bit arithmetic: unchecked, it passes
  // the budget and run() writes past the arena. Checked, the plan takes
  // im2col, whose scratch is a few panels.
  const int stride_h = 1864863098, out_w = 18850;
  const ConvCase c = {8, 1, 1, 65536, 1, 1, 7, stride_h, 2, 1, 1, 0, 0, stride_h, 2 * (out_w - 1) + 6, 1};
  const Conv2dGeometry g = geometry_of(c);
  CHECK_EQ(g.out_h(), 2);
  CHECK_EQ(g.out_w(), out_w);
  const std::vector<float> w(static_cast<std::size_t>(7) * 65536, 0.5f);
  const FloatConv2d conv(g, w.data(), nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv);
  const SgemmKernel& k = selected_sgemm_kernel();
  CHECK_EQ(std::string(conv.kernel_name()), std::string(k.name));
  const std::size_t panel_bytes = (k.padded_k(7 * 65536) * k.mr * sizeof(float) + 63) / 64 * 64;
  CHECK_EQ(conv.scratch_bytes(), FloatConv2d::kMinSlots * panel_bytes);
}

TEST(phase_split_matches_the_plain_loop) {
  // The kernel's row splitter (NEON bulk for 3 channels) against the plain
  // loop: widths around the 4-column blocks, pads 0-3 (and 5), padding rows,
  // planes shorter and longer than the row, of 1 block, of whole blocks and
  // ending inside a block; the stem's rows (224 pixels, planes of 115).
  std::mt19937 rng(5);
  for (const PhaseConvKernel* phase : direct_phase_kernels())
    for (int channels : {1, 3, 4})
      for (int in_w : {1, 2, 7, 8, 9, 10, 17, 24, 41, 64, 224})
        for (int pad_left : {0, 1, 2, 3, 5})
          for (std::size_t plane_w : {1, 4, 6, 8, 19, 27, 35, 115})
            for (bool padding_row : {false, true}) {
              const std::vector<float> row = random_floats(static_cast<std::size_t>(in_w) * channels, rng);
              const float* src = padding_row ? nullptr : row.data();
              std::vector<float> fast(2 * channels * plane_w, NAN), plain(fast.size(), NAN);
              phase->split(src, in_w, channels, pad_left, plane_w, fast.data());
              split_phase_columns(src, in_w, channels, pad_left, plane_w, 0, plane_w, plain.data());
              if (fast != plain)
                irnet_test::report(__FILE__, __LINE__, str_cat(phase->name, " split C=", channels, " w=", in_w,
                                                               " pad ", pad_left, " plane_w ", plane_w));
            }
}

TEST(conv_rejects_bad_parameters) {
  std::vector<float> w(64 * 27, 0.f);
  Conv2dGeometry g = geometry_of({1, 8, 8, 3, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  CHECK_THROWS(FloatConv2d(g, nullptr, nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv), "weights");
  CHECK_THROWS(FloatConv2d(g, w.data(), nullptr, FloatClamp{1.f, -1.f}, selected_sgemm_kernel(), *selected_kernels().phase_conv), "clamp range");
  Conv2dGeometry bad = g;
  bad.groups = 2;  // 3 input channels do not split into 2 groups
  CHECK_THROWS(FloatConv2d(bad, w.data(), nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv), "group");
  bad = g;
  bad.stride_h = 0;
  CHECK_THROWS(FloatConv2d(bad, w.data(), nullptr, FloatClamp{}, selected_sgemm_kernel(), *selected_kernels().phase_conv), "stride");
}

int main() { return irnet_test::run_all(); }
