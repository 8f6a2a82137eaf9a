// Every variant of every kernel family, forced in turn, on one model that
// uses them all: a 7x7/2 float stem and, as a second output, a 3x3/2 one
// (sgemm or the direct phase_conv kernel of each width),
// MaxPool, SignPack (bitpack), three BinaryConv2d (bgemm with its packed
// weights; the epilogue's float+bits, threshold-bits and residual+clip rows),
// AveragePool, and the file checksum (crc32). The model's outputs must be
// bit-identical to the automatic choice's, and the model must report the
// forced variant. The stems' inputs and weights are small multiples of 1/2,
// so their sums are exact in any order, fused or not: every variant of every
// family computes the very same bits.
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bit_testing.h"
#include "check.h"
#include "irb_test_writer.h"
#include "irnet/kernels.h"
#include "irnet/model.h"

using irnet_test::IrbTestWriter;
using irnet_test::ints_attr;
using irnet_test::floats_attr;
using irnet_test::str_attr;

namespace {

constexpr int kF32 = 1, kI32 = 2, kBits = 3;
constexpr int kNhwc = 1;

std::vector<irnet::BitWord> random_bits(std::mt19937& rng, std::size_t rows, std::size_t channels) {
  std::vector<irnet::BitWord> w(rows * irnet::packed_words(channels));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < irnet::packed_words(channels); ++i) {
      irnet::BitWord v = (irnet::BitWord{rng()} << 32) | rng();
      const std::size_t valid = channels - i * 64;
      if (valid < 64) v &= (irnet::BitWord{1} << valid) - 1;
      w[r * irnet::packed_words(channels) + i] = v;
    }
  return w;
}

// Keeps the constants alive while the file is written.
struct Constants {
  std::vector<float> stem_w, stem_b, stem3_w, stem3_b;
  std::vector<irnet::BitWord> w1, w2, w3;
  std::vector<std::int32_t> shift1, shift2, shift3;
  std::vector<float> scale1, bias1, scale2, bias2, scale3, bias3;
};

std::string write_model(Constants& k) {
  std::mt19937 rng(17);
  const auto halves = [&](int lo, int hi) { return static_cast<float>(static_cast<int>(rng() % (hi - lo + 1)) + lo) * 0.5f; };
  k.stem_w.resize(16 * 7 * 7 * 3);
  for (float& v : k.stem_w) v = halves(-2, 2);
  k.stem_b.resize(16);
  for (float& v : k.stem_b) v = halves(-4, 4);
  k.stem3_w.resize(8 * 3 * 3 * 3);
  for (float& v : k.stem3_w) v = halves(-2, 2);
  k.stem3_b.resize(8);
  for (float& v : k.stem3_b) v = halves(-4, 4);
  k.w1 = random_bits(rng, 64 * 9, 16);
  k.w2 = random_bits(rng, 72 * 9, 64);
  k.w3 = random_bits(rng, 64, 72);
  const auto epilogue = [&](int n, std::vector<std::int32_t>& shift, std::vector<float>& scale, std::vector<float>& bias) {
    for (int o = 0; o < n; ++o) {
      shift.push_back(static_cast<std::int32_t>(rng() % 3));
      scale.push_back((rng() % 5 == 0 ? -1.f : 1.f) * (0.25f + static_cast<float>(rng() % 100) / 64.f));
      bias.push_back(static_cast<float>(static_cast<int>(rng() % 200) - 100) / 37.f);
    }
  };
  epilogue(64, k.shift1, k.scale1, k.bias1);
  epilogue(72, k.shift2, k.scale2, k.bias2);
  epilogue(64, k.shift3, k.scale3, k.bias3);

  IrbTestWriter w;
  const auto f32 = [&](const std::string& name, const std::vector<float>& v, std::vector<std::uint64_t> dims) {
    return w.constant(name, kF32, std::move(dims), v.data(), v.size() * 4);
  };
  const auto i32 = [&](const std::string& name, const std::vector<std::int32_t>& v) {
    return w.constant(name, kI32, {v.size()}, v.data(), v.size() * 4);
  };
  const auto bits = [&](const std::string& name, const std::vector<irnet::BitWord>& v, std::vector<std::uint64_t> dims) {
    return w.constant(name, kBits, std::move(dims), v.data(), v.size() * 8);
  };
  const auto x = w.tensor("x", kF32, {1, 40, 40, 3}, kNhwc);
  const auto stem = w.tensor("stem", kF32, {1, 20, 20, 16}, kNhwc);
  const auto pool = w.tensor("pool", kF32, {1, 10, 10, 16}, kNhwc);
  const auto pool_bits = w.tensor("pool_bits", kBits, {1, 10, 10, 16}, kNhwc);
  const auto y1 = w.tensor("y1", kF32, {1, 10, 10, 64}, kNhwc);
  const auto y1_bits = w.tensor("y1_bits", kBits, {1, 10, 10, 64}, kNhwc);
  const auto y2_bits = w.tensor("y2_bits", kBits, {1, 10, 10, 72}, kNhwc);
  const auto y3 = w.tensor("y3", kF32, {1, 10, 10, 64}, kNhwc);
  const auto out = w.tensor("out", kF32, {1, 5, 5, 64}, kNhwc);
  const auto stem3 = w.tensor("stem3", kF32, {1, 20, 20, 8}, kNhwc);
  w.node("Conv2d", "stem", {x, f32("stem_w", k.stem_w, {16, 7, 7, 3}), f32("stem_b", k.stem_b, {16})}, {stem},
         {ints_attr("kernel", {7, 7}), ints_attr("strides", {2, 2}), ints_attr("pads", {3, 3, 3, 3}),
          str_attr("act", "relu")});
  w.node("MaxPool", "maxpool", {stem}, {pool},
         {ints_attr("kernel", {3, 3}), ints_attr("strides", {2, 2}), ints_attr("pads", {1, 1, 1, 1})});
  w.node("SignPack", "sign", {pool}, {pool_bits});
  const std::vector<irnet_test::TestAttr> conv3x3 = {ints_attr("kernel", {3, 3}), ints_attr("pads", {1, 1, 1, 1})};
  auto with_mode = [](std::vector<irnet_test::TestAttr> attrs, const std::string& mode) {
    attrs.push_back(str_attr("mode", mode));
    return attrs;
  };
  w.node("BinaryConv2d", "bconv1",
         {pool_bits, bits("w1", k.w1, {64, 3, 3, 16}), i32("shift1", k.shift1), f32("scale1", k.scale1, {64}),
          f32("bias1", k.bias1, {64})},
         {y1, y1_bits}, with_mode(conv3x3, "float+bits"));
  w.node("BinaryConv2d", "bconv2",
         {y1_bits, bits("w2", k.w2, {72, 3, 3, 64}), i32("shift2", k.shift2), f32("scale2", k.scale2, {72}),
          f32("bias2", k.bias2, {72})},
         {y2_bits}, with_mode(conv3x3, "bits"));
  std::vector<irnet_test::TestAttr> conv1x1 = {ints_attr("kernel", {1, 1}), floats_attr("clip", {-1.f, 1.5f})};
  w.node("BinaryConv2d", "bconv3",
         {y2_bits, bits("w3", k.w3, {64, 1, 1, 72}), i32("shift3", k.shift3), f32("scale3", k.scale3, {64}),
          f32("bias3", k.bias3, {64}), y1},
         {y3}, with_mode(conv1x1, "float"));
  w.node("AveragePool", "avgpool", {y3}, {out}, {ints_attr("kernel", {2, 2}), ints_attr("strides", {2, 2})});
  w.node("Conv2d", "stem3", {x, f32("stem3_w", k.stem3_w, {8, 3, 3, 3}), f32("stem3_b", k.stem3_b, {8})},
         {stem3}, {ints_attr("kernel", {3, 3}), ints_attr("strides", {2, 2}), ints_attr("pads", {1, 1, 1, 1})});
  w.io({x}, {out, stem3});
  const std::string path = "test_kernel_variants.irb";
  IrbTestWriter::save(w.build(), path);
  return path;
}

// Both outputs, one after the other.
std::vector<float> run(const std::string& path, const std::vector<float>& x) {
  const irnet::Model model = irnet::Model::load(path, 2);
  const std::size_t n0 = model.outputs()[0].element_count();
  std::vector<float> y(n0 + model.outputs()[1].element_count());
  model.run({{x.data(), model.inputs()[0].shape}}, {y.data(), y.data() + n0});
  return y;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(every_variant_of_every_family_gives_identical_outputs) {
  Constants constants;
  const std::string path = write_model(constants);
  std::mt19937 rng(5);
  std::vector<float> x(3 * 40 * 40);
  for (float& v : x) v = static_cast<float>(static_cast<int>(rng() % 5) - 2);
  const std::vector<float> expected = run(path, x);
  int forced = 0;
  for (const std::string& family : irnet::kernel_families())
    for (const std::string& variant : irnet_test::supported_variants(family)) {
      irnet_test::ForcedKernel force(family, variant);
      const irnet::ModelSummary summary = irnet::Model::load(path, 1).summary();
      bool reported = false;
      for (const auto& [f, v] : summary.kernels) reported |= f == family && v == variant;
      CHECK(reported);
      if (!same_bits(run(path, x), expected))
        CHECK_EQ(family + "=" + variant, std::string("the automatic choice's outputs"));
      ++forced;
    }
  CHECK(forced > static_cast<int>(irnet::kernel_families().size()));  // some family has several variants
}

TEST(layers_report_the_kernels_they_run) {
  Constants constants;
  const std::string path = write_model(constants);
  const irnet::ModelSummary summary = irnet::Model::load(path, 1).summary();
  const auto kernel_of = [&](const std::string& layer) {
    for (const irnet::LayerInfo& l : summary.layers)
      if (l.name == layer) return l.kernel;
    return std::string("missing");
  };
  CHECK_EQ(kernel_of("sign"), irnet::selected_kernel("bitpack"));
  CHECK_EQ(kernel_of("maxpool"), irnet::selected_kernel("pool"));
  CHECK_EQ(kernel_of("avgpool"), irnet::selected_kernel("pool"));
  CHECK_EQ(kernel_of("bconv1").rfind(irnet::selected_kernel("bgemm") + "+bconv_epilogue_", 0), std::size_t(0));
  // A phase_conv variant "phase_conv_<tile>_<isa>" runs the 7x7/2 stem on its
  // kernel "sconv_7x2_<tile>_<isa>", the 3x3/2 one on "sconv_3x2_<tile>_<isa>".
  const std::string phase = irnet::selected_kernel("phase_conv");
  const std::string prefix = "phase_conv_";
  for (const auto& [layer, width] : {std::pair<std::string, std::string>{"stem", "7"}, {"stem3", "3"}})
    CHECK_EQ(kernel_of(layer), phase == "im2col_sgemm" ? irnet::selected_kernel("sgemm")
                                                       : "sconv_" + width + "x2_" + phase.substr(prefix.size()));
  const std::string text = summary.to_string();
  for (const std::string& family : irnet::kernel_families())
    CHECK(text.find(family + "=" + irnet::selected_kernel(family)) != std::string::npos);
}

int main() { return irnet_test::run_all(); }
