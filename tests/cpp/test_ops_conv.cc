// Conv2d and Gemm through the Op interface (attributes, shape inference,
// parallel run) against conv2d_f32_ref / sgemm_ref, and their validation.
#include <cmath>
#include <limits>

#include "fconv/conv2d_f32.h"
#include "fconv/phase_conv.h"
#include "fconv/sgemm.h"
#include "op_test_util.h"

using namespace irnet_test;

namespace {

// |y - ref| bounded by the float rounding of a K-term sum: 1e-5 of the sum of |terms|.
void check_within_magnitude(const std::vector<float>& y, const std::vector<float>& ref,
                            const std::vector<float>& magnitude, const char* what) {
  CHECK_EQ(y.size(), ref.size());
  int bad = 0;
  for (std::size_t i = 0; i < y.size() && i < ref.size(); ++i)
    if (!(std::fabs(y[i] - ref[i]) <= 1e-5f * magnitude[i] + 1e-7f) && bad++ < 3)
      report(__FILE__, __LINE__, irnet::str_cat(what, " at ", i, ": ", y[i], " vs ref ", ref[i]));
}

std::vector<float> abs_of(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

}  // namespace

TEST(conv2d_op_matches_reference) {
  std::mt19937 rng(31);
  struct Case { Shape x; std::int64_t out_c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups; const char* act; };
  const Case cases[] = {
      {{1, 23, 21, 3}, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, "clip"},   // stem, Hardtanh fused
      {{1, 17, 19, 3}, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, "none"},   // ReActNet-A's 3x3/2 stem
      {{1, 11, 13, 64}, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, "relu"}, // float ResNet's 3x3/2: im2col + sgemm
      {{2, 9, 9, 64}, 128, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, "none"},   // 1x1/2 downsample
      {{1, 6, 7, 16}, 32, 3, 3, 1, 1, 2, 2, 2, 1, 0, 3, 2, "relu"},
  };
  for (const Case& c : cases) {
    const std::int64_t cg = c.x[3] / c.groups;
    const std::vector<float> x = random_floats(count_of(c.x), rng);
    const std::vector<float> w = random_floats(c.out_c * c.kh * c.kw * cg, rng);
    const std::vector<float> b = random_floats(c.out_c, rng);
    FakeNode node("Conv2d");
    node.input(DType::kF32, c.x).input(DType::kF32, {c.out_c, c.kh, c.kw, cg}, w.data())
        .input(DType::kF32, {c.out_c}, b.data())
        .attr("kernel", std::vector<std::int64_t>{c.kh, c.kw})
        .attr("strides", std::vector<std::int64_t>{c.sh, c.sw})
        .attr("dilations", std::vector<std::int64_t>{c.dh, c.dw})
        .attr("pads", std::vector<std::int64_t>{c.pt, c.pl, c.pb, c.pr})
        .attr("groups", std::vector<std::int64_t>{c.groups}).attr("act", std::string(c.act));
    if (std::string(c.act) == "clip") node.attr("clip", std::vector<float>{-1.f, 1.f});
    const auto op = make_op(node);

    irnet::Conv2dGeometry g;
    g.batch = static_cast<int>(c.x[0]); g.in_h = static_cast<int>(c.x[1]); g.in_w = static_cast<int>(c.x[2]);
    g.in_c = static_cast<int>(c.x[3]); g.out_c = static_cast<int>(c.out_c);
    g.kernel_h = static_cast<int>(c.kh); g.kernel_w = static_cast<int>(c.kw);
    g.stride_h = static_cast<int>(c.sh); g.stride_w = static_cast<int>(c.sw);
    g.dilation_h = static_cast<int>(c.dh); g.dilation_w = static_cast<int>(c.dw);
    g.pad_top = static_cast<int>(c.pt); g.pad_left = static_cast<int>(c.pl);
    g.pad_bottom = static_cast<int>(c.pb); g.pad_right = static_cast<int>(c.pr);
    g.groups = static_cast<int>(c.groups);
    CHECK(op->outputs()[0].shape == (Shape{c.x[0], g.out_h(), g.out_w(), c.out_c}));
    // 7-wide convs, and 3-wide ones over at most kPhaseMaxInChannels3 input
    // channels, with column stride 2 run the direct column-phase kernel of
    // their width where the build has one.
    const irnet::KernelConfig kernels = irnet::selected_kernels();
    const bool phase = c.sw == 2 && c.dh == 1 && c.dw == 1 && c.groups == 1 &&
                       (c.kw != 3 || g.in_c <= irnet::kPhaseMaxInChannels3);
    const irnet::PhaseConvWidthKernel* direct = phase ? kernels.phase_conv->of_width(static_cast<int>(c.kw)) : nullptr;
    CHECK_EQ(op->kernel_name(), std::string(direct != nullptr ? direct->name : kernels.sgemm->name));
    CHECK_EQ(op->stats().float_macs,
             static_cast<std::int64_t>(c.x[0] * g.out_h() * g.out_w() * c.out_c * c.kh * c.kw * cg));

    const std::string act = c.act;
    irnet::FloatClamp clamp;
    if (act == "relu") clamp = {0.f};
    if (act == "clip") clamp = {-1.f, 1.f};
    std::vector<float> ref(count_of(op->outputs()[0].shape)), magnitude(ref.size());
    irnet::conv2d_f32_ref(g, x.data(), w.data(), b.data(), clamp, ref.data());
    irnet::conv2d_f32_ref(g, abs_of(x).data(), abs_of(w).data(), abs_of(b).data(), {}, magnitude.data());
    const std::vector<float> y = run_op(*op, {x.data(), w.data(), b.data()});
    check_within_magnitude(y, ref, magnitude, "Conv2d");
    CHECK(run_op(*op, {x.data(), w.data(), b.data()}, 1) == y);  // chunking never changes bits
    CHECK(run_op(*op, {x.data(), w.data(), b.data()}, 7) == y);
  }
}

TEST(gemm_op_matches_reference) {
  std::mt19937 rng(32);
  for (auto [N, K, M] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 512, 1000}, {2, 65, 10}, {5, 1, 3}}) {
    const std::vector<float> x = random_floats(N * K, rng), w = random_floats(M * K, rng), b = random_floats(M, rng);
    for (bool with_bias : {true, false}) {
      FakeNode node("Gemm");
      node.input(DType::kF32, {N, K}).input(DType::kF32, {M, K}, w.data());
      if (with_bias) node.input(DType::kF32, {M}, b.data());
      else node.absent_input();
      const auto op = make_op(node);
      CHECK(op->outputs()[0].shape == (Shape{N, M}));
      std::vector<float> ref(N * M), magnitude(N * M);
      const std::vector<float> ax = abs_of(x), aw = abs_of(w), ab = abs_of(b);
      irnet::sgemm_ref(N, M, K, x.data(), K, w.data(), K, with_bias ? b.data() : nullptr,
                       -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), ref.data(), M);
      irnet::sgemm_ref(N, M, K, ax.data(), K, aw.data(), K, with_bias ? ab.data() : nullptr,
                       -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(),
                       magnitude.data(), M);
      check_within_magnitude(run_op(*op, {x.data(), w.data(), with_bias ? b.data() : nullptr}), ref, magnitude, "Gemm");
    }
  }
}

TEST(conv2d_and_gemm_reject_bad_nodes) {
  std::vector<float> w(64 * 3 * 3 * 16, 0.f);
  const auto conv = [&](const Shape& w_shape, bool constant = true) {
    FakeNode node("Conv2d");
    node.input(DType::kF32, {1, 8, 8, 16}).input(DType::kF32, w_shape, constant ? w.data() : nullptr);
    return node;
  };
  FakeNode not_const = conv({64, 3, 3, 16}, false);
  CHECK_THROWS(make_op(not_const), "weights) must be a constant");
  FakeNode kernel = conv({64, 3, 3, 16});
  kernel.attr("kernel", std::vector<std::int64_t>{5, 5});
  CHECK_THROWS(make_op(kernel), "weights must have shape [out_c, kh, kw, in_c/groups] = [64, 5, 5, 16]");
  FakeNode groups = conv({64, 3, 3, 16});
  groups.attr("groups", std::vector<std::int64_t>{3});
  CHECK_THROWS(make_op(groups), "groups = 3 must be >= 1 and divide the 16 input channels");
  FakeNode pads = conv({64, 3, 3, 16});
  pads.attr("pads", std::vector<std::int64_t>{1, 1});
  CHECK_THROWS(make_op(pads), "'pads' must hold 4 integers, has 2");
  FakeNode negative = conv({64, 3, 3, 16});
  negative.attr("pads", std::vector<std::int64_t>{1, -1, 1, 1});
  CHECK_THROWS(make_op(negative), "'pads' value -1 must be >= 0");
  FakeNode dilated = conv({64, 3, 3, 16});
  dilated.attr("dilations", std::vector<std::int64_t>{5, 5});
  CHECK_THROWS(make_op(dilated), "dilated kernel");  // extent 11 > 8, reported by the geometry
  FakeNode bias = conv({64, 3, 3, 16});
  bias.input(DType::kF32, {63}, w.data());
  CHECK_THROWS(make_op(bias), "input 2 must have shape [64]");
  FakeNode act = conv({64, 3, 3, 16});
  act.attr("act", std::string("sigmoid"));
  CHECK_THROWS(make_op(act), "unsupported act 'sigmoid'");
  FakeNode gemm("Gemm");
  gemm.input(DType::kF32, {1, 16}).input(DType::kF32, {4, 15}, w.data());
  CHECK_THROWS(make_op(gemm), "must be [M, K] with K = 16");
}

int main() { return irnet_test::run_all(); }
