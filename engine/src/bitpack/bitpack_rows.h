// The row loop shared by the packers whose core turns exactly 64 floats into
// one word (portable, AVX2, NEON): full words straight from the row, the tail word
// through a zero-filled copy, since +0 packs to bit 0 and tail bits must be 0.
#pragma once

#include <cstddef>
#include <cstring>

#include "bitpack/bitpack.h"

namespace irnet {

template <typename Pack64>
inline void pack_rows_by_word(const float* x, std::size_t rows, std::size_t channels, BitWord* out,
                              Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t tail = channels % kBitsPerWord;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    for (std::size_t w = 0; w < full_words; ++w) *out++ = pack_64(row + w * kBitsPerWord);
    if (tail != 0) {
      float padded[kBitsPerWord] = {};
      std::memcpy(padded, row + full_words * kBitsPerWord, tail * sizeof(float));
      *out++ = pack_64(padded);
    }
  }
}

}  // namespace irnet
