// Graph building, execution and the Model API: graph-level validation (ops,
// definition order, shapes chaining), exact results against the references
// (pack_signs_ref + bconv2d_ref), thread-count independence, memory plan.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <random>
#include <vector>

#include "bconv/bconv2d.h"
#include "bitpack/bitpack.h"
#include "check.h"
#include "graph/boundary_layout.h"
#include "graph/memory_plan.h"
#include "irb_test_writer.h"
#include "irnet/model.h"

using irnet_test::IrbTestWriter;
using irnet_test::floats_attr;
using irnet_test::ints_attr;
using irnet_test::str_attr;

namespace {

constexpr int kF32 = 1, kI32 = 2, kBits = 3;

std::string save(IrbTestWriter& w, const std::string& name) {
  const std::string path = "test_graph_" + name + ".irb";
  IrbTestWriter::save(w.build(), path);
  return path;
}

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<irnet::BitWord> random_bits(std::size_t rows, std::size_t channels, std::uint32_t seed) {
  const std::vector<float> f = random_floats(rows * channels, seed);
  std::vector<irnet::BitWord> bits(rows * irnet::packed_words(channels));
  irnet::pack_signs_ref(f.data(), rows, channels, bits.data());
  return bits;
}

// One binary conv layer: input f32 NHWC (shown NCHW) -> SignPack -> BinaryConv2d -> f32 out.
struct ConvCase {
  irnet::Conv2dGeometry g;
  irnet::PadValue pad = irnet::PadValue::kZero;
  bool clip = true;
};

struct ConvModel {
  std::string path;
  std::vector<irnet::BitWord> weights;
  std::vector<std::int32_t> shift;
  std::vector<float> scale, bias;
};

ConvModel write_conv_model(const ConvCase& c, const std::string& name) {
  const irnet::Conv2dGeometry& g = c.g;
  ConvModel m;
  const std::size_t cin_g = static_cast<std::size_t>(g.in_c_per_group());
  m.weights = random_bits(static_cast<std::size_t>(g.out_c * g.kernel_h * g.kernel_w), cin_g, 11);
  std::mt19937 rng(3);
  for (int o = 0; o < g.out_c; ++o) {
    m.shift.push_back(static_cast<std::int32_t>(rng() % 3));
    m.scale.push_back((rng() % 5 == 0 ? -1.f : 1.f) * (0.25f + static_cast<float>(rng() % 100) / 100.f));
    m.bias.push_back(static_cast<float>(static_cast<int>(rng() % 200) - 100) / 37.f);
  }
  IrbTestWriter w;
  const auto u = [](int v) { return static_cast<std::uint64_t>(v); };
  const auto x = w.tensor("x", kF32, {u(g.batch), u(g.in_h), u(g.in_w), u(g.in_c)}, 1);
  const auto xb = w.tensor("xb", kBits, {u(g.batch), u(g.in_h), u(g.in_w), u(g.in_c)}, 1);
  const auto k = w.constant("w", kBits, {u(g.out_c), u(g.kernel_h), u(g.kernel_w), cin_g}, m.weights.data(),
                            m.weights.size() * 8);
  const auto s = w.constant("shift", kI32, {u(g.out_c)}, m.shift.data(), m.shift.size() * 4);
  const auto a = w.constant("scale", kF32, {u(g.out_c)}, m.scale.data(), m.scale.size() * 4);
  const auto b = w.constant("bias", kF32, {u(g.out_c)}, m.bias.data(), m.bias.size() * 4);
  const auto y = w.tensor("y", kF32, {u(g.batch), u(g.out_h()), u(g.out_w()), u(g.out_c)}, 1);
  w.node("SignPack", "sign", {x}, {xb});
  std::vector<irnet_test::TestAttr> attrs = {
      ints_attr("kernel", {g.kernel_h, g.kernel_w}), ints_attr("strides", {g.stride_h, g.stride_w}),
      ints_attr("dilations", {g.dilation_h, g.dilation_w}),
      ints_attr("pads", {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}), ints_attr("groups", {g.groups}),
      ints_attr("pad_value", {static_cast<int>(c.pad)}), str_attr("mode", "float")};
  if (c.clip) attrs.push_back(floats_attr("clip", {-0.75f, 2.5f}));
  w.node("BinaryConv2d", "conv", {xb, k, s, a, b}, {y}, attrs);
  w.io({x}, {y});
  m.path = save(w, name);
  return m;
}

// NCHW user input -> reference NCHW output, through pack_signs_ref and bconv2d_ref.
std::vector<float> reference_conv(const ConvCase& c, const ConvModel& m, const std::vector<float>& x_nchw) {
  const irnet::Conv2dGeometry& g = c.g;
  const std::size_t n = g.batch, h = g.in_h, wd = g.in_w, ch = g.in_c;
  std::vector<float> nhwc(x_nchw.size());
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < wd; ++x)
        for (std::size_t k = 0; k < ch; ++k)
          nhwc[((b * h + y) * wd + x) * ch + k] = x_nchw[((b * ch + k) * h + y) * wd + x];
  std::vector<irnet::BitWord> bits(n * h * wd * irnet::packed_words(ch));
  irnet::pack_signs_ref(nhwc.data(), n * h * wd, ch, bits.data());
  irnet::BConv2dOutput out;
  out.mode = irnet::BConv2dOutput::kFloat;
  out.shift = m.shift;
  out.scale = m.scale;
  out.bias = m.bias;
  out.has_clamp = c.clip;
  out.clamp_lo = -0.75f;
  out.clamp_hi = 2.5f;
  const std::size_t oh = g.out_h(), ow = g.out_w(), oc = g.out_c;
  std::vector<float> y_nhwc(n * oh * ow * oc);
  irnet::bconv2d_ref(g, c.pad, out, bits.data(), m.weights.data(), nullptr, nullptr, y_nhwc.data(), nullptr);
  std::vector<float> y(y_nhwc.size());
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t k = 0; k < oc; ++k)
      for (std::size_t yy = 0; yy < oh; ++yy)
        for (std::size_t xx = 0; xx < ow; ++xx)
          y[((b * oc + k) * oh + yy) * ow + xx] = y_nhwc[((b * oh + yy) * ow + xx) * oc + k];
  return y;
}

irnet::Conv2dGeometry geometry(int n, int h, int w, int c, int oc, int k, int stride, int dil,
                               std::vector<int> pads, int groups = 1) {
  irnet::Conv2dGeometry g;
  g.batch = n; g.in_h = h; g.in_w = w; g.in_c = c; g.out_c = oc;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.dilation_h = g.dilation_w = dil;
  g.pad_top = pads[0]; g.pad_left = pads[1]; g.pad_bottom = pads[2]; g.pad_right = pads[3];
  g.groups = groups;
  return g;
}

std::vector<float> run(const irnet::Model& m, const std::vector<float>& x) {
  std::vector<float> y(m.outputs()[0].element_count());
  m.run({{x.data(), m.inputs()[0].shape}}, {y.data()});
  return y;
}

}  // namespace

TEST(binary_conv_model_matches_reference_exactly) {
  const std::vector<ConvCase> cases = {
      {geometry(1, 6, 7, 64, 16, 3, 1, 1, {1, 1, 1, 1}), irnet::PadValue::kZero, true},
      {geometry(2, 9, 8, 70, 9, 3, 2, 1, {1, 0, 2, 1}), irnet::PadValue::kZero, true},
      {geometry(1, 9, 9, 130, 5, 3, 1, 2, {2, 2, 2, 2}), irnet::PadValue::kMinusOne, false},
      {geometry(1, 5, 5, 3, 65, 3, 1, 1, {3, 0, 0, 3}), irnet::PadValue::kPlusOne, true},
      {geometry(1, 4, 4, 32, 8, 1, 1, 1, {0, 0, 0, 0}, 2), irnet::PadValue::kZero, false},
      {geometry(1, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}), irnet::PadValue::kZero, true},
  };
  int idx = 0;
  for (const ConvCase& c : cases) {
    const ConvModel m = write_conv_model(c, "conv" + std::to_string(idx));
    const std::vector<float> x = random_floats(static_cast<std::size_t>(c.g.batch) * c.g.in_c * c.g.in_h * c.g.in_w,
                                               100 + static_cast<std::uint32_t>(idx));
    const std::vector<float> ref = reference_conv(c, m, x);
    for (int threads : {1, 2, 3}) {
      const irnet::Model model = irnet::Model::load(m.path, threads);
      CHECK(model.inputs()[0].shape ==
            std::vector<std::int64_t>({c.g.batch, c.g.in_c, c.g.in_h, c.g.in_w}));  // NCHW
      const std::vector<float> y = run(model, x);
      CHECK_EQ(y.size(), ref.size());
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < y.size(); ++i) mismatches += std::memcmp(&y[i], &ref[i], 4) != 0;
      if (mismatches) std::fprintf(stderr, "case %d threads %d: %zu mismatches\n", idx, threads, mismatches);
      CHECK_EQ(mismatches, 0u);
    }
    std::remove(m.path.c_str());
    ++idx;
  }
}

TEST(run_checks_arguments) {
  const ConvCase c{geometry(1, 4, 4, 8, 4, 3, 1, 1, {1, 1, 1, 1}), irnet::PadValue::kZero, true};
  const ConvModel m = write_conv_model(c, "args");
  const irnet::Model model = irnet::Model::load(m.path, 1);
  std::vector<float> x(model.inputs()[0].element_count()), y(model.outputs()[0].element_count());
  CHECK_THROWS(model.run({{x.data(), {1, 4, 4, 8}}}, {y.data()}),
               "input 0 'x' must have shape [1, 8, 4, 4], got [1, 4, 4, 8]");
  CHECK_THROWS(model.run({}, {y.data()}), "the model has 1 inputs, run() got 0");
  CHECK_THROWS(model.run({{x.data(), {1, 8, 4, 4}}}, {}), "the model has 1 outputs, run() got 0");
  CHECK_THROWS(model.run({{nullptr, {1, 8, 4, 4}}}, {y.data()}), "input 0 'x' is null");
  CHECK_THROWS(model.run({{x.data(), {1, 8, 4, 4}}}, {nullptr}), "output buffer 0 'y' is null");
  CHECK_THROWS(irnet::Model::load(m.path, 0), "threads must be in [1, 256], got 0");
  std::vector<double> seconds;
  model.run({{x.data(), {1, 8, 4, 4}}}, {y.data()}, &seconds);
  CHECK_EQ(seconds.size(), 2u);
  const irnet::ModelSummary s = model.summary();
  CHECK_EQ(s.layers.size(), 2u);
  CHECK_EQ(s.layers[1].binary_macs, 16 * 4 * 9 * 8);
  CHECK_EQ(s.layers[1].param_bytes, 4 * 9 * 8 + 3 * 4 * 4);
  std::remove(m.path.c_str());
}

// --- graph-level validation -------------------------------------------------

namespace {

// x [1,8] -> Relu -> a -> Relu -> y, as a base for broken variants.
IrbTestWriter relu_chain(bool swap_nodes = false) {
  IrbTestWriter w;
  const auto x = w.tensor("x", kF32, {1, 8});
  const auto a = w.tensor("a", kF32, {1, 8});
  const auto y = w.tensor("y", kF32, {1, 8});
  if (swap_nodes) {
    w.node("Relu", "second", {a}, {y});
    w.node("Relu", "first", {x}, {a});
  } else {
    w.node("Relu", "first", {x}, {a});
    w.node("Relu", "second", {a}, {y});
  }
  w.io({x}, {y});
  return w;
}

}  // namespace

TEST(graph_validation_errors) {
  {
    IrbTestWriter w = relu_chain();
    const irnet::Model m = irnet::Model::load(save(w, "ok"), 1);
    const std::vector<float> x = {-1, 2, -3, 4, 0, -0.5f, 6, 7};
    const std::vector<float> y = run(m, x);
    CHECK(y == std::vector<float>({0, 2, 0, 4, 0, 0, 6, 7}));
  }
  {
    IrbTestWriter w = relu_chain(true);
    CHECK_THROWS(irnet::Model::load(save(w, "order"), 1),
                 "node 'second' (Relu): input 0 'a' is used before it is defined");
  }
  {  // a cycle: a = Relu(b), b = Relu(a)
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {4});
    const auto a = w.tensor("a", kF32, {4});
    const auto b = w.tensor("b", kF32, {4});
    w.node("Relu", "ra", {b}, {a});
    w.node("Relu", "rb", {a}, {b});
    w.io({x}, {b});
    CHECK_THROWS(irnet::Model::load(save(w, "cycle"), 1), "node 'ra' (Relu): input 0 'b' is used before it is defined");
  }
  {
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {4});
    const auto y = w.tensor("y", kF32, {4});
    w.node("Frobnicate", "f1", {x}, {y});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "unknown"), 1), "unknown op 'Frobnicate' in node 'f1'");
    CHECK_THROWS(irnet::Model::load(save(w, "unknown"), 1), "known ops: Add, AveragePool, BinaryConv2d");
  }
  {  // shapes that do not chain
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {1, 8});
    const auto y = w.tensor("y", kF32, {1, 9});
    w.node("Relu", "r", {x}, {y});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "shape"), 1),
                 "node 'r' (Relu): output 0 'y' is declared f32 [1, 9] but the inputs give f32 [1, 8]");
  }
  {  // produced twice
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {4});
    const auto y = w.tensor("y", kF32, {4});
    w.node("Relu", "r1", {x}, {y});
    w.node("Relu", "r2", {x}, {y});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "twice"), 1), "output 0 'y' is already produced by node 'r1'");
  }
  {  // writing a graph input / a constant
    IrbTestWriter w;
    const float c[4] = {1, 2, 3, 4};
    const auto x = w.tensor("x", kF32, {4});
    const auto k = w.constant("k", kF32, {4}, c, sizeof c);
    w.node("Relu", "r1", {k}, {x});
    w.io({x}, {x});
    CHECK_THROWS(irnet::Model::load(save(w, "input_write"), 1), "output 0 'x' is a graph input");
    IrbTestWriter v;
    const auto x2 = v.tensor("x", kF32, {4});
    const auto k2 = v.constant("k", kF32, {4}, c, sizeof c);
    v.node("Relu", "r1", {x2}, {k2});
    v.io({x2}, {x2});
    CHECK_THROWS(irnet::Model::load(save(v, "const_write"), 1), "output 0 'k' is a constant");
  }
  {  // graph output never produced; non-f32 graph input; constant as graph input
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {4});
    const auto y = w.tensor("y", kF32, {4});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "noprod"), 1), "graph output 'y' is not produced");
    IrbTestWriter v;
    const auto xb = v.tensor("xb", kBits, {4});
    v.io({xb}, {xb});
    CHECK_THROWS(irnet::Model::load(save(v, "bitsin"), 1), "graph input 'xb' has dtype bits; graph inputs must be f32");
    IrbTestWriter u;
    const float c[4] = {1, 2, 3, 4};
    const auto k = u.constant("k", kF32, {4}, c, sizeof c);
    u.io({k}, {k});
    CHECK_THROWS(irnet::Model::load(save(u, "constin"), 1), "graph input 'k' is a constant");
  }
  // An attribute of the wrong type; bad attribute values of a binary conv.
  for (const auto& bad : std::vector<std::pair<irnet_test::TestAttr, std::string>>{
           {str_attr("kernel", "3x3"), "node 'conv' (BinaryConv2d): attribute 'kernel' must be ints, the file has string"},
           {str_attr("mode", "ternary"), "mode 'ternary' is not one of float, bits, float+bits, int32"},
           {ints_attr("pad_value", {2}), "attribute 'pad_value' value 2 is not in [-1, 1]"},
           {ints_attr("strides", {0, 1}), "attribute 'strides' value 0 is not in"},
           {ints_attr("pads", {1, 1, 1}), "attribute 'pads' must have 4 values, has 3"},
           {floats_attr("clip", {1.f, -1.f}), "attribute 'clip' must be [lo, hi] with lo <= hi"},
           {ints_attr("kernel", {1, 1}), "weights have shape [2, 3, 3, 64], the attributes and input need [2, 1, 1, 64]"}}) {
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {1, 4, 4, 64}, 1);
    const auto xb = w.tensor("xb", kBits, {1, 4, 4, 64}, 1);
    const std::vector<irnet::BitWord> wb(2 * 9, 0);
    const auto k = w.constant("w", kBits, {2, 3, 3, 64}, wb.data(), wb.size() * 8);
    const auto y = w.tensor("y", kF32, {1, 2, 2, 2}, 1);
    w.node("SignPack", "s", {x}, {xb});
    w.node("BinaryConv2d", "conv", {xb, k}, {y}, {bad.first});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "attrval"), 1), bad.second);
  }
  {  // float attributes written as integers: exact ones accepted, others refused
    for (const std::int64_t hi : {std::int64_t{1}, std::int64_t{1} << 25}) {
      IrbTestWriter w;
      const auto x = w.tensor("x", kF32, {4});
      const auto y = w.tensor("y", kF32, {4});
      w.node("Clip", "c", {x}, {y}, {ints_attr("clip", {0, hi})});
      w.io({x}, {y});
      if (hi == 1) {
        const irnet::Model m = irnet::Model::load(save(w, "intclip"), 1);
        CHECK(run(m, {-2.f, 0.5f, 3.f, -0.f}) == std::vector<float>({0.f, 0.5f, 1.f, 0.f}));
      } else {
        CHECK_THROWS(irnet::Model::load(save(w, "intclip"), 1),
                     "attribute 'clip' value 33554432 is not exactly representable as float");
      }
    }
  }
  {  // shift out of range, residual of the wrong shape
    IrbTestWriter w;
    const auto x = w.tensor("x", kF32, {1, 4, 4, 64}, 1);
    const auto xb = w.tensor("xb", kBits, {1, 4, 4, 64}, 1);
    const std::vector<irnet::BitWord> wb(2, 0);
    const std::int32_t shifts[2] = {0, -1};
    const auto k = w.constant("w", kBits, {2, 1, 1, 64}, wb.data(), wb.size() * 8);
    const auto s = w.constant("shift", kI32, {2}, shifts, sizeof shifts);
    const auto y = w.tensor("y", kF32, {1, 4, 4, 2}, 1);
    w.node("SignPack", "s", {x}, {xb});
    w.node("BinaryConv2d", "conv", {xb, k, s}, {y});
    w.io({x}, {y});
    CHECK_THROWS(irnet::Model::load(save(w, "shift"), 1), "shift[1] = -1 is not in [0, 126]");
    IrbTestWriter v;
    const auto x2 = v.tensor("x", kF32, {1, 4, 4, 64}, 1);
    const auto xb2 = v.tensor("xb", kBits, {1, 4, 4, 64}, 1);
    const auto k2 = v.constant("w", kBits, {2, 1, 1, 64}, wb.data(), wb.size() * 8);
    const auto y2 = v.tensor("y", kF32, {1, 4, 4, 2}, 1);
    v.node("SignPack", "s", {x2}, {xb2});
    v.node("BinaryConv2d", "conv", {xb2, k2, irnet_test::kAbsent, irnet_test::kAbsent, irnet_test::kAbsent, x2}, {y2});
    v.io({x2}, {y2});
    CHECK_THROWS(irnet::Model::load(save(v, "residual"), 1),
                 "input 5 (residual) has shape [1, 4, 4, 64]; it must be the output shape [1, 4, 4, 2]");
  }
  for (const char* f : {"ok", "order", "cycle", "unknown", "shape", "twice", "input_write", "const_write", "noprod",
                        "bitsin", "constin", "attrtype", "attrval", "intclip", "shift", "residual"})
    std::remove(("test_graph_" + std::string(f) + ".irb").c_str());
}

// --- memory plan ------------------------------------------------------------

TEST(memory_plan_reuses_dead_buffers) {
  // A chain a -> b -> c -> d: each buffer dies when the next-but-one is born,
  // so two slots suffice.
  const std::vector<irnet::BufferLifetime> chain = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  const irnet::MemoryPlan p = irnet::plan_memory(chain, 64);
  CHECK_EQ(p.arena_bytes, 2u * 1024u);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    CHECK_EQ(p.offsets[i] % 64, 0u);
    for (std::size_t j = 0; j < i; ++j) {
      const bool overlap_time = chain[i].first_step <= chain[j].last_step && chain[j].first_step <= chain[i].last_step;
      const bool overlap_bytes = p.offsets[i] < p.offsets[j] + 1024 && p.offsets[j] < p.offsets[i] + 1024;
      CHECK(!(overlap_time && overlap_bytes));
    }
  }
}

TEST(memory_plan_random_lifetimes_never_collide) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<irnet::BufferLifetime> bufs;
    const int n = 1 + static_cast<int>(rng() % 20);
    std::size_t total = 0;
    for (int i = 0; i < n; ++i) {
      const int first = static_cast<int>(rng() % 10) - 1;
      bufs.push_back({1 + rng() % 5000, first, first + static_cast<int>(rng() % 6)});
      total += (bufs.back().bytes + 63) / 64 * 64;
    }
    const irnet::MemoryPlan p = irnet::plan_memory(bufs, 64);
    CHECK(p.arena_bytes <= total);
    for (int i = 0; i < n; ++i) {
      CHECK(p.offsets[i] + bufs[i].bytes <= p.arena_bytes);
      for (int j = 0; j < i; ++j) {
        const bool t = bufs[i].first_step <= bufs[j].last_step && bufs[j].first_step <= bufs[i].last_step;
        const bool b = p.offsets[i] < p.offsets[j] + bufs[j].bytes && p.offsets[j] < p.offsets[i] + bufs[i].bytes;
        if (t && b) std::fprintf(stderr, "trial %d: buffers %d and %d collide\n", trial, i, j);
        CHECK(!(t && b));
      }
    }
  }
}

TEST(boundary_layout_transposes_exactly) {
  // Against the index definition, for the 3-row (RGB) path and the tiled path:
  // channel counts 1, 3, 4, 63, 64, 65, 130, pixel counts off the 16-tile.
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  const irnet::Shape shapes[] = {{1, 224, 224, 3}, {2, 5, 7, 3}, {1, 1, 1, 3}, {1, 3, 5, 1}, {2, 4, 4, 4},
                                 {1, 7, 9, 63},    {1, 8, 8, 64}, {2, 3, 11, 65}, {1, 2, 17, 130}};
  for (const irnet::Shape& s : shapes) {
    const std::size_t n = s[0], h = s[1], w = s[2], c = s[3];
    std::vector<float> nchw(n * c * h * w);
    for (float& v : nchw) v = dist(rng);
    std::vector<float> nhwc(nchw.size(), 0.f), back(nchw.size(), 0.f);
    irnet::nchw_to_nhwc(nchw.data(), nhwc.data(), s);
    bool exact = true;
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
          for (std::size_t ch = 0; ch < c; ++ch)
            exact = exact && nhwc[((b * h + y) * w + x) * c + ch] == nchw[((b * c + ch) * h + y) * w + x];
    CHECK(exact);
    irnet::nhwc_to_nchw(nhwc.data(), back.data(), s);
    CHECK(back == nchw);
  }
}

int main() { return irnet_test::run_all(); }
