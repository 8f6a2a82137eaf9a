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

// The tail words of every row, out of line: inlined, the zero-filled buffer
// made GCC (armv7) set up ~1 KiB of stack and ~100 instructions per call, paid
// by every one-row call of the binary conv epilogue even when there is no tail.
// The buffer is zeroed once; each row copies only its tail over it.
template <typename Pack64>
[[gnu::noinline]] void pack_tail_words(const float* x, std::size_t rows, std::size_t channels, BitWord* out,
                                       Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord, tail = channels % kBitsPerWord;
  float padded[kBitsPerWord] = {};
  for (std::size_t r = 0; r < rows; ++r) {
    std::memcpy(padded, x + r * channels + full_words * kBitsPerWord, tail * sizeof(float));
    out[r * (full_words + 1) + full_words] = pack_64(padded);
  }
}

template <typename Pack64>
inline void pack_rows_by_word(const float* x, std::size_t rows, std::size_t channels, BitWord* out,
                              Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t row_words = full_words + (channels % kBitsPerWord != 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t w = 0; w < full_words; ++w) out[r * row_words + w] = pack_64(x + r * channels + w * kBitsPerWord);
  if (row_words != full_words) pack_tail_words(x, rows, channels, out, pack_64);
}

// Pack64(x, t) turns 64 floats and their 64 thresholds into one word. The
// tail words as in pack_tail_words, beside thresholds zero-filled likewise.
template <typename Pack64>
[[gnu::noinline]] void pack_tail_words_threshold(const float* x, std::size_t rows, std::size_t channels,
                                                 const float* threshold, BitWord* out, Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord, tail = channels % kBitsPerWord;
  float padded[kBitsPerWord] = {}, padded_threshold[kBitsPerWord] = {};
  std::memcpy(padded_threshold, threshold + full_words * kBitsPerWord, tail * sizeof(float));
  for (std::size_t r = 0; r < rows; ++r) {
    std::memcpy(padded, x + r * channels + full_words * kBitsPerWord, tail * sizeof(float));
    out[r * (full_words + 1) + full_words] = pack_64(padded, padded_threshold);
  }
}

template <typename Pack64>
inline void pack_rows_by_word_threshold(const float* x, std::size_t rows, std::size_t channels,
                                        const float* threshold, BitWord* out, Pack64 pack_64) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t row_words = full_words + (channels % kBitsPerWord != 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t w = 0; w < full_words; ++w)
      out[r * row_words + w] = pack_64(x + r * channels + w * kBitsPerWord, threshold + w * kBitsPerWord);
  if (row_words != full_words) pack_tail_words_threshold(x, rows, channels, threshold, out, pack_64);
}

}  // namespace irnet
