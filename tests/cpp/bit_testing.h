// Helpers shared by the binary-kernel tests: a seeded generator, random
// packed rows with zero tail bits, a float from its bits, and a scoped kernel override.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/types.h"
#include "irnet/kernels.h"

namespace irnet_test {

using Rng = std::mt19937_64;

// The float whose IEEE bits are u (subnormals, NaN payloads).
inline float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

inline int uniform_int(Rng& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

// rows x packed_words(channels) words, random bits, tail bits past `channels` zero.
inline std::vector<irnet::BitWord> random_packed(Rng& rng, std::size_t rows, std::size_t channels) {
  const std::size_t words = irnet::packed_words(channels);
  std::vector<irnet::BitWord> out(rows * words);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t w = 0; w < words; ++w) {
      irnet::BitWord v = rng();
      const std::size_t valid = channels - w * irnet::kBitsPerWord;
      if (valid < 64) v &= (irnet::BitWord{1} << valid) - 1;
      out[r * words + w] = v;
    }
  return out;
}

// The names of the supported variants of a kernel family.
inline std::vector<std::string> supported_variants(const std::string& family) {
  std::vector<std::string> names;
  for (const irnet::KernelVariantInfo& v : irnet::kernel_variants(family))
    if (v.supported) names.push_back(v.name);
  return names;
}

template <typename... Parts>
std::string str_cat_test(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Forces `name` for the lifetime of the object, then restores the automatic choice.
class ForcedKernel {
 public:
  ForcedKernel(std::string family, const std::string& name) : family_(std::move(family)) {
    irnet::force_kernel(family_, name);
  }
  ~ForcedKernel() { irnet::force_kernel(family_, "auto"); }
  ForcedKernel(const ForcedKernel&) = delete;
  ForcedKernel& operator=(const ForcedKernel&) = delete;

 private:
  std::string family_;
};

}  // namespace irnet_test
