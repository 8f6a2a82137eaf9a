// Data-movement ops: Reshape, Transpose, Slice (steps 2 and negative), Pad
// (any axis, incl. channels), Concat, against index-by-index references.
#include "op_test_util.h"

using namespace irnet_test;

namespace {

// Row-major index <-> multi-index helpers for the references.
std::vector<std::int64_t> unravel(std::size_t i, const Shape& s) {
  std::vector<std::int64_t> idx(s.size());
  for (std::size_t k = s.size(); k-- > 0;) {
    idx[k] = static_cast<std::int64_t>(i % s[k]);
    i /= s[k];
  }
  return idx;
}
std::size_t ravel(const std::vector<std::int64_t>& idx, const Shape& s) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < s.size(); ++k) i = i * s[k] + idx[k];
  return i;
}

}  // namespace

TEST(transpose_matches_reference) {
  std::mt19937 rng(21);
  const Shape shape = {2, 3, 4, 5};
  const std::vector<float> x = random_floats(count_of(shape), rng);
  for (const std::vector<std::int64_t>& perm :
       {std::vector<std::int64_t>{0, 3, 1, 2}, {0, 2, 3, 1}, {3, 2, 1, 0}, {0, 1, 2, 3}, {1, 0, 3, 2}}) {
    Shape out_shape(4);
    for (int k = 0; k < 4; ++k) out_shape[k] = shape[perm[k]];
    std::vector<float> ref(x.size());
    for (std::size_t o = 0; o < ref.size(); ++o) {
      const auto oi = unravel(o, out_shape);
      std::vector<std::int64_t> ii(4);
      for (int k = 0; k < 4; ++k) ii[perm[k]] = oi[k];
      ref[o] = x[ravel(ii, shape)];
    }
    FakeNode node("Transpose");
    node.input(DType::kF32, shape).attr("perm", perm);
    const auto op = make_op(node);
    CHECK(op->outputs()[0].shape == out_shape);
    CHECK_CLOSE(run_op(*op, {x.data()}), ref, 0.f, "Transpose");
  }
  FakeNode bad("Transpose");
  bad.input(DType::kF32, shape).attr("perm", std::vector<std::int64_t>{0, 1, 1, 2});
  CHECK_THROWS(make_op(bad), "is not a permutation of 0..3");
}

TEST(slice_steps_and_option_a_shortcut) {
  std::mt19937 rng(22);
  const Shape shape = {2, 8, 7, 16};
  const std::vector<float> x = random_floats(count_of(shape), rng);
  struct SliceCase { std::vector<std::int64_t> starts, ends, steps; };
  const SliceCase cases[] = {
      {{0, 0, 0, 0}, {2, 8, 7, 16}, {1, 2, 2, 1}},   // ResNet-20 option A: x[:, ::2, ::2, :]
      {{1, 1, 2, 3}, {2, 7, 7, 9}, {1, 3, 2, 2}},
      {{0, 7, 6, 15}, {2, -1, -1, -1}, {1, -1, -2, -3}},  // negative steps down to index 0
      {{1, 2, 0, 0}, {2, 3, 7, 16}, {1, 1, 1, 1}},
  };
  for (const SliceCase& c : cases) {
    Shape out_shape(4);
    for (int k = 0; k < 4; ++k) {
      std::int64_t n = 0;
      for (std::int64_t i = c.starts[k]; c.steps[k] > 0 ? i < c.ends[k] : i > c.ends[k]; i += c.steps[k]) ++n;
      out_shape[k] = n;
    }
    std::vector<float> ref(count_of(out_shape));
    for (std::size_t o = 0; o < ref.size(); ++o) {
      auto idx = unravel(o, out_shape);
      for (int k = 0; k < 4; ++k) idx[k] = c.starts[k] + idx[k] * c.steps[k];
      ref[o] = x[ravel(idx, shape)];
    }
    FakeNode node("Slice");
    node.input(DType::kF32, shape).attr("starts", c.starts).attr("ends", c.ends).attr("steps", c.steps);
    const auto op = make_op(node);
    CHECK(op->outputs()[0].shape == out_shape);
    CHECK_CLOSE(run_op(*op, {x.data()}), ref, 0.f, "Slice");
  }
  FakeNode zero_step("Slice");
  zero_step.input(DType::kF32, {4}).attr("starts", std::vector<std::int64_t>{0})
      .attr("ends", std::vector<std::int64_t>{4}).attr("steps", std::vector<std::int64_t>{0});
  CHECK_THROWS(make_op(zero_step), "axis 0 (dim 4): start 0, end 4, step 0");
  FakeNode unclamped("Slice");
  unclamped.input(DType::kF32, {4}).attr("starts", std::vector<std::int64_t>{0})
      .attr("ends", std::vector<std::int64_t>{9});
  CHECK_THROWS(make_op(unclamped), "is not a clamped, non-empty slice");
  FakeNode count("Slice");
  count.input(DType::kF32, {4, 4}).attr("starts", std::vector<std::int64_t>{0})
      .attr("ends", std::vector<std::int64_t>{2, 2});
  CHECK_THROWS(make_op(count), "'starts' must hold 2 integers");
}

TEST(pad_any_axis_with_value) {
  std::mt19937 rng(23);
  const Shape shape = {1, 4, 4, 16};
  const std::vector<float> x = random_floats(count_of(shape), rng);
  for (const std::vector<std::int64_t>& pads :
       {std::vector<std::int64_t>{0, 0, 0, 8, 0, 0, 0, 8},     // ResNet-20 option A: zero channels
        std::vector<std::int64_t>{0, 1, 2, 0, 1, 0, 3, 1},
        std::vector<std::int64_t>{0, 0, 0, 0, 0, 0, 0, 0}}) {
    Shape out_shape(4);
    for (int k = 0; k < 4; ++k) out_shape[k] = shape[k] + pads[k] + pads[4 + k];
    std::vector<float> ref(count_of(out_shape));
    for (std::size_t o = 0; o < ref.size(); ++o) {
      auto idx = unravel(o, out_shape);
      bool inside = true;
      for (int k = 0; k < 4; ++k) {
        idx[k] -= pads[k];
        inside = inside && idx[k] >= 0 && idx[k] < shape[k];
      }
      ref[o] = inside ? x[ravel(idx, shape)] : -1.5f;
    }
    FakeNode node("Pad");
    node.input(DType::kF32, shape).attr("pads", pads).attr("value", std::vector<float>{-1.5f});
    const auto op = make_op(node);
    CHECK(op->outputs()[0].shape == out_shape);
    CHECK_CLOSE(run_op(*op, {x.data()}), ref, 0.f, "Pad");
  }
  FakeNode negative("Pad");
  negative.input(DType::kF32, {2, 2}).attr("pads", std::vector<std::int64_t>{0, -1, 0, 0});
  CHECK_THROWS(make_op(negative), "pad -1 is not supported");
  FakeNode huge("Pad");
  huge.input(DType::kF32, {2, 2}).attr("pads", std::vector<std::int64_t>{1LL << 40, 1LL << 40, 0, 0});
  CHECK_THROWS(make_op(huge), "is empty or too large");
  FakeNode count("Pad");
  count.input(DType::kF32, {2, 2}).attr("pads", std::vector<std::int64_t>{1, 1});
  CHECK_THROWS(make_op(count), "must hold 2 * rank = 4 values");
}

TEST(concat_along_each_axis) {
  std::mt19937 rng(24);
  const Shape a_shape = {2, 3, 4, 5};
  const std::vector<float> a = random_floats(count_of(a_shape), rng);
  for (std::int64_t axis : {0, 1, 2, 3, -1}) {
    const int ax = static_cast<int>(axis < 0 ? axis + 4 : axis);
    Shape b_shape = a_shape, c_shape = a_shape;
    b_shape[ax] = 2;
    c_shape[ax] = 1;
    const std::vector<float> b = random_floats(count_of(b_shape), rng), c = random_floats(count_of(c_shape), rng);
    Shape out_shape = a_shape;
    out_shape[ax] = a_shape[ax] + 3;
    std::vector<float> ref(count_of(out_shape));
    for (std::size_t o = 0; o < ref.size(); ++o) {
      auto idx = unravel(o, out_shape);
      if (idx[ax] < a_shape[ax]) {
        ref[o] = a[ravel(idx, a_shape)];
      } else if (idx[ax] < a_shape[ax] + 2) {
        idx[ax] -= a_shape[ax];
        ref[o] = b[ravel(idx, b_shape)];
      } else {
        idx[ax] -= a_shape[ax] + 2;
        ref[o] = c[ravel(idx, c_shape)];
      }
    }
    FakeNode node("Concat");
    node.input(DType::kF32, a_shape).input(DType::kF32, b_shape).input(DType::kF32, c_shape)
        .attr("axis", std::vector<std::int64_t>{axis});
    const auto op = make_op(node);
    CHECK(op->outputs()[0].shape == out_shape);
    CHECK_CLOSE(run_op(*op, {a.data(), b.data(), c.data()}), ref, 0.f, "Concat");
  }
  FakeNode mismatch("Concat");
  mismatch.input(DType::kF32, {2, 3}).input(DType::kF32, {3, 3}).attr("axis", std::vector<std::int64_t>{1});
  CHECK_THROWS(make_op(mismatch), "must match input 0 [2, 3] on every axis but 1");
  FakeNode no_axis("Concat");
  no_axis.input(DType::kF32, {2, 3});
  CHECK_THROWS(make_op(no_axis), "'axis' is required");
}

TEST(reshape_keeps_element_order) {
  std::mt19937 rng(25);
  const std::vector<float> x = random_floats(2 * 3 * 4, rng);
  FakeNode node("Reshape");
  node.input(DType::kF32, {2, 3, 4}).attr("shape", std::vector<std::int64_t>{6, 4});
  const auto op = make_op(node);
  CHECK(op->outputs()[0].shape == (Shape{6, 4}));
  CHECK_CLOSE(run_op(*op, {x.data()}), x, 0.f, "Reshape");
  FakeNode wrong("Reshape");
  wrong.input(DType::kF32, {2, 3, 4}).attr("shape", std::vector<std::int64_t>{5, 4});
  CHECK_THROWS(make_op(wrong), "does not have the 24 elements");
  FakeNode huge("Reshape");
  huge.input(DType::kF32, {2, 3, 4}).attr("shape", std::vector<std::int64_t>{1LL << 40, 1LL << 40});
  CHECK_THROWS(make_op(huge), "more elements than input");
  FakeNode bits("Reshape");
  bits.input(DType::kBits, {2, 3, 64}).attr("shape", std::vector<std::int64_t>{2, 192});
  CHECK_THROWS(make_op(bits), "last (packed) axis 64");
  FakeNode bits_ok("Reshape");
  bits_ok.input(DType::kBits, {2, 3, 64}).attr("shape", std::vector<std::int64_t>{6, 64});
  CHECK(make_op(bits_ok)->outputs()[0].dtype == DType::kBits);
}

int main() { return irnet_test::run_all(); }
