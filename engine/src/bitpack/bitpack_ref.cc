// pack_signs_ref and pack_signs_threshold_ref: the definitions of the packing,
// one comparison per bit.
#include "bitpack/bitpack.h"

namespace irnet {
namespace {

// Sets bit c of row r exactly where negative(row, c) holds; all other bits 0.
template <typename Negative>
void pack_rows_ref(std::size_t rows, std::size_t channels, BitWord* out, Negative negative) {
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    BitWord* dst = out + r * words;
    for (std::size_t w = 0; w < words; ++w) dst[w] = 0;
    for (std::size_t c = 0; c < channels; ++c)
      if (negative(r, c)) dst[c / kBitsPerWord] |= BitWord{1} << (c % kBitsPerWord);
  }
}

}  // namespace

void pack_signs_ref(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  // x < 0 is false for +0, -0 and NaN: they all pack as +1 (bit 0).
  pack_rows_ref(rows, channels, out, [&](std::size_t r, std::size_t c) { return x[r * channels + c] < 0.0f; });
}

void pack_signs_threshold_ref(const float* x, std::size_t rows, std::size_t channels,
                              const float* threshold, BitWord* out) {
  pack_rows_ref(rows, channels, out, [&](std::size_t r, std::size_t c) {
    const float sum = x[r * channels + c] + threshold[c];
    return sum < 0.0f;
  });
}

}  // namespace irnet
