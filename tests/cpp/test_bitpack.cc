// Every bitpack variant against pack_signs_ref, and its threshold packing
// against pack_signs_threshold_ref, bit for bit: random values, the
// special values (+0, -0, NaN, ±inf, denormals), x == -t, and every tail length.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "bit_testing.h"
#include "bitpack/bitpack.h"
#include "check.h"
#include "cpu/kernel_config.h"

using irnet::BitWord;
using namespace irnet_test;

namespace {

// Every tail length class: below, at and past one, two and eight words.
const std::size_t kChannelCounts[] = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127,
                                      128, 129, 130, 200, 512, 513};

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

std::vector<float> special_values() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min();
  // The edges of "x < 0" on the bits: the largest negative subnormal, the
  // smallest negative normal, a negative signalling NaN just past -inf.
  return {0.0f, -0.0f, nan, -nan, inf, -inf, denorm, -denorm, 1.0f, -1.0f, 1e-30f, -1e-30f,
          from_bits(0x807FFFFFu), from_bits(0x80800000u), from_bits(0xFF800001u)};
}

std::vector<BitWord> pack_with(const irnet::BitpackKernel& variant, const std::vector<float>& x,
                               std::size_t rows, std::size_t channels) {
  // Pre-fill with garbage: the kernel must overwrite every word, tails included.
  std::vector<BitWord> out(rows * irnet::packed_words(channels), ~BitWord{0});
  variant.pack(x.data(), rows, channels, out.data());
  return out;
}

std::vector<BitWord> pack_threshold_with(const irnet::BitpackKernel& variant, const std::vector<float>& x,
                                         std::size_t rows, std::size_t channels,
                                         const std::vector<float>& threshold) {
  std::vector<BitWord> out(rows * irnet::packed_words(channels), ~BitWord{0});
  variant.pack_threshold(x.data(), rows, channels, threshold.data(), out.data());
  return out;
}

// The threshold kinds that choose the ARMv7 NEON variant's path: every t
// normal and nonzero, some t exactly +-0, some t subnormal.
enum class ThresholdKind { kNormal, kSomeZero, kSomeSubnormal };

std::vector<float> random_thresholds(Rng& rng, std::size_t channels, ThresholdKind kind) {
  const std::vector<float> specials = special_values();
  std::vector<float> t(channels);
  for (float& v : t) {
    v = std::uniform_real_distribution<float>(0.05f, 1.f)(rng) * (rng() % 2 ? 1.f : -1.f);
    if (rng() % 8 == 0) v = std::ldexp(v, rng() % 2 ? 120 : -120);  // huge or tiny normal
    if (rng() % 16 == 0) v = specials[2 + rng() % 4];                // NaN, -NaN, inf, -inf
  }
  if (kind != ThresholdKind::kNormal)
    for (std::size_t k = 0; k < 1 + channels / 8; ++k) {
      const std::size_t c = rng() % channels;
      t[c] = kind == ThresholdKind::kSomeZero
                 ? (rng() % 2 ? 0.0f : -0.0f)
                 : from_bits(static_cast<std::uint32_t>(1 + rng() % 0x7FFFFF) | (rng() % 2 ? 0x80000000u : 0u));
    }
  return t;
}

// x for threshold t: random, special, exactly -t, one ulp either side of -t,
// a subnormal, or a sum that is subnormal.
float value_near(Rng& rng, float t, const std::vector<float>& specials) {
  switch (uniform_int(rng, 0, 7)) {
    case 0: return specials[rng() % specials.size()];
    case 1: return -t;
    case 2: return std::nextafter(-t, std::numeric_limits<float>::infinity());
    case 3: return std::nextafter(-t, -std::numeric_limits<float>::infinity());
    case 4: return from_bits(static_cast<std::uint32_t>(1 + rng() % 0x7FFFFF) | (rng() % 2 ? 0x80000000u : 0u));
    case 5: return -t + from_bits(static_cast<std::uint32_t>(rng() % 0xFFFFFF)) * (rng() % 2 ? 1.f : -1.f);
    default: return std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
  }
}

}  // namespace

TEST(threshold_reference_is_the_sign_of_the_float_sum) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min();
  // x + t: -1+1 = +0 (0), -1+0.5 (1), -0+0 = +0 (0), -0+-0 = -0 (0), inf-inf = NaN (0),
  // -denorm+0 (1), 2d-3d = -d (1), 3d-2d (0), 1+NaN (0), -inf+1 (1), 5-inf (1), -0.5+NaN (0).
  const std::vector<float> x = {-1.f, -1.f, -0.f, -0.f, inf, -denorm, 2 * denorm, 3 * denorm,
                                1.f, -inf, 5.f, -0.5f};
  const std::vector<float> t = {1.f, 0.5f, 0.f, -0.f, -inf, 0.f, -3 * denorm, -2 * denorm,
                                nan, 1.f, -inf, nan};
  BitWord out = ~BitWord{0};
  irnet::pack_signs_threshold_ref(x.data(), 1, x.size(), t.data(), &out);
  CHECK_EQ(out, BitWord{0b011001100010});
}

TEST(all_threshold_variants_match_reference) {
  Rng rng(2);
  const std::vector<float> specials = special_values();
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    for (std::size_t channels : kChannelCounts) {
      for (ThresholdKind kind : {ThresholdKind::kNormal, ThresholdKind::kSomeZero, ThresholdKind::kSomeSubnormal}) {
        const std::size_t rows = 1 + rng() % 70;
        const std::vector<float> t = random_thresholds(rng, channels, kind);
        std::vector<float> x(rows * channels);
        for (std::size_t i = 0; i < x.size(); ++i) {
          // Half the rows free of subnormals, so the NEON path runs on them too.
          const float v = value_near(rng, t[i % channels], specials);
          const bool clean = (i / channels) % 2 == 0;
          const std::uint32_t magnitude = bits_of(v) & 0x7FFFFFFFu;
          x[i] = clean && magnitude != 0 && magnitude < 0x00800000u ? 1.5f : v;
        }
        std::vector<BitWord> expected(rows * irnet::packed_words(channels));
        irnet::pack_signs_threshold_ref(x.data(), rows, channels, t.data(), expected.data());
        const std::vector<BitWord> got = pack_threshold_with(*variant, x, rows, channels, t);
        if (got != expected)
          CHECK_EQ(str_cat_test(variant->name, " channels=", channels, " kind=", static_cast<int>(kind)),
                   std::string("matches ref"));
      }
    }
  }
}

TEST(threshold_each_bit_position_is_independent) {
  // x = -t everywhere (sum +0, bit 0) except one channel one ulp below, at every position.
  const std::size_t channels = 130;
  Rng rng(3);
  const std::vector<float> t = random_thresholds(rng, channels, ThresholdKind::kNormal);
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    for (std::size_t pos = 0; pos < channels; ++pos) {
      std::vector<float> x(channels);
      for (std::size_t c = 0; c < channels; ++c) x[c] = -t[c];
      if (!std::isfinite(t[pos])) continue;  // no float below -inf; NaN sums pack 0
      x[pos] = std::nextafter(-t[pos], -std::numeric_limits<float>::infinity());
      const std::vector<BitWord> got = pack_threshold_with(*variant, x, 1, channels, t);
      for (std::size_t w = 0; w < got.size(); ++w) {
        const BitWord expect = (pos / 64 == w) ? BitWord{1} << (pos % 64) : 0;
        if (got[w] != expect) CHECK_EQ(std::string(variant->name) + " pos " + std::to_string(pos), std::string("ok"));
      }
    }
  }
}

TEST(zero_threshold_packs_like_no_threshold) {
  // fl(x + 0) < 0 iff x < 0 (-0 + 0 = +0): every threshold variant with t = +0
  // gives pack_signs_ref's bits.
  Rng rng(4);
  const std::vector<float> specials = special_values();
  const std::size_t channels = 200, rows = 9;
  std::vector<float> x(rows * channels);
  for (float& v : x) v = rng() % 3 == 0 ? specials[rng() % specials.size()] : std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
  const std::vector<float> zero(channels, 0.0f);
  std::vector<BitWord> expected(rows * irnet::packed_words(channels));
  irnet::pack_signs_ref(x.data(), rows, channels, expected.data());
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>())
    if (pack_threshold_with(*variant, x, rows, channels, zero) != expected)
      CHECK_EQ(std::string(variant->name), std::string("packs like pack_signs_ref"));
}

TEST(reference_follows_the_sign_convention) {
  // -1 packs as 1; +1, +0, -0 and NaN pack as 0.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {-1.f, 1.f, 0.f, -0.f, nan, -2.5f, -nan};
  BitWord out = ~BitWord{0};
  irnet::pack_signs_ref(x.data(), 1, x.size(), &out);
  CHECK_EQ(out, BitWord{0b0100001});
}

TEST(all_variants_match_reference) {
  Rng rng(1);
  const std::vector<float> specials = special_values();
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    for (std::size_t channels : kChannelCounts) {
      const std::size_t rows = 1 + rng() % 5;
      std::vector<float> x(rows * channels);
      for (float& v : x) {
        const int kind = uniform_int(rng, 0, 9);
        v = kind < 2 ? specials[rng() % specials.size()]
                     : std::uniform_real_distribution<float>(-1.f, 1.f)(rng);
      }
      std::vector<BitWord> expected(rows * irnet::packed_words(channels));
      irnet::pack_signs_ref(x.data(), rows, channels, expected.data());
      const std::vector<BitWord> got = pack_with(*variant, x, rows, channels);
      if (got != expected)
        CHECK_EQ(std::string(variant->name) + " channels=" + std::to_string(channels), std::string("matches ref"));
    }
  }
}

TEST(each_bit_position_is_independent) {
  // A single negative value at every position of a 130-channel row.
  const std::size_t channels = 130;
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    for (std::size_t pos = 0; pos < channels; ++pos) {
      std::vector<float> x(channels, 0.5f);
      x[pos] = -0.5f;
      const std::vector<BitWord> got = pack_with(*variant, x, 1, channels);
      for (std::size_t w = 0; w < got.size(); ++w) {
        const BitWord expect = (pos / 64 == w) ? BitWord{1} << (pos % 64) : 0;
        if (got[w] != expect) CHECK_EQ(std::string(variant->name) + " pos " + std::to_string(pos), std::string("ok"));
      }
    }
  }
}

TEST(portable_variants_always_present_with_both_packings) {
  bool portable = false, ref = false;
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    const std::string name = variant->name;
    portable |= name == "pack_signs_portable";
    ref |= name == "pack_signs_ref";
    CHECK(variant->pack != nullptr);
    CHECK(variant->pack_threshold != nullptr);
  }
  CHECK(portable);
  CHECK(ref);
}

int main() { return irnet_test::run_all(); }
