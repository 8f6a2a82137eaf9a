// Every bitpack variant against pack_signs_ref, bit for bit: random values,
// the special values (+0, -0, NaN, ±inf, denormals) and every tail length.
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

std::vector<float> special_values() {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float denorm = std::numeric_limits<float>::denorm_min();
  const auto from_bits = [](std::uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  };
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

}  // namespace

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
  const std::size_t channel_counts[] = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127,
                                        128, 129, 130, 200, 512, 513};
  for (const irnet::BitpackKernel* variant : irnet::supported_kernels<irnet::BitpackKernel>()) {
    for (std::size_t channels : channel_counts) {
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

TEST(portable_variants_always_present) {
  const std::vector<std::string> names = supported_variants("bitpack");
  bool portable = false, ref = false;
  for (const std::string& n : names) {
    portable |= n == "pack_signs_portable";
    ref |= n == "pack_signs_ref";
  }
  CHECK(portable);
  CHECK(ref);
}

int main() { return irnet_test::run_all(); }
