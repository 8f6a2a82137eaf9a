// The fused ReActNet epilogue of BinaryConv2d (inputs 6..9: act_shift_in,
// act_slope, act_shift_out, threshold; a residual repeated along channels),
// built through the op table as the loader builds it, under every
// "bconv_epilogue" variant this CPU runs, against
//   (a) bconv2d_ref with the same BConv2dOutput, and
//   (b) the unfused chain of the engine's own ops: BinaryConv2d (mode float)
//       -> Add(residual, repeated r times) -> Add(act_shift_in) -> PRelu(act_slope)
//       -> Add(act_shift_out) -> SignPack(threshold),
// bit for bit (floats compared as bits, NaN payloads included). Shapes are
// ReActNet-like (in_c 32..256, 1x1 and 3x3, stride 1 and 2, r = 1 and 2)
// plus odd channel counts; values hit -0, +0, NaN, infinities, subnormal and
// tiny residuals, sums exactly at the threshold and zero after shift_in,
// negative, zero and signed-zero slopes, and slopes all in (0, 1]. Then ARMv7 NEON's flush: constants
// under which a flushed subnormal product would change a result must send
// the conv to the portable passes, and the rows it keeps must be exact. And
// every refusal of the loader for the new inputs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "bconv/bconv2d.h"
#include "bit_testing.h"
#include "op_test_util.h"

using irnet::BConv2dOutput;
using irnet::BitWord;
using namespace irnet_test;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();


// One conv of the test: geometry, constants (empty = absent) and its tensors.
struct ReactCase {
  int batch = 1, in_h = 6, in_w = 6, in_c = 32, out_c = 32, kernel = 1, stride = 1;
  int repeat = 1;  // r: the residual has out_c / r channels
  bool residual = true;
  std::string mode = "float+bits";
  std::vector<BitWord> input, weights;
  std::vector<std::int32_t> shift;
  std::vector<float> scale, bias, residual_values, shift_in, slope, shift_out, threshold;

  int pad() const { return kernel / 2; }
  int out_h() const { return (in_h + 2 * pad() - kernel) / stride + 1; }
  int out_w() const { return (in_w + 2 * pad() - kernel) / stride + 1; }
  std::size_t pixels() const { return std::size_t(batch) * out_h() * out_w(); }
  int residual_channels() const { return out_c / repeat; }
  Shape out_shape() const { return {batch, out_h(), out_w(), out_c}; }
  Shape residual_shape_override;  // the loader tests' wrong residual shapes
  Shape residual_shape() const {
    return residual_shape_override.empty() ? Shape{batch, out_h(), out_w(), residual_channels()}
                                           : residual_shape_override;
  }
  bool want_float() const { return mode != "bits"; }
  bool want_bits() const { return mode != "float"; }

  irnet::Conv2dGeometry geometry() const {
    irnet::Conv2dGeometry g;
    g.batch = batch;
    g.in_h = in_h;
    g.in_w = in_w;
    g.in_c = in_c;
    g.out_c = out_c;
    g.kernel_h = g.kernel_w = kernel;
    g.stride_h = g.stride_w = stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad();
    return g;
  }

  BConv2dOutput output(const std::string& as_mode) const {
    BConv2dOutput out;
    out.mode = as_mode == "float" ? BConv2dOutput::kFloat
               : as_mode == "bits" ? BConv2dOutput::kBits
                                   : BConv2dOutput::kFloatAndBits;
    out.shift = shift;
    out.scale = scale;
    out.bias = bias;
    out.has_residual = residual;
    out.residual_channels = residual && repeat > 1 ? residual_channels() : 0;
    out.act_shift_in = shift_in;
    out.act_slope = slope;
    out.act_shift_out = shift_out;
    if (as_mode != "float") out.threshold = threshold;
    return out;
  }
};

struct Result {
  std::vector<float> y;
  std::vector<BitWord> bits;
  std::string kernel;
};

Result reference(const ReactCase& c) {
  Result r;
  r.y.assign(c.pixels() * c.out_c, 0.f);
  r.bits.assign(c.pixels() * irnet::packed_words(c.out_c), 0);
  irnet::bconv2d_ref(c.geometry(), irnet::PadValue::kZero, c.output(c.mode), c.input.data(), c.weights.data(),
                     c.residual ? c.residual_values.data() : nullptr, nullptr, r.y.data(), r.bits.data());
  if (!c.want_float()) r.y.clear();
  if (!c.want_bits()) r.bits.clear();
  return r;
}

// Runs `op` on `inputs` (one per declared input, nullptr if absent); returns
// its outputs' bytes, each pre-filled with garbage and checked for a guard.
std::vector<std::vector<std::uint8_t>> run_outputs(const irnet::Op& op, const std::vector<const void*>& inputs) {
  const std::vector<TensorDesc> descs = op.outputs();
  std::vector<std::vector<std::uint8_t>> outs;
  std::vector<void*> ptrs;
  for (const TensorDesc& d : descs) outs.emplace_back(irnet::tensor_bytes(d.dtype, d.shape) + 8, 0xA5);
  for (auto& o : outs) ptrs.push_back(o.data());
  std::vector<std::uint8_t> scratch(op.scratch_bytes() + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64;
  const irnet::ParallelFor pf = [](std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn) {
    for (std::size_t c = 3; c-- > 0;) {  // three chunks in reverse order
      const std::size_t b = c * n / 3, e = (c + 1) * n / 3;
      if (b < e) fn(b, e);
    }
  };
  irnet::RunContext ctx{inputs.data(), ptrs.data(), aligned, &pf};
  op.run(ctx);
  for (auto& o : outs) {
    for (std::size_t i = o.size() - 8; i < o.size(); ++i) CHECK_EQ(int(o[i]), 0xA5);  // nothing past the end
    o.resize(o.size() - 8);
  }
  return outs;
}

template <typename T>
std::vector<T> as(const std::vector<std::uint8_t>& bytes) {
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

// The BinaryConv2d node of the case, with inputs 0..9 as far as any is present.
FakeNode conv_node(const ReactCase& c, const std::string& mode, bool with_residual, bool with_activation) {
  FakeNode n("BinaryConv2d");
  n.input(DType::kBits, {c.batch, c.in_h, c.in_w, c.in_c});
  n.input(DType::kBits, {c.out_c, c.kernel, c.kernel, c.in_c}, c.weights.data());
  const auto per_channel = [&](DType t, const void* data, bool present) {
    if (present) n.input(t, {c.out_c}, data); else n.absent_input();
  };
  per_channel(DType::kI32, c.shift.data(), !c.shift.empty());
  per_channel(DType::kF32, c.scale.data(), !c.scale.empty());
  per_channel(DType::kF32, c.bias.data(), !c.bias.empty());
  if (with_residual) n.input(DType::kF32, c.residual_shape()); else n.absent_input();
  if (with_activation) {
    per_channel(DType::kF32, c.shift_in.data(), !c.shift_in.empty());
    per_channel(DType::kF32, c.slope.data(), !c.slope.empty());
    per_channel(DType::kF32, c.shift_out.data(), !c.shift_out.empty());
    if (mode != "float" && !c.threshold.empty()) n.input(DType::kF32, {c.out_c}, c.threshold.data());
  }
  n.attr("kernel", std::vector<std::int64_t>{c.kernel, c.kernel});
  n.attr("strides", std::vector<std::int64_t>{c.stride, c.stride});
  n.attr("pads", std::vector<std::int64_t>{c.pad(), c.pad(), c.pad(), c.pad()});
  n.attr("mode", mode);
  n.outputs(mode == "float+bits" ? 2 : 1);
  return n;
}

// The fused op, built by the op table under the currently selected kernels.
Result fused(const ReactCase& c) {
  const FakeNode node = conv_node(c, c.mode, c.residual, true);
  const auto op = make_op(node);
  std::vector<const void*> inputs(node.num_inputs(), nullptr);
  inputs[0] = c.input.data();
  if (c.residual) inputs[5] = c.residual_values.data();
  const auto outs = run_outputs(*op, inputs);
  Result r;
  r.kernel = op->kernel_name();
  if (c.want_float()) r.y = as<float>(outs[0]);
  if (c.want_bits()) r.bits = as<BitWord>(outs.back());
  return r;
}

// One element-wise float op of the chain (Add with a [C] or same-shape b, PRelu).
std::vector<float> float_op(const std::string& op_name, const Shape& shape, const std::vector<float>& x,
                            const std::vector<float>& b, bool b_per_channel) {
  FakeNode n(op_name);
  n.input(DType::kF32, shape);
  if (b_per_channel) n.input(DType::kF32, {shape.back()}, b.data()); else n.input(DType::kF32, shape);
  return run_op(*make_op(n), {x.data(), b.data()});
}

// The unfused chain of the engine's ops.
Result unfused(const ReactCase& c) {
  const FakeNode conv = conv_node(c, "float", false, false);
  std::vector<float> y = run_op(*make_op(conv), std::vector<const void*>{c.input.data(), nullptr, nullptr,
                                                                        nullptr, nullptr, nullptr});
  const Shape shape = c.out_shape();
  if (c.residual) {  // the residual repeated along channels, as the doubling block's concat
    std::vector<float> repeated(y.size());
    const int rc = c.residual_channels();
    for (std::size_t p = 0; p < c.pixels(); ++p)
      for (int o = 0; o < c.out_c; ++o) repeated[p * c.out_c + o] = c.residual_values[p * rc + o % rc];
    y = float_op("Add", shape, y, repeated, false);
  }
  if (!c.shift_in.empty()) y = float_op("Add", shape, y, c.shift_in, true);
  if (!c.slope.empty()) y = float_op("PRelu", shape, y, c.slope, true);
  if (!c.shift_out.empty()) y = float_op("Add", shape, y, c.shift_out, true);
  Result r;
  if (c.want_bits()) {
    FakeNode pack("SignPack");
    pack.input(DType::kF32, shape);
    if (!c.threshold.empty()) pack.input(DType::kF32, {c.out_c}, c.threshold.data());
    const auto op = make_op(pack);
    r.bits = as<BitWord>(run_outputs(*op, {y.data(), c.threshold.data()})[0]);
  }
  if (c.want_float()) r.y = y;
  return r;
}

bool same(const Result& a, const Result& b) {
  return a.y.size() == b.y.size() &&
         (a.y.empty() || std::memcmp(a.y.data(), b.y.data(), a.y.size() * sizeof(float)) == 0) && a.bits == b.bits;
}

std::string describe(const ReactCase& c, const std::string& kernel) {
  return str_cat_test(c.batch, "x", c.in_h, "x", c.in_w, "x", c.in_c, " -> ", c.out_c, " k", c.kernel, " s",
                      c.stride, " r", c.repeat, " res", c.residual, " ", c.mode, " shift_in", !c.shift_in.empty(),
                      " slope", !c.slope.empty(), " shift_out", !c.shift_out.empty(), " threshold",
                      !c.threshold.empty(), " ", kernel);
}

float uniform(Rng& rng, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

// Residual values: mostly ordinary, some special (signed zeros, NaN, infinities,
// subnormals, tiny normals that ARMv7 NEON would flush in sums).
float residual_value(Rng& rng) {
  const float specials[] = {0.f, -0.f, kNaN, kInf, -kInf, from_bits(0x00000001), from_bits(0x807FFFFF),
                            std::ldexp(1.f, -126), std::ldexp(-1.5f, -110), from_bits(0x7FC12345)};
  return uniform_int(rng, 0, 15) == 0 ? specials[uniform_int(rng, 0, 9)] : uniform(rng, -4.f, 4.f);
}

// A random case of the given shape: each constant present with probability
// 3/4 (the slope more often: it is what the ReActNet block has), slopes
// including 0, -0, negatives and values >= 1; then shift_in and threshold of
// some channels moved so that z = y + shift_in and y + threshold hit exactly 0
// at some pixel (computed with the reference).
ReactCase random_case(Rng& rng, int in_c, int out_c, int kernel, int stride, int repeat, const std::string& mode,
                      bool residual) {
  ReactCase c;
  c.in_c = in_c;
  c.out_c = out_c;
  c.kernel = kernel;
  c.stride = stride;
  c.repeat = repeat;
  c.mode = mode;
  c.residual = residual;
  c.batch = uniform_int(rng, 1, 2);
  c.in_h = uniform_int(rng, 2, 7);
  c.in_w = uniform_int(rng, 2, 7);
  c.input = random_packed(rng, std::size_t(c.batch) * c.in_h * c.in_w, in_c);
  c.weights = random_packed(rng, std::size_t(out_c) * kernel * kernel, in_c);
  const auto maybe = [&](int odds) { return uniform_int(rng, 0, odds) != 0; };
  if (maybe(3)) for (int o = 0; o < out_c; ++o) c.shift.push_back(uniform_int(rng, 0, 3));
  if (maybe(3))
    for (int o = 0; o < out_c; ++o) c.scale.push_back(uniform_int(rng, 0, 9) == 0 ? 0.f : uniform(rng, -2.f, 2.f));
  if (maybe(3)) for (int o = 0; o < out_c; ++o) c.bias.push_back(uniform(rng, -3.f, 3.f));
  if (residual)
    for (std::size_t i = 0; i < c.pixels() * c.residual_channels(); ++i) c.residual_values.push_back(residual_value(rng));
  if (maybe(7)) {
    // Half the cases keep every slope in (0, 1] (aarch64's max form of the PReLU).
    const float slopes[] = {1.f, 0.25f, 0.f, -0.f, -0.5f, 1.5f, -2.f};
    const int specials = uniform_int(rng, 0, 1) ? 2 : 7;
    for (int o = 0; o < out_c; ++o)
      c.slope.push_back(uniform_int(rng, 0, 2) == 0 ? slopes[uniform_int(rng, 0, specials - 1)] : uniform(rng, 0.f, 1.f));
    if (maybe(3)) for (int o = 0; o < out_c; ++o) c.shift_in.push_back(uniform(rng, -1.f, 1.f));
    if (maybe(3)) for (int o = 0; o < out_c; ++o) c.shift_out.push_back(uniform(rng, -1.f, 1.f));
  }
  if (mode != "float" && maybe(3)) for (int o = 0; o < out_c; ++o) c.threshold.push_back(uniform(rng, -1.f, 1.f));
  // Exact zeros: y before the activation, then y after it, read off the reference.
  const auto reference_y = [&](const ReactCase& k) {
    ReactCase as_float = k;
    as_float.mode = "float";
    return reference(as_float).y;
  };
  if (!c.shift_in.empty()) {
    ReactCase before = c;
    before.slope.clear(), before.shift_in.clear(), before.shift_out.clear();
    const std::vector<float> y = reference_y(before);
    for (int o = 0; o < out_c; o += uniform_int(rng, 1, 3)) {
      const float v = y[(rng() % c.pixels()) * out_c + o];
      if (std::isfinite(v)) c.shift_in[o] = -v;
    }
  }
  if (!c.threshold.empty()) {
    const std::vector<float> y = reference_y(c);
    for (int o = 0; o < out_c; o += uniform_int(rng, 1, 3)) {
      const float v = y[(rng() % c.pixels()) * out_c + o];
      if (std::isfinite(v)) c.threshold[o] = -v;
    }
  }
  return c;
}

// Whether a variant must take its fused rows for c (ordinary constants, no clamp).
bool expect_fused_rows(const std::string& variant, const ReactCase& c) {
  if (variant == "bconv_epilogue_portable") return false;
  const int step = variant == "bconv_epilogue_neon_a64" ? 16 : variant == "bconv_epilogue_neon_a32" ? 32 : 8;
  if (c.residual && c.residual_channels() % step != 0) return false;
  if (variant != "bconv_epilogue_neon_a32") return true;
  // ARMv7: every constant 0 or at least 2^-102 in magnitude (shift_in can
  // have been set to minus a subnormal y), each slope 0, |slope| >= 1, or a
  // nonzero shift_out after it.
  for (const auto* v : {&c.scale, &c.bias, &c.shift_in, &c.slope, &c.shift_out, &c.threshold})
    for (float x : *v)
      if (x != 0.f && std::fabs(x) < std::ldexp(1.f, -102)) return false;
  if (c.slope.empty()) return true;
  for (int o = 0; o < c.out_c; ++o) {
    const float s = c.slope[o];
    const bool rescued = !c.shift_out.empty() && c.shift_out[o] != 0.f;
    if (!(s == 0.f || std::fabs(s) >= 1.f || rescued)) return false;
  }
  return true;
}

void check_case(const ReactCase& c, const std::string& variant) {
  const Result ref = reference(c), got = fused(c), chain = unfused(c);
  if (!same(ref, chain)) CHECK_EQ(describe(c, "reference"), std::string("equals the unfused chain"));
  if (!same(got, ref)) CHECK_EQ(describe(c, got.kernel), std::string("equals the reference"));
  if (expect_fused_rows(variant, c) && got.kernel.find(variant) == std::string::npos)
    CHECK_EQ(describe(c, got.kernel), std::string("runs the fused rows of ") + variant);
}

}  // namespace

TEST(fused_react_epilogue_matches_reference_and_unfused_chain) {
  Rng rng(181);
  struct Shape_ {
    int in_c, out_c, kernel, stride, repeat;
  };
  // ReActNet's blocks (3x3 s1/s2 in_c -> in_c, 1x1 in_c -> in_c and the doubling
  // in_c -> 2 in_c with r = 2), then odd channel counts (tails, C_r not a
  // multiple of any step).
  const Shape_ shapes[] = {{32, 32, 3, 1, 1},  {32, 64, 1, 1, 2},   {64, 64, 3, 2, 1},   {64, 128, 1, 1, 2},
                           {128, 128, 1, 1, 1}, {128, 128, 3, 1, 1}, {256, 256, 1, 1, 1}, {256, 512, 1, 1, 2},
                           {48, 96, 1, 2, 2},   {3, 65, 3, 1, 1},    {70, 130, 1, 1, 2},  {16, 24, 3, 2, 3},
                           {32, 80, 1, 1, 5},   {64, 17, 1, 1, 1}};
  const char* const modes[] = {"float", "bits", "float+bits"};
  int cases = 0;
  for (const std::string& variant : supported_variants("bconv_epilogue")) {
    const ForcedKernel forced("bconv_epilogue", variant);
    for (const Shape_& s : shapes)
      for (const char* mode : modes)
        for (int residual = 0; residual < 2; ++residual)
          for (int trial = 0; trial < 2; ++trial) {
            if (!residual && s.repeat > 1) continue;
            check_case(random_case(rng, s.in_c, s.out_c, s.kernel, s.stride, s.repeat, mode, residual), variant);
            ++cases;
          }
  }
  CHECK(cases >= 14 * 3 * 2);
}

// The activation rows' 32-channel units (ARMv7 runs them in assembly and
// the channels past them on VFP) and their residual check: ReActNet-like
// rows of ordinary residuals where every other row holds one value at a
// random channel, often in the last unit, that NEON would get wrong (the
// row must go to VFP before any of it is written) or that only looks like
// one to a quick test (zeros, which are exact); 1 to 5 units, with and
// without a tail, a repeated residual, both PReLU forms; the residual also
// in place (residual and float output one buffer, BConv2d called directly).
TEST(activation_rows_units_residual_hazards_and_in_place) {
  const float hazards[] = {from_bits(0x00000001), from_bits(0x807FFFFF), std::ldexp(1.f, -126),
                           std::ldexp(-1.5f, -110), from_bits(0x7FC12345), from_bits(0xFFC00000),
                           0.f, -0.f, kInf, -kInf};
  const int num_hazards = sizeof(hazards) / sizeof(hazards[0]);
  struct Shape_ {
    int in_c, out_c, repeat;
  };
  const Shape_ shapes[] = {{32, 32, 1},  {64, 64, 1},  {32, 96, 1}, {64, 160, 1}, {32, 40, 1},
                           {64, 72, 1},  {32, 16, 1},  {32, 64, 2}, {64, 128, 2}, {32, 192, 3}};
  const char* const modes[] = {"float", "bits", "float+bits"};
  Rng rng(183);
  int cases = 0;
  for (const std::string& variant : supported_variants("bconv_epilogue")) {
    const ForcedKernel forced("bconv_epilogue", variant);
    for (const Shape_& s : shapes)
      for (const char* mode : modes)
        for (int unit_slopes = 0; unit_slopes < 2; ++unit_slopes) {
          ReactCase c = random_case(rng, s.in_c, s.out_c, 1, 1, s.repeat, mode, true);
          c.in_h = 3, c.in_w = 4;
          c.input = random_packed(rng, std::size_t(c.batch) * c.in_h * c.in_w, c.in_c);
          c.shift_in.assign(c.out_c, 0.f);
          c.slope.assign(c.out_c, 0.f);
          c.shift_out.assign(c.out_c, 0.f);
          if (c.want_bits()) c.threshold.assign(c.out_c, 0.f);
          for (int o = 0; o < c.out_c; ++o) {
            c.shift_in[o] = uniform(rng, -1.f, 1.f);
            c.slope[o] = unit_slopes ? uniform(rng, 0.125f, 1.f) : (o % 3 == 0 ? -0.5f : 0.25f);
            c.shift_out[o] = uniform(rng, -1.f, 1.f);
            if (c.want_bits()) c.threshold[o] = uniform(rng, -1.f, 1.f);
          }
          const int rc = c.residual_channels();
          c.residual_values.resize(c.pixels() * rc);
          for (float& r : c.residual_values) r = uniform(rng, 0.5f, 4.f) * (uniform_int(rng, 0, 1) ? 1.f : -1.f);
          for (std::size_t p = 1; p < c.pixels(); p += 2) {
            const int at = uniform_int(rng, 0, 1) ? rc - 1 - uniform_int(rng, 0, std::min(rc, 32) - 1)
                                                  : uniform_int(rng, 0, rc - 1);
            c.residual_values[p * rc + at] = hazards[uniform_int(rng, 0, num_hazards - 1)];
          }
          check_case(c, variant);
          ++cases;
          if (s.repeat > 1 || !c.want_float()) continue;
          // In place: the float output buffer holds the residual on entry.
          const Result ref = reference(c);
          const irnet::BConv2d layer(c.geometry(), irnet::PadValue::kZero, c.output(c.mode), c.weights.data(),
                                     irnet::selected_kernels());
          const std::size_t rows = c.pixels();
          std::vector<float> y = c.residual_values;
          std::vector<BitWord> bits(rows * irnet::packed_words(c.out_c), ~BitWord{0});
          std::vector<BitWord> scratch(layer.scratch_bytes(rows) / sizeof(BitWord) + 1);
          layer.run_rows(0, rows, c.input.data(), y.data(), nullptr, y.data(), c.want_bits() ? bits.data() : nullptr,
                         scratch.data());
          Result got;
          got.y = y;
          if (c.want_bits()) got.bits = bits;
          if (!same(got, ref)) CHECK_EQ(describe(c, layer.kernel_name()), std::string("in place equals the reference"));
        }
  }
  CHECK(cases >= 10 * 3 * 2);
}

// ARMv7 NEON flushes a subnormal product z * slope to -0. Cases where the
// reference's product is subnormal: scale 0 makes y = bias + residual, and
// bias = 1.5 * 2^-102 with residual -(bias + 2^-125) gives y = -2^-125, so
// z * 2^-4 = -2^-129. Without shift_out that subnormal is the output (and its
// bit): NEON would give -0 and bit 0, so the armv7 kernel must refuse these
// constants; with shift_out = 2^-100 it may keep its rows (the product
// vanishes into shift_out either way). Every variant must match the reference.
TEST(subnormal_products_are_exact_on_every_variant) {
  for (const std::string& variant : supported_variants("bconv_epilogue")) {
    const ForcedKernel forced("bconv_epilogue", variant);
    for (bool with_shift_out : {false, true}) {
      ReactCase c;
      Rng rng(7);
      c.in_h = c.in_w = 3;
      c.in_c = c.out_c = 64;
      c.input = random_packed(rng, 9, 64);
      c.weights = random_packed(rng, 64, 64);
      c.scale.assign(64, 0.f);
      c.bias.assign(64, std::ldexp(1.5f, -102));
      c.slope.assign(64, 0.0625f);
      if (with_shift_out) c.shift_out.assign(64, std::ldexp(1.f, -100));
      c.residual_values.assign(c.pixels() * 64, -(std::ldexp(1.5f, -102) + std::ldexp(1.f, -125)));
      CHECK_EQ(c.bias[0] + c.residual_values[0], -std::ldexp(1.f, -125));  // the case is what it claims
      const Result ref = reference(c), got = fused(c);
      if (!with_shift_out) {
        CHECK(std::fpclassify(ref.y[0]) == FP_SUBNORMAL && ref.y[0] < 0.f && (ref.bits[0] & 1) == 1);
      }
      CHECK(same(got, ref));
      CHECK(same(unfused(c), ref));
      if (variant == "bconv_epilogue_neon_a32")
        CHECK_EQ(got.kernel.find(variant) != std::string::npos, with_shift_out);
    }
  }
}

TEST(loader_refuses_bad_activation_inputs) {
  Rng rng(5);
  ReactCase c = random_case(rng, 32, 64, 1, 1, 1, "float+bits", true);
  c.shift_in.assign(64, 0.5f);
  c.slope.assign(64, 0.25f);
  c.shift_out.assign(64, -0.5f);
  c.threshold.assign(64, 0.125f);
  const std::vector<float> short_values(63, 0.f);
  CHECK(make_op(conv_node(c, "float+bits", true, true)) != nullptr);  // the valid node loads
  const auto with_input = [&](std::size_t i, DType t, Shape shape, const void* data) {
    FakeNode n = conv_node(c, "float+bits", true, false);
    while (n.num_inputs() < i) n.absent_input();
    n.input(t, std::move(shape), data);
    return n;
  };
  const char* const names[] = {"act_shift_in", "act_slope", "act_shift_out", "threshold"};
  for (std::size_t i = 6; i <= 9; ++i) {
    const std::string name = str_cat_test("input ", i, " (", names[i - 6], ")");
    CHECK_THROWS(make_op(with_input(i, DType::kF32, {63}, short_values.data())),
                 name + " must have shape [64], got [63]");
    CHECK_THROWS(make_op(with_input(i, DType::kF32, {64}, nullptr)), name + " must be a constant");
    CHECK_THROWS(make_op(with_input(i, DType::kI32, {64}, c.shift_in.data())), "input " + std::to_string(i));
    std::vector<float> bad = c.slope;
    bad[7] = i % 2 ? kInf : kNaN;
    CHECK_THROWS(make_op(with_input(i, DType::kF32, {64}, bad.data())), name + " value [7] is not finite");
  }
  FakeNode shift_in_alone = with_input(6, DType::kF32, {64}, c.shift_in.data());
  CHECK_THROWS(make_op(shift_in_alone), "input 6 (act_shift_in) needs input 7 (act_slope)");
  FakeNode shift_out_alone = with_input(8, DType::kF32, {64}, c.shift_out.data());
  CHECK_THROWS(make_op(shift_out_alone), "input 8 (act_shift_out) needs input 7 (act_slope)");
  ReactCase float_mode = c;
  float_mode.mode = "float";
  FakeNode threshold_float = conv_node(float_mode, "float", true, true);
  threshold_float.input(DType::kF32, {64}, c.threshold.data());  // index 9 (conv_node left it out)
  CHECK_THROWS(make_op(threshold_float), "input 9 (threshold) needs mode bits or float+bits");
  ReactCase int_mode = c;
  int_mode.residual = false;
  int_mode.threshold.clear();
  CHECK_THROWS(make_op(conv_node(int_mode, "int32", false, true)), "mode int32 cannot take input 7 (act_slope)");
  FakeNode eleven = conv_node(c, "float+bits", true, true);
  eleven.input(DType::kF32, {64}, c.threshold.data());
  CHECK_THROWS(make_op(eleven), "has 11 inputs, at most 10 allowed");
  // Residual channels: a divisor of out_c below it repeats; anything else is refused.
  const auto load_with_residual_shape = [&](Shape shape) {
    c.residual_shape_override = std::move(shape);
    return make_op(conv_node(c, "float+bits", true, true));
  };
  for (std::int64_t channels : {48, 128, 3})
    CHECK_THROWS(load_with_residual_shape({c.batch, c.out_h(), c.out_w(), channels}), "input 5 (residual) has shape");
  CHECK_THROWS(load_with_residual_shape({c.batch, c.out_h() + 1, c.out_w(), 32}), "input 5 (residual) has shape");
  CHECK_THROWS(load_with_residual_shape({c.batch, c.out_h(), c.out_w()}), "input 5 (residual) has shape");
  for (std::int64_t channels : {1, 16, 32})
    CHECK(load_with_residual_shape({c.batch, c.out_h(), c.out_w(), channels}) != nullptr);
}

int main() { return irnet_test::run_all(); }
