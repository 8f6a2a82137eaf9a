// Element-wise and per-channel ops (Clip, Relu, PRelu, ChannelAffine, Add,
// Softmax, LogSoftmax, SignPack with a threshold) against plain references,
// plus their attribute and shape validation.
#include <cmath>
#include <cstring>
#include <limits>

#include "bitpack/bitpack.h"

#include "op_test_util.h"

using namespace irnet_test;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

float clamp_ref(float y, float lo, float hi) {
  if (y < lo) return lo;
  if (y > hi) return hi;
  return y;
}

}  // namespace

TEST(clip_and_relu_match_reference) {
  std::mt19937 rng(1);
  for (const Shape& shape : {Shape{1}, Shape{3, 5}, Shape{2, 7, 9, 65}, Shape{40000}}) {
    const std::vector<float> x = random_floats(count_of(shape), rng);
    std::vector<float> clip_ref(x.size()), relu_ref(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      clip_ref[i] = clamp_ref(x[i], -1.f, 0.5f);
      relu_ref[i] = x[i] > 0.f ? x[i] : 0.f;
    }
    FakeNode clip("Clip");
    clip.input(DType::kF32, shape).attr("clip", std::vector<float>{-1.f, 0.5f});
    CHECK_CLOSE(run_op(*make_op(clip), {x.data()}), clip_ref, 0.f, "Clip");
    FakeNode relu("Relu");
    relu.input(DType::kF32, shape);
    CHECK_CLOSE(run_op(*make_op(relu), {x.data()}), relu_ref, 0.f, "Relu");
  }
}

TEST(clip_rejects_bad_attributes) {
  FakeNode missing("Clip");
  missing.input(DType::kF32, {4});
  CHECK_THROWS(make_op(missing), "'clip' [lo, hi] is required");
  FakeNode empty("Clip");
  empty.input(DType::kF32, {4}).attr("clip", std::vector<float>{1.f, -1.f});
  CHECK_THROWS(make_op(empty), "is empty");
  FakeNode count("Clip");
  count.input(DType::kF32, {4}).attr("clip", std::vector<float>{1.f});
  CHECK_THROWS(make_op(count), "must hold 2 floats");
  FakeNode type("Clip");
  type.input(DType::kF32, {4}).attr("clip", std::vector<std::int64_t>{0, 1});
  CHECK_THROWS(make_op(type), "'clip'");
  FakeNode bits("Relu");
  bits.input(DType::kBits, {4, 64});
  CHECK_THROWS(make_op(bits), "must be f32");
}

TEST(prelu_per_channel_and_scalar) {
  std::mt19937 rng(2);
  const Shape shape = {2, 5, 3, 7};
  const std::vector<float> x = random_floats(count_of(shape), rng);
  for (const Shape& slope_shape : {Shape{7}, Shape{1}}) {
    const std::vector<float> slope = random_floats(count_of(slope_shape), rng);
    std::vector<float> ref(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float s = slope.size() == 1 ? slope[0] : slope[i % 7];
      ref[i] = x[i] >= 0.f ? x[i] : s * x[i];
    }
    FakeNode node("PRelu");
    node.input(DType::kF32, shape).input(DType::kF32, slope_shape, slope.data());
    CHECK_CLOSE(run_op(*make_op(node), {x.data(), slope.data()}), ref, 0.f, "PRelu");
  }
  FakeNode bad("PRelu");
  bad.input(DType::kF32, shape).input(DType::kF32, {5});
  CHECK_THROWS(make_op(bad), "slope must have shape [7]");
}

TEST(channel_affine_with_each_activation) {
  std::mt19937 rng(3);
  for (const Shape& shape : {Shape{1, 4, 4, 16}, Shape{3, 130}, Shape{2, 3, 5, 63}}) {
    const std::size_t C = static_cast<std::size_t>(shape.back());
    const std::vector<float> x = random_floats(count_of(shape), rng);
    const std::vector<float> scale = random_floats(C, rng), bias = random_floats(C, rng);
    struct Act { const char* name; float lo, hi; };
    for (const Act& act : {Act{"none", -kInf, kInf}, Act{"relu", 0.f, kInf}, Act{"clip", -1.f, 1.f}}) {
      std::vector<float> ref(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float prod = x[i] * scale[i % C];
        ref[i] = clamp_ref(prod + bias[i % C], act.lo, act.hi);
      }
      FakeNode node("ChannelAffine");
      node.input(DType::kF32, shape).input(DType::kF32, {shape.back()}, scale.data())
          .input(DType::kF32, {shape.back()}, bias.data()).attr("act", std::string(act.name));
      if (std::string(act.name) == "clip") node.attr("clip", std::vector<float>{-1.f, 1.f});
      CHECK_CLOSE(run_op(*make_op(node), {x.data(), scale.data(), bias.data()}), ref, 0.f, act.name);
    }
  }
  FakeNode bad_act("ChannelAffine");
  bad_act.input(DType::kF32, {2, 4}).input(DType::kF32, {4}).input(DType::kF32, {4}).attr("act", std::string("gelu"));
  CHECK_THROWS(make_op(bad_act), "unsupported act 'gelu' (supported: none, relu, clip)");
  FakeNode clip_missing("ChannelAffine");
  clip_missing.input(DType::kF32, {2, 4}).input(DType::kF32, {4}).input(DType::kF32, {4}).attr("act", std::string("clip"));
  CHECK_THROWS(make_op(clip_missing), "'clip' [lo, hi] is required");
  FakeNode bad_shape("ChannelAffine");
  bad_shape.input(DType::kF32, {2, 4}).input(DType::kF32, {4}).input(DType::kF32, {2});
  CHECK_THROWS(make_op(bad_shape), "bias must have shape [4]");
}

TEST(add_same_shape_channel_and_scalar_broadcast) {
  std::mt19937 rng(4);
  const Shape shape = {2, 6, 5, 64};
  const std::vector<float> a = random_floats(count_of(shape), rng);
  for (const Shape& b_shape : {shape, Shape{64}, Shape{1}}) {
    const std::vector<float> b = random_floats(count_of(b_shape), rng);
    for (bool clip : {false, true}) {
      std::vector<float> ref(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        const float bv = b.size() == a.size() ? b[i] : (b.size() == 1 ? b[0] : b[i % 64]);
        ref[i] = clip ? clamp_ref(a[i] + bv, -1.f, 1.f) : a[i] + bv;
      }
      FakeNode node("Add");
      node.input(DType::kF32, shape).input(DType::kF32, b_shape);
      if (clip) node.attr("act", std::string("clip")).attr("clip", std::vector<float>{-1.f, 1.f});
      CHECK_CLOSE(run_op(*make_op(node), {a.data(), b.data()}), ref, 0.f, "Add");
    }
  }
  FakeNode bad("Add");
  bad.input(DType::kF32, shape).input(DType::kF32, {6});
  CHECK_THROWS(make_op(bad), "must have a's shape");
  FakeNode arity("Add");
  arity.input(DType::kF32, shape);
  CHECK_THROWS(make_op(arity), "takes 2 input(s), has 1");
}

TEST(softmax_and_log_softmax_on_every_axis) {
  std::mt19937 rng(5);
  const Shape shape = {2, 3, 4, 5};
  const std::vector<float> x = random_floats(count_of(shape), rng, -20.f, 20.f);
  for (std::int64_t axis : {-1, 0, 1, 2, 3}) {
    const int ax = static_cast<int>(axis < 0 ? axis + 4 : axis);
    std::vector<float> soft(x.size()), logsoft(x.size());
    // Reference in double: for each element, normalize over its axis.
    std::vector<std::int64_t> stride = {60, 20, 5, 1};
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t pos = (static_cast<std::int64_t>(i) / stride[ax]) % shape[ax];
      const std::int64_t base = static_cast<std::int64_t>(i) - pos * stride[ax];
      double sum = 0.0;
      for (std::int64_t k = 0; k < shape[ax]; ++k) sum += std::exp(static_cast<double>(x[base + k * stride[ax]]));
      soft[i] = static_cast<float>(std::exp(static_cast<double>(x[i])) / sum);
      logsoft[i] = static_cast<float>(x[i] - std::log(sum));
    }
    FakeNode s("Softmax");
    s.input(DType::kF32, shape).attr("axis", std::vector<std::int64_t>{axis});
    CHECK_CLOSE(run_op(*make_op(s), {x.data()}), soft, 1e-5f, "Softmax");
    FakeNode l("LogSoftmax");
    l.input(DType::kF32, shape).attr("axis", std::vector<std::int64_t>{axis});
    CHECK_CLOSE(run_op(*make_op(l), {x.data()}), logsoft, 1e-5f, "LogSoftmax");
  }
  FakeNode bad("Softmax");
  bad.input(DType::kF32, shape).attr("axis", std::vector<std::int64_t>{4});
  CHECK_THROWS(make_op(bad), "'axis' = 4 is out of range for rank 4");
}

TEST(sign_pack_with_threshold_packs_the_sign_of_the_sum) {
  // [2, 3, 5, 70]: 30 rows of 70 channels (a tail word), a per-channel threshold
  // with x = -t in some places (sum +0: bit 0); chunked runs must agree with the
  // reference over all rows.
  std::mt19937 rng(7);
  const Shape shape = {2, 3, 5, 70};
  std::vector<float> x = random_floats(count_of(shape), rng);
  const std::vector<float> t = random_floats(70, rng, -1.f, 1.f);
  for (std::size_t i = 0; i < x.size(); i += 3) x[i] = -t[i % 70];
  const std::size_t rows = x.size() / 70, words = irnet::packed_words(70);
  std::vector<irnet::BitWord> ref(rows * words);
  irnet::pack_signs_threshold_ref(x.data(), rows, 70, t.data(), ref.data());
  FakeNode node("SignPack");
  node.input(DType::kF32, shape).input(DType::kF32, {70}, t.data());
  const std::vector<float> y = run_op(*make_op(node), {x.data(), t.data()});
  std::vector<irnet::BitWord> got(rows * words);
  CHECK_EQ(y.size() * sizeof(float), got.size() * sizeof(irnet::BitWord));
  std::memcpy(got.data(), y.data(), got.size() * sizeof(irnet::BitWord));
  CHECK(got == ref);
  // Without the threshold the same x packs differently (the test can tell them apart).
  std::vector<irnet::BitWord> plain(rows * words);
  irnet::pack_signs_ref(x.data(), rows, 70, plain.data());
  CHECK(plain != ref);
}

TEST(sign_pack_rejects_bad_thresholds) {
  const std::vector<float> t(8, 0.5f);
  FakeNode shape("SignPack");
  shape.input(DType::kF32, {2, 7}).input(DType::kF32, {8}, t.data());
  CHECK_THROWS(make_op(shape), "input 1 must have shape [7], got [8]");
  FakeNode activation("SignPack");
  activation.input(DType::kF32, {2, 8}).input(DType::kF32, {8});
  CHECK_THROWS(make_op(activation), "input 1 must be a constant");
  FakeNode dtype("SignPack");
  dtype.input(DType::kF32, {2, 8}).input(DType::kI32, {8}, t.data());
  CHECK_THROWS(make_op(dtype), "input 1");
  FakeNode three("SignPack");
  three.input(DType::kF32, {2, 8}).input(DType::kF32, {8}, t.data()).input(DType::kF32, {8}, t.data());
  CHECK_THROWS(make_op(three), "takes 1 or 2 inputs, has 3");
}

TEST(op_table_knows_every_float_op) {
  for (const char* name : {"Conv2d", "Gemm", "ChannelAffine", "Clip", "Relu", "PRelu", "Add", "MaxPool",
                           "AveragePool", "GlobalAveragePool", "Reshape", "Transpose", "Slice", "Pad",
                           "Concat", "Softmax", "LogSoftmax"}) {
    CHECK(irnet::find_op_factory(name) != nullptr);
    CHECK(irnet::known_op_names().find(name) != std::string::npos);
  }
  CHECK(irnet::find_op_factory("Sigmoid") == nullptr);
}

int main() { return irnet_test::run_all(); }
