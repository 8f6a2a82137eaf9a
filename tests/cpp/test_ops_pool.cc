// MaxPool, AveragePool (count_include_pad 0/1, pads, ceil_mode) and
// GlobalAveragePool against per-tap references, plus attribute validation.
#include <cstring>
#include <iterator>
#include <limits>

#include "irnet/kernels.h"
#include "op_test_util.h"
#include "pool/pool_kernel.h"

using namespace irnet_test;

namespace {

struct PoolCase {
  Shape x;  // N, H, W, C
  std::int64_t kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
  bool ceil_mode;
};

// Output size by definition: the number of window starts o*s - p_begin that
// begin at or before the last padded position a full window fits in (floor),
// or (ceil) that begin inside the input or the begin padding.
std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t pb, std::int64_t pe,
                      std::int64_t d, bool ceil_mode) {
  const std::int64_t extent = d * (k - 1) + 1;
  std::int64_t n = 0;
  for (std::int64_t o = 0;; ++o) {
    const std::int64_t start = o * s - pb;
    const bool fits = start + extent <= in + pe;
    const bool ceil_ok = ceil_mode && start < in && o * s < in + pb + pe - extent + s;
    if (!(fits || ceil_ok)) break;
    n = o + 1;
  }
  return n;
}

FakeNode pool_node(const char* op, const PoolCase& c) {
  FakeNode node(op);
  node.input(DType::kF32, c.x)
      .attr("kernel", std::vector<std::int64_t>{c.kh, c.kw})
      .attr("strides", std::vector<std::int64_t>{c.sh, c.sw})
      .attr("pads", std::vector<std::int64_t>{c.pt, c.pl, c.pb, c.pr})
      .attr("ceil_mode", std::vector<std::int64_t>{c.ceil_mode ? 1 : 0});
  if (c.dh != 1 || c.dw != 1) node.attr("dilations", std::vector<std::int64_t>{c.dh, c.dw});
  return node;
}

// mode 0: max; 1: average without padding; 2: average counting explicit padding.
std::vector<float> pool_ref(const PoolCase& c, const std::vector<float>& x, int mode, Shape* out_shape) {
  const std::int64_t N = c.x[0], H = c.x[1], W = c.x[2], C = c.x[3];
  const std::int64_t OH = out_size(H, c.kh, c.sh, c.pt, c.pb, c.dh, c.ceil_mode);
  const std::int64_t OW = out_size(W, c.kw, c.sw, c.pl, c.pr, c.dw, c.ceil_mode);
  *out_shape = {N, OH, OW, C};
  std::vector<float> y;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow)
        for (std::int64_t ch = 0; ch < C; ++ch) {
          float m = -std::numeric_limits<float>::infinity(), sum = 0.f;
          int inside = 0, in_padded = 0;
          for (std::int64_t i = 0; i < c.kh; ++i)
            for (std::int64_t j = 0; j < c.kw; ++j) {
              const std::int64_t ih = oh * c.sh - c.pt + i * c.dh, iw = ow * c.sw - c.pl + j * c.dw;
              if (ih >= -c.pt && ih < H + c.pb && iw >= -c.pl && iw < W + c.pr) ++in_padded;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const float v = x[((n * H + ih) * W + iw) * C + ch];
              m = std::max(m, v);
              sum += v;
              ++inside;
            }
          y.push_back(mode == 0 ? m : sum / static_cast<float>(mode == 1 ? inside : in_padded));
        }
  return y;
}

}  // namespace

TEST(pools_match_reference_over_shape_matrix) {
  std::mt19937 rng(11);
  // x, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil
  const PoolCase cases[] = {
      {{1, 8, 8, 16}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},   // ResNet max pool
      {{2, 7, 9, 3}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true},
      {{1, 5, 5, 1}, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true},     // last ceil window dropped
      {{1, 6, 7, 65}, 2, 3, 1, 2, 0, 2, 1, 0, 1, 1, false},   // asymmetric pads
      {{1, 6, 7, 65}, 2, 3, 1, 2, 0, 2, 1, 0, 1, 1, true},
      {{2, 8, 8, 64}, 8, 8, 1, 1, 0, 0, 0, 0, 1, 1, false},   // ResNet-20 average pool 8
      {{1, 4, 4, 130}, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {{1, 1, 1, 5}, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, false},    // tiny
      {{1, 9, 8, 16}, 3, 2, 2, 1, 3, 0, 2, 1, 2, 1, false},   // dilation (MaxPool only)
      {{1, 9, 8, 16}, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, true},
      {{1, 1, 2, 3}, 2, 1, 1, 1, 2, 0, 1, 0, 3, 1, false},    // dilated window with no tap inside: -inf
      {{1, 11, 10, 63}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false}, // channel blocks + tail
      {{1, 7, 6, 512}, 3, 3, 2, 2, 0, 1, 2, 0, 1, 1, true},
      {{1, 5, 5, 1}, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false},
  };
  for (const PoolCase& c : cases) {
    const std::vector<float> x = random_floats(count_of(c.x), rng);
    Shape ref_shape;
    const std::vector<float> max_ref = pool_ref(c, x, 0, &ref_shape);
    const auto max_op = make_op(pool_node("MaxPool", c));
    CHECK(max_op->outputs()[0].shape == ref_shape);
    CHECK_CLOSE(run_op(*max_op, {x.data()}), max_ref, 0.f, "MaxPool");
    if (c.dh != 1 || c.dw != 1) continue;
    for (int include_pad : {0, 1}) {
      FakeNode node = pool_node("AveragePool", c);
      node.attr("count_include_pad", std::vector<std::int64_t>{include_pad});
      const auto avg_op = make_op(node);
      CHECK(avg_op->outputs()[0].shape == ref_shape);
      CHECK_CLOSE(run_op(*avg_op, {x.data()}), pool_ref(c, x, 1 + include_pad, &ref_shape), 0.f,
                  include_pad ? "AveragePool count_include_pad=1" : "AveragePool count_include_pad=0");
    }
  }
}

TEST(max_pool_ties_signed_zeros_and_nan_match_reference_bits) {
  // Values from {-0, +0, -1, 1, NaN}: many ties. The max keeps the first of
  // equal values in tap order and skips NaN, exactly as the reference does;
  // compared bit for bit (== cannot tell -0 from +0).
  std::mt19937 rng(13);
  const float values[] = {-0.f, 0.f, -1.f, 1.f, std::numeric_limits<float>::quiet_NaN()};
  const PoolCase c = {{1, 9, 9, 37}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false};
  std::vector<float> x(count_of(c.x));
  for (float& v : x) v = values[rng() % 5];
  Shape ref_shape;
  const std::vector<float> ref = pool_ref(c, x, 0, &ref_shape);
  const std::vector<float> got = run_op(*make_op(pool_node("MaxPool", c)), {x.data()});
  CHECK_EQ(got.size(), ref.size());
  CHECK(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
}

TEST(pools_3x3_interior_windows_match_reference_bits) {
  // 3x3 pools run their interior windows (all 9 taps inside) through a
  // separate unrolled path and the border windows through the general walk:
  // every channel block (64 and 32-wide vector blocks, single vectors, the
  // last C % 4 floats), strides 1 and 2, symmetric, asymmetric and no pads.
  // Values with ties between -0 and +0, quiet and signalling NaNs and
  // infinities: MaxPool compared bit for bit; AveragePool on random floats.
  std::mt19937 rng(14);
  const float values[] = {-0.f, 0.f, -1.f, 1.f, std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::signaling_NaN(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::infinity()};
  for (std::int64_t C : {1, 3, 4, 16, 20, 32, 63, 64, 65, 128, 130}) {
    // x, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil
    const PoolCase cases[] = {
        {{1, 11, 9, C}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false},  // ResNet stem pool
        {{2, 6, 7, C}, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, false},   // every window interior
        {{1, 7, 8, C}, 3, 3, 2, 1, 0, 2, 1, 0, 1, 1, true},    // asymmetric pads
        {{1, 9, 9, C}, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, false},   // dilation 2: interior taps 2 apart
    };
    for (const PoolCase& c : cases) {
      std::vector<float> x(count_of(c.x));
      for (float& v : x) v = values[rng() % 8];
      Shape ref_shape;
      const std::vector<float> ref = pool_ref(c, x, 0, &ref_shape);
      const std::vector<float> got = run_op(*make_op(pool_node("MaxPool", c)), {x.data()});
      CHECK_EQ(got.size(), ref.size());
      CHECK(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
      if (c.dh != 1) continue;
      const std::vector<float> r = random_floats(count_of(c.x), rng);
      for (int include_pad : {0, 1}) {
        FakeNode node = pool_node("AveragePool", c);
        node.attr("count_include_pad", std::vector<std::int64_t>{include_pad});
        CHECK_CLOSE(run_op(*make_op(node), {r.data()}), pool_ref(c, r, 1 + include_pad, &ref_shape), 0.f,
                    "AveragePool 3x3");
      }
    }
  }
}

TEST(max_pool_subnormals_match_reference_bits) {
  // Subnormals, which ARMv7 NEON's compare would flush to zero (a positive
  // subnormal would lose to +0 there): the input rows a chunk of output rows
  // reads are checked for them first. All values from a set with subnormals
  // of both signs, the smallest and the largest; then ordinary values with a single subnormal, put in every
  // input row in turn (the first and last rows a window reads included), in
  // one image of two, so a wrong row range takes the NEON path and differs.
  std::mt19937 rng(15);
  const float min_normal = std::numeric_limits<float>::min();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float largest_subnormal = min_normal - tiny;
  const float values[] = {-0.f, 0.f, tiny, -tiny, min_normal / 2, -min_normal / 2, min_normal, -1.f, largest_subnormal};
  for (std::int64_t C : {4, 64, 65}) {
    const PoolCase stem = {{2, 11, 9, C}, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false};
    std::vector<float> x(count_of(stem.x));
    for (float& v : x) v = values[rng() % 9];
    Shape ref_shape;
    CHECK(std::memcmp(run_op(*make_op(pool_node("MaxPool", stem)), {x.data()}).data(),
                      pool_ref(stem, x, 0, &ref_shape).data(), count_of(ref_shape) * sizeof(float)) == 0);
    for (std::int64_t row = 0; row < stem.x[1]; ++row) {
      for (float& v : x) v = (rng() % 2) ? 0.f : -1.f;
      const std::int64_t n = row % 2, col = static_cast<std::int64_t>(rng() % stem.x[2]);
      x[static_cast<std::size_t>(((n * stem.x[1] + row) * stem.x[2] + col) * C + rng() % C)] =
          row % 3 == 0 ? largest_subnormal : tiny;
      const std::vector<float> ref = pool_ref(stem, x, 0, &ref_shape);
      const std::vector<float> got = run_op(*make_op(pool_node("MaxPool", stem)), {x.data()});
      CHECK(got.size() == ref.size() && std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
    }
  }
}

TEST(average_pool_2x2_stride_2_matches_reference_bits_in_every_variant) {
  // The vector variants' whole-2x2-window AveragePool (pool/average_pool_2x2.h)
  // against the per-tap reference, bit for bit, in every variant this CPU
  // runs: channel counts with and without the 4-vector blocks and a scalar
  // tail, odd heights and widths (the last row / column unread), both divisor
  // modes. Geometries with padding take the portable walk in every variant.
  // Values (ARMv7 NEON checks each output row and sums it again on VFP where
  // its flush-to-zero or default NaN could change a bit):
  //   0: random;
  //   1: signed zeros and values at the 2^-101 bound of that check (windows of
  //      four -0, whose sum from +0 is +0; no row is summed again);
  //   2, 3: normal values whose sums or quotients are subnormal, just under
  //      the bound or near the smallest normal (every row is summed again);
  //   4: random, with one edge value (subnormal, infinity, overflow, just
  //      under the bound) in every other input row;
  //   5: random, with NaNs with payloads, one per window at most (with two,
  //      which one the sum returns depends on the operand order the compiler picks);
  //   6: random, with one window per output row of three zeros and a
  //      subnormal (whose quarter NEON would flush), the subnormal at each of
  //      the four taps in turn: a row whose only hazard is in one tap.
  std::mt19937 rng(16);
  const float bound = std::ldexp(1.f, -101), under_bound = std::nextafter(bound, 0.f);
  const float min_normal = std::numeric_limits<float>::min();
  const float at_bound[] = {0.f, -0.f, bound, -bound, -2.f * bound, 1.f};
  const float under[] = {0.f, -0.f, under_bound, -bound, bound};  // under_bound - bound = -2^-125
  const float tiny[] = {0.f, -0.f, min_normal, -1.5f * min_normal};
  const float edges[] = {std::numeric_limits<float>::denorm_min(), -min_normal / 3, under_bound,
                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::max()};
  const auto nan_with_payload = [&rng] {
    std::uint32_t bits = 0x7F800000u | (static_cast<std::uint32_t>(rng()) & 0x003FFFFFu) | 1u;
    if (rng() % 2) bits |= 0x00400000u;  // quiet, else signalling
    if (rng() % 2) bits |= 0x80000000u;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  };
  for (const irnet::PoolKernel* kernel : irnet::supported_kernels<irnet::PoolKernel>()) {
    irnet::force_kernel("pool", kernel->name);
    for (const Shape& shape : {Shape{1, 4, 6, 32}, Shape{2, 5, 7, 16}, Shape{1, 3, 3, 3}, Shape{1, 6, 4, 37},
                               Shape{1, 4, 4, 128}, Shape{1, 2, 8, 12}, Shape{1, 8, 8, 1}, Shape{1, 28, 28, 64}}) {
      const std::int64_t H = shape[1], W = shape[2], C = shape[3];
      const auto at = [&](std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t ch) {
        return static_cast<std::size_t>(((n * H + h) * W + w) * C + ch);
      };
      for (int values = 0; values < 7; ++values) {
        const PoolCase c = {shape, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false};
        std::vector<float> x = random_floats(count_of(shape), rng);
        if (values == 1)
          for (float& v : x) v = rng() % 2 ? -0.f : at_bound[rng() % std::size(at_bound)];
        if (values == 2)
          for (float& v : x) v = under[rng() % std::size(under)];
        if (values == 3)
          for (float& v : x) v = tiny[rng() % std::size(tiny)];
        if (values == 4)
          for (std::int64_t n = 0; n < shape[0]; ++n)
            for (std::int64_t h = 0; h < H; h += 2)
              x[at(n, h, static_cast<std::int64_t>(rng() % W), static_cast<std::int64_t>(rng() % C))] =
                  edges[rng() % std::size(edges)];
        if (values == 5)
          for (std::int64_t n = 0; n < shape[0]; ++n)
            for (std::int64_t oh = 0; oh < H / 2; ++oh)
              for (std::int64_t ow = 0; ow < W / 2; ++ow)
                for (std::int64_t ch = 0; ch < C; ++ch)
                  if (rng() % 3 == 0)
                    x[at(n, 2 * oh + static_cast<std::int64_t>(rng() % 2), 2 * ow + static_cast<std::int64_t>(rng() % 2),
                         ch)] = nan_with_payload();
        if (values == 6)
          for (std::int64_t n = 0; n < shape[0]; ++n)
            for (std::int64_t oh = 0; oh < H / 2; ++oh) {
              const std::int64_t tap = (n + oh) % 4, ow = static_cast<std::int64_t>(rng() % (W / 2));
              const std::int64_t ch = static_cast<std::int64_t>(rng() % C);
              for (std::int64_t t = 0; t < 4; ++t)
                x[at(n, 2 * oh + t / 2, 2 * ow + t % 2, ch)] = t == tap ? -min_normal / 3 : 0.f;
            }
        for (int include_pad : {0, 1}) {
          FakeNode node = pool_node("AveragePool", c);
          node.attr("count_include_pad", std::vector<std::int64_t>{include_pad});
          const auto op = make_op(node);
          CHECK_EQ(op->kernel_name(), std::string(kernel->name));
          Shape ref_shape;
          const std::vector<float> ref = pool_ref(c, x, 1 + include_pad, &ref_shape);
          const std::vector<float> got = run_op(*op, {x.data()});
          CHECK(got.size() == ref.size() && std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) == 0);
        }
      }
    }
  }
  irnet::force_kernel("pool", "auto");
}

TEST(ceil_mode_output_sizes_follow_pytorch) {
  // PyTorch: MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5x5 gives 3x3 (the
  // fourth window would start in the end padding); on 6x6 it gives 4x4.
  for (auto [in, expected] : {std::pair<std::int64_t, std::int64_t>{5, 3}, {6, 4}}) {
    FakeNode node = pool_node("MaxPool", {{1, in, in, 2}, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, true});
    CHECK(make_op(node)->outputs()[0].shape == (Shape{1, expected, expected, 2}));
  }
}

TEST(global_average_pool_matches_reference) {
  std::mt19937 rng(12);
  for (const Shape& shape : {Shape{1, 7, 7, 512}, Shape{2, 3, 5, 3}, Shape{1, 1, 1, 1}}) {
    const std::vector<float> x = random_floats(count_of(shape), rng);
    std::vector<float> ref;
    const std::int64_t HW = shape[1] * shape[2], C = shape[3];
    for (std::int64_t n = 0; n < shape[0]; ++n)
      for (std::int64_t c = 0; c < C; ++c) {
        float sum = 0.f;
        for (std::int64_t p = 0; p < HW; ++p) sum += x[(n * HW + p) * C + c];
        ref.push_back(sum / static_cast<float>(HW));
      }
    FakeNode node("GlobalAveragePool");
    node.input(DType::kF32, shape);
    const auto op = make_op(node);
    CHECK(op->outputs()[0].shape == (Shape{shape[0], 1, 1, C}));
    CHECK_CLOSE(run_op(*op, {x.data()}), ref, 0.f, "GlobalAveragePool");
  }
}

TEST(pools_reject_bad_attributes) {
  const PoolCase base = {{1, 8, 8, 4}, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false};
  FakeNode no_kernel("MaxPool");
  no_kernel.input(DType::kF32, {1, 8, 8, 4});
  CHECK_THROWS(make_op(no_kernel), "'kernel' [kh, kw] is required");
  FakeNode big_pad = pool_node("MaxPool", base);
  big_pad.attr("pads", std::vector<std::int64_t>{3, 0, 0, 0});
  CHECK_THROWS(make_op(big_pad), "must be smaller than the window extent 3");
  FakeNode zero_stride = pool_node("AveragePool", base);
  zero_stride.attr("strides", std::vector<std::int64_t>{0, 1});
  CHECK_THROWS(make_op(zero_stride), "'strides' value 0 must be >= 1");
  FakeNode too_big = pool_node("MaxPool", {{1, 2, 2, 4}, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, false});
  CHECK_THROWS(make_op(too_big), "larger than the padded height");
  FakeNode cip = pool_node("AveragePool", base);
  cip.attr("count_include_pad", std::vector<std::int64_t>{2});
  CHECK_THROWS(make_op(cip), "'count_include_pad' must be 0 or 1");
  FakeNode dil = pool_node("AveragePool", base);
  dil.attr("dilations", std::vector<std::int64_t>{2, 2});
  CHECK_THROWS(make_op(dil), "'dilations' is not supported");
  FakeNode ceil = pool_node("MaxPool", base);
  ceil.attr("ceil_mode", std::vector<std::int64_t>{3});
  CHECK_THROWS(make_op(ceil), "'ceil_mode' must be 0 or 1");
  FakeNode rank("GlobalAveragePool");
  rank.input(DType::kF32, {4, 4});
  CHECK_THROWS(make_op(rank), "rank 4");
}

int main() { return irnet_test::run_all(); }
