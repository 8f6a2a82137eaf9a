// ARMv7: any_flush_hazard (common/arm32/float_neon_a32.h), the scan that sends
// a row to exact scalar code when NEON's flush-to-zero or default NaN could
// change a bit, against the scalar flush_hazard of every element: arrays of
// every length 0..40 around the 4- and 8-float vector steps, each hazard kind
// (subnormal, tiny normal below the bound, NaN of either sign) at every
// position among harmless values (zeros of both signs, the bound itself,
// infinities, ordinary floats), with and without the NaN check. Built for
// ARMv7 only (tests/cpp/arm32/, as engine/src/*/arm32/).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"

#include "common/arm32/float_neon_a32.h"

namespace {

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

template <bool kNaN>
bool scalar_hazard(const std::vector<float>& x, std::size_t n, std::uint32_t below_bits) {
  for (std::size_t i = 0; i < n; ++i)
    if (irnet::flush_hazard<kNaN>(x[i], below_bits)) return true;
  return false;
}

template <bool kNaN>
void check_scan(std::uint32_t below_bits) {
  const float inf = std::numeric_limits<float>::infinity();
  // Never hazards: zeros, the bound and above, infinities.
  const std::vector<float> harmless = {0.f, -0.f, from_bits(below_bits), -from_bits(below_bits), 1.f, -3.5f,
                                       inf, -inf, 1e30f, -1e-20f};
  // Hazards (a NaN only with kNaN): a subnormal, a normal just below the bound, NaNs.
  const std::vector<float> hazards = {from_bits(1), -from_bits(0x007FFFFFu), from_bits(below_bits - 1),
                                      -from_bits(below_bits - 1), std::numeric_limits<float>::quiet_NaN(),
                                      from_bits(0xFFC00001u)};
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 40; ++n) {
    std::vector<float> x(n + 1);
    for (float& v : x) v = harmless[rng() % harmless.size()];
    x[n] = hazards[0];  // past the end: must not be read as part of x[0, n)
    if (irnet::any_flush_hazard<kNaN>(x.data(), n, below_bits))
      CHECK_EQ(std::string("harmless n=") + std::to_string(n), std::string("no hazard"));
    for (std::size_t at = 0; at < n; ++at)
      for (const float h : hazards) {
        std::vector<float> y = x;
        y[at] = h;
        const bool expected = scalar_hazard<kNaN>(y, n, below_bits);
        if (irnet::any_flush_hazard<kNaN>(y.data(), n, below_bits) != expected)
          CHECK_EQ(std::string("n=") + std::to_string(n) + " at=" + std::to_string(at) + " hazard bits " +
                       std::to_string(irnet::float_bits(h)),
                   std::string(expected ? "hazard" : "no hazard"));
      }
  }
}

}  // namespace

TEST(any_flush_hazard_matches_the_scalar_test) {
  for (const std::uint32_t below : {irnet::kFloatMinNormalBits, 25u << 23, 0x0D000000u}) {
    check_scan<true>(below);
    check_scan<false>(below);
  }
}

int main() { return irnet_test::run_all(); }
