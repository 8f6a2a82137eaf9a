// pack_signs_ref and pack_signs_threshold_ref: the definitions of the packing,
// one comparison per bit.
#include "bitpack/bitpack.h"

namespace irnet {

void pack_signs_ref(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    BitWord* dst = out + r * words;
    for (std::size_t w = 0; w < words; ++w) dst[w] = 0;
    for (std::size_t c = 0; c < channels; ++c) {
      // x < 0 is false for +0, -0 and NaN: they all pack as +1 (bit 0).
      if (row[c] < 0.0f) dst[c / kBitsPerWord] |= BitWord{1} << (c % kBitsPerWord);
    }
  }
}

void pack_signs_threshold_ref(const float* x, std::size_t rows, std::size_t channels,
                              const float* threshold, BitWord* out) {
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    BitWord* dst = out + r * words;
    for (std::size_t w = 0; w < words; ++w) dst[w] = 0;
    for (std::size_t c = 0; c < channels; ++c) {
      const float sum = row[c] + threshold[c];
      if (sum < 0.0f) dst[c / kBitsPerWord] |= BitWord{1} << (c % kBitsPerWord);
    }
  }
}

}  // namespace irnet
