// The row loop shared by the packers whose core turns exactly 64 floats into
// one word (portable, AVX2, NEON): full words straight from the row, the tail word
// through a zero-filled copy, since +0 packs to bit 0 and tail bits must be 0.
// The threshold packers' loop does the same with the thresholds beside the
// row: a zero-filled tail of both gives 0 < -0, false, bit 0.
#pragma once

#include <cstddef>
#include <cstring>

#include "bitpack/bitpack.h"

namespace irnet {

// The tail word, out of line: inlined, its zero-filled buffer made GCC (armv7)
// set up ~1 KiB of stack and ~100 instructions per call, paid by every
// one-row call of the binary conv epilogue even when there is no tail.
template <typename Pack64>
[[gnu::noinline]] BitWord pack_tail_word(const float* x, std::size_t tail, Pack64 pack_64) {
  float padded[kBitsPerWord] = {};
  std::memcpy(padded, x, tail * sizeof(float));
  return pack_64(padded);
}

template <typename Pack64>
inline void pack_rows_by_word(const float* x, std::size_t rows, std::size_t channels, BitWord* out,
                              Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t tail = channels % kBitsPerWord;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    for (std::size_t w = 0; w < full_words; ++w) *out++ = pack_64(row + w * kBitsPerWord);
    if (tail != 0) *out++ = pack_tail_word(row + full_words * kBitsPerWord, tail, pack_64);
  }
}

// Pack64(x, t) turns 64 floats and their 64 thresholds into one word.
template <typename Pack64>
[[gnu::noinline]] BitWord pack_tail_word_threshold(const float* x, const float* padded_threshold,
                                                   std::size_t tail, Pack64 pack_64) {
  float padded[kBitsPerWord] = {};
  std::memcpy(padded, x, tail * sizeof(float));
  return pack_64(padded, padded_threshold);
}

template <typename Pack64>
inline void pack_rows_by_word_threshold(const float* x, std::size_t rows, std::size_t channels,
                                        const float* threshold, BitWord* out, Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t tail = channels % kBitsPerWord;
  float tail_threshold[kBitsPerWord] = {};
  std::memcpy(tail_threshold, threshold + full_words * kBitsPerWord, tail * sizeof(float));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    for (std::size_t w = 0; w < full_words; ++w)
      *out++ = pack_64(row + w * kBitsPerWord, threshold + w * kBitsPerWord);
    if (tail != 0)
      *out++ = pack_tail_word_threshold(row + full_words * kBitsPerWord, tail_threshold, tail, pack_64);
  }
}

}  // namespace irnet
