// The fused BConv2d epilogue rows this build and CPU have (the "bconv_epilogue" kernel:
// AVX2 on x86, NEON on aarch64 and armv7) called directly and compared bit for bit with
// a scalar reference of bconv/bconv_epilogue.h: every output combination x
// residual (also in place) x clamp kind (signed zero bounds included), channel
// counts around the 8- and 16-channel steps and the 64-bit word (whole steps
// and tails, rows of several words), blocks of several rows with their own or
// shared bases, and y values that land on -0, +0, NaN, infinities and the
// clamp bounds; nothing past a block's outputs is written. Residuals and
// constants also take the values ARMv7 NEON would get wrong (subnormals, tiny
// normals, NaNs with a sign or payload): rows with such residuals and kernels
// that accept such constants must still match. BConv2d's tests
// cover the epilogue through whole convolutions; these reach the row loops'
// edge cases directly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "bconv/bconv_epilogue.h"
#include "bit_testing.h"
#include "check.h"
#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"

using irnet::BitWord;
using irnet::EpilogueClamp;
using irnet::EpilogueConstants;
using irnet::EpilogueRows;
using irnet_test::from_bits;

namespace {

const int kChannels[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 32, 48, 63, 64, 65, 72, 127, 128, 130, 192, 512};
const std::size_t kGuard = 9;  // floats / words after each output, which must stay untouched
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Subnormals, normals below 2^-102 and NaNs other than the default one.
const float kFlushHazards[] = {from_bits(0x00000001), from_bits(0x80000001), from_bits(0x007FFFFF),
                               std::ldexp(-1.f, -127), std::ldexp(1.f, -126), std::ldexp(-1.f, -110),
                               std::ldexp(1.5f, -103), from_bits(0xFFC00000), from_bits(0x7FC12345),
                               from_bits(0x7F800001)};
const int kNumFlushHazards = sizeof(kFlushHazards) / sizeof(kFlushHazards[0]);

int uniform_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

std::size_t words_per_row(int channels) { return (static_cast<std::size_t>(channels) + 63) / 64; }

// One block of rows: popcounts, bases (rows may share one), per-channel constants, residuals.
struct Block {
  int n = 0;
  std::size_t rows = 0;
  std::vector<std::int32_t> popcounts;
  std::vector<std::vector<std::int32_t>> base_arrays;
  std::vector<const std::int32_t*> bases;
  std::vector<float> multiplier, bias, residual;
  std::vector<std::int32_t> dir, limit;

  std::int32_t acc(std::size_t r, int o) const { return bases[r][o] - 2 * popcounts[r * n + o]; }
};

Block random_block(std::mt19937& rng, int n, std::size_t rows) {
  Block b;
  b.n = n;
  b.rows = rows;
  for (std::size_t i = 0; i < rows * n; ++i) b.popcounts.push_back(uniform_int(rng, 0, 300));
  b.base_arrays.resize(1 + rows / 2);
  for (auto& a : b.base_arrays)
    for (int o = 0; o < n; ++o) a.push_back(uniform_int(rng, 250, 350));
  for (std::size_t r = 0; r < rows; ++r) b.bases.push_back(b.base_arrays[r / 2].data());  // pairs share a base
  for (int o = 0; o < n; ++o) {
    // Multipliers 2^-s * m with a short mantissa; biases: zero of either sign,
    // exactly minus the product at some acc (y = +-0 there), or random.
    b.multiplier.push_back(std::ldexp(float(uniform_int(rng, -8, 8)), -uniform_int(rng, 0, 6)));
    const int kind = uniform_int(rng, 0, 3);
    b.bias.push_back(kind == 0   ? (uniform_int(rng, 0, 1) ? 0.f : -0.f)
                     : kind == 1 ? -(float(b.acc(0, o)) * b.multiplier[o])
                                 : std::uniform_real_distribution<float>(-3.f, 3.f)(rng));
    b.dir.push_back(uniform_int(rng, -1, 1));
    b.limit.push_back(uniform_int(rng, -40, 40));
  }
  const float specials[] = {0.f, -0.f, kNaN, kInf, -kInf, 1.f, -1.f};
  for (std::size_t i = 0; i < rows * n; ++i)
    b.residual.push_back(uniform_int(rng, 0, 3) == 0 ? specials[uniform_int(rng, 0, 6)]
                                                     : std::uniform_real_distribution<float>(-2.f, 2.f)(rng));
  // Every third row gets one value NEON on ARMv7 would flush or whose NaN it
  // would replace (the kernel must notice the row before writing any of it).
  for (std::size_t r = 0; r < rows; r += 3) {
    const float v = kFlushHazards[uniform_int(rng, 0, kNumFlushHazards - 1)];
    b.residual[r * n + static_cast<std::size_t>(uniform_int(rng, 0, n - 1))] = v;
  }
  return b;
}

float clamp_reference(float y, float lo, float hi) { return y < lo ? lo : (y > hi ? hi : y); }

// Scalar reference of the float rows (bconv_epilogue.h), y and bits.
void float_rows_reference(const Block& b, const EpilogueConstants& c, bool residual, EpilogueClamp clamp,
                          std::vector<float>* y, std::vector<BitWord>* bits) {
  const std::size_t words = words_per_row(b.n);
  y->assign(b.rows * b.n, 0.f);
  bits->assign(b.rows * words, 0);
  for (std::size_t r = 0; r < b.rows; ++r)
    for (int o = 0; o < b.n; ++o) {
      float v = static_cast<float>(b.acc(r, o)) * b.multiplier[o];
      v = v + b.bias[o];
      if (residual) v = v + b.residual[r * b.n + o];
      if (clamp != EpilogueClamp::kNone) v = clamp_reference(v, c.clamp_lo, c.clamp_hi);
      (*y)[r * b.n + o] = v;
      if (v < 0.f) (*bits)[r * words + o / 64] |= BitWord{1} << (o % 64);
    }
}

struct Bounds {
  EpilogueClamp clamp;
  float lo, hi;
};
// kMinMax only with nonzero bounds (its contract); kSelect with zeros of either sign.
const Bounds kBounds[] = {{EpilogueClamp::kNone, 0.f, 0.f},      {EpilogueClamp::kMinMax, -1.f, 1.f},
                          {EpilogueClamp::kMinMax, 0.5f, 0.75f}, {EpilogueClamp::kMinMax, -2.f, -0.5f},
                          {EpilogueClamp::kSelect, 0.f, 1.f},    {EpilogueClamp::kSelect, -0.f, 2.f},
                          {EpilogueClamp::kSelect, -1.f, -0.f},  {EpilogueClamp::kSelect, 0.f, 0.f},
                          {EpilogueClamp::kSelect, -0.f, 0.f},   {EpilogueClamp::kSelect, -0.f, -0.f}};

// The kernel under test: the selected "bconv_epilogue" variant when it has
// fused rows; tests pass trivially on builds without one.
const irnet::BconvEpilogueKernel* kernel() {
  const irnet::BconvEpilogueKernel* selected = irnet::selected_kernels().bconv_epilogue;
  return selected->float_rows != nullptr ? selected : nullptr;
}

// The kernel's float rows on block b against the scalar reference, bit for
// bit, for one output combination (outputs: 1 floats, 2 bits, 3 both) and
// residual mode (0 none, 1 separate, 2 in place).
EpilogueConstants float_constants(const Block& b, const Bounds& bounds) {
  EpilogueConstants c;
  c.channels = b.n;
  c.multiplier = b.multiplier.data();
  c.bias = b.bias.data();
  c.clamp_lo = bounds.lo;
  c.clamp_hi = bounds.hi;
  return c;
}

bool float_rows_match(const Block& b, const Bounds& bounds, int outputs, int residual_mode) {
  const std::size_t rows = b.rows;
  const int n = b.n;
  const bool store_float = outputs & 1, want_bits = outputs & 2, residual = residual_mode > 0;
  const bool in_place = residual_mode == 2 && store_float;
  const EpilogueConstants c = float_constants(b, bounds);
  std::vector<float> y_ref;
  std::vector<BitWord> bits_ref;
  float_rows_reference(b, c, residual, bounds.clamp, &y_ref, &bits_ref);
  // Outputs pre-filled with garbage: every float and word must be
  // written, and the guards after them must not.
  std::vector<float> y(rows * n + kGuard, kNaN);
  std::vector<BitWord> bits(rows * words_per_row(n) + kGuard, ~BitWord{0});
  if (in_place) std::copy(b.residual.begin(), b.residual.end(), y.begin());
  y_ref.resize(y.size(), kNaN);
  bits_ref.resize(bits.size(), ~BitWord{0});
  EpilogueRows block;
  block.count = rows;
  block.popcounts = b.popcounts.data();
  block.bases = b.bases.data();
  block.residual = residual ? (in_place ? y.data() : b.residual.data()) : nullptr;
  block.y = store_float ? y.data() : nullptr;
  block.bits = want_bits ? bits.data() : nullptr;
  kernel()->float_rows(store_float, want_bits, residual, bounds.clamp, false)(c, block);
  if (!store_float) y_ref.assign(y.size(), kNaN);  // outputs a row does not have: untouched
  if (!want_bits) bits_ref.assign(bits.size(), ~BitWord{0});
  return std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)) == 0 && bits == bits_ref;
}

bool constants_ok(const Block& b, const Bounds& bounds) {
  return kernel()->float_constants_ok == nullptr || kernel()->float_constants_ok(float_constants(b, bounds), false);
}

}  // namespace

TEST(fused_kernel_is_the_one_this_cpu_runs) {
#if defined(__aarch64__)
  CHECK(kernel() != nullptr && std::strcmp(kernel()->name, "bconv_epilogue_neon_a64") == 0);
#elif defined(__arm__)
  CHECK(kernel() != nullptr && std::strcmp(kernel()->name, "bconv_epilogue_neon_a32") == 0);
#elif defined(__x86_64__)
  if (irnet::cpu_runs_avx2_files())
    CHECK(kernel() != nullptr && std::strcmp(kernel()->name, "bconv_epilogue_avx2") == 0);
  else
    CHECK(kernel() == nullptr);
#else
  CHECK(kernel() == nullptr);
#endif
}

TEST(float_rows_match_scalar_reference_bits) {
  if (kernel() == nullptr) return;
  std::mt19937 rng(21);
  int cases = 0;
  for (int n : kChannels)
    for (std::size_t rows : {std::size_t{1}, std::size_t{2}, std::size_t{5}})
      for (const Bounds& bounds : kBounds)
        for (int outputs = 1; outputs <= 3; ++outputs)
          for (int residual_mode = 0; residual_mode < 3; ++residual_mode) {
            const Block b = random_block(rng, n, rows);
            CHECK(constants_ok(b, bounds));  // ordinary constants: the fused rows run
            CHECK(float_rows_match(b, bounds, outputs, residual_mode));
            ++cases;
          }
  CHECK_EQ(cases, 20 * 3 * 10 * 3 * 3);
}

// Constants at and beyond ARMv7 NEON's limits: multipliers and biases that
// are multiples of 2^-102 (accepted everywhere; sums of them land on tiny
// normals, which must not be flushed), and blocks with one subnormal, tiny or
// NaN constant, which a kernel with a constants check must refuse and any
// other kernel must compute exactly.
TEST(float_rows_exact_or_refused_at_flush_limits) {
  if (kernel() == nullptr) return;
  std::mt19937 rng(23);
  int refused = 0;
  for (int n : {8, 64, 130})
    for (int hazard = -1; hazard < kNumFlushHazards; ++hazard)
      for (const Bounds& bounds : {kBounds[0], kBounds[1], kBounds[4]}) {
        Block b = random_block(rng, n, 3);
        // Values 1.x * 2^-102 .. 2^-99 and small multiples of 2^-102: sums
        // of them cancel down to tiny normals (ulps of 2^-125).
        const auto near_limit = [&] {
          const float m = std::uniform_real_distribution<float>(1.f, 2.f)(rng);
          return std::ldexp(uniform_int(rng, 0, 1) ? m : -m, -102 + uniform_int(rng, 0, 3));
        };
        for (int o = 0; o < n; ++o) {
          b.multiplier[o] = std::ldexp(float(uniform_int(rng, -4, 4)), -102);
          b.bias[o] = near_limit();
        }
        for (float& r : b.residual)
          if (std::isfinite(r) && std::fabs(r) >= std::ldexp(1.f, -102)) r = near_limit();
        if (hazard >= 0) (uniform_int(rng, 0, 1) ? b.bias : b.multiplier)[uniform_int(rng, 0, n - 1)] =
                             kFlushHazards[hazard];
        if (!constants_ok(b, bounds)) {
          CHECK(hazard >= 0);  // constants at 2^-102 multiples are never refused
          ++refused;
          continue;
        }
        for (int outputs = 1; outputs <= 3; ++outputs)
          for (int residual_mode = 0; residual_mode < 3; ++residual_mode)
            CHECK(float_rows_match(b, bounds, outputs, residual_mode));
      }
  // A kernel with a check refuses every hazard (3 sizes x 3 bounds each).
  CHECK_EQ(refused, kernel()->float_constants_ok == nullptr ? 0 : 3 * kNumFlushHazards * 3);
}

// Residuals of arbitrary bit patterns (any exponent, any NaN payload): a row
// of them, a row with one, and an ordinary row per block.
TEST(float_rows_exact_for_residuals_of_any_bits) {
  if (kernel() == nullptr) return;
  std::mt19937 rng(24);
  for (int n : {8, 64, 130})
    for (int trial = 0; trial < 20; ++trial) {
      Block b = random_block(rng, n, 3);
      for (int o = 0; o < n; ++o) b.residual[o] = from_bits(static_cast<std::uint32_t>(rng()));
      b.residual[n + uniform_int(rng, 0, n - 1)] = from_bits(static_cast<std::uint32_t>(rng()));
      for (int o = 0; o < n; ++o) b.residual[2 * n + o] = std::uniform_real_distribution<float>(-2.f, 2.f)(rng);
      const Bounds& bounds = kBounds[trial % 3];
      for (int outputs = 1; outputs <= 3; ++outputs)
        for (int residual_mode = 1; residual_mode < 3; ++residual_mode)
          CHECK(float_rows_match(b, bounds, outputs, residual_mode));
    }
}

TEST(threshold_rows_match_scalar_reference_bits) {
  if (kernel() == nullptr) return;
  std::mt19937 rng(22);
  for (int n : kChannels)
    for (std::size_t rows : {std::size_t{1}, std::size_t{3}}) {
      const Block b = random_block(rng, n, rows);
      EpilogueConstants c;
      c.channels = n;
      c.dir = b.dir.data();
      c.limit = b.limit.data();
      const std::size_t words = words_per_row(n);
      std::vector<BitWord> ref(rows * words + kGuard, 0), bits(rows * words + kGuard, ~BitWord{0});
      std::fill(ref.begin() + rows * words, ref.end(), ~BitWord{0});
      for (std::size_t r = 0; r < rows; ++r)
        for (int o = 0; o < n; ++o)
          if (b.acc(r, o) * b.dir[o] < b.limit[o]) ref[r * words + o / 64] |= BitWord{1} << (o % 64);
      EpilogueRows block;
      block.count = rows;
      block.popcounts = b.popcounts.data();
      block.bases = b.bases.data();
      block.bits = bits.data();
      kernel()->threshold_rows(c, block);
      CHECK(bits == ref);
    }
}

int main() { return irnet_test::run_all(); }
