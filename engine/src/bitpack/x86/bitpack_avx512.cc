// pack_signs_avx512: 16 floats per compare straight into a mask register
// (vcmpps k, x < 0, ordered, quiet: false for -0.0 and NaN, like the
// reference); the tail of a row is a masked load whose inactive lanes read as
// +0.0 and so compare false, leaving the tail bits 0. With a threshold the
// compare is x < -t (-t: t's sign bit flipped), the masked-off lanes of both
// reading +0: 0 < -0 is false too.
#include <immintrin.h>

#include "bitpack/x86/bitpack_x86.h"

namespace irnet {
namespace {

// The row/word/16-lane loop: lanes(offset, c, load) is the mask of the 16 lanes
// at x[offset..], channel c, whose inactive lanes (load) must compare false.
template <typename Lanes>
inline void pack_rows_16(std::size_t rows, std::size_t channels, BitWord* out, Lanes lanes) {
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    BitWord* dst = out + r * words;
    std::size_t c = 0;
    for (std::size_t w = 0; w < words; ++w) {
      BitWord word = 0;
      for (int b = 0; b < kBitsPerWord && c < channels; b += 16, c += 16) {
        const std::size_t left = channels - c;
        const __mmask16 load = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        word |= static_cast<BitWord>(static_cast<unsigned>(lanes(r * channels + c, c, load))) << b;
      }
      dst[w] = word;
    }
  }
}

}  // namespace

void pack_signs_avx512(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  const __m512 zero = _mm512_setzero_ps();
  pack_rows_16(rows, channels, out, [&](std::size_t offset, std::size_t, __mmask16 load) {
    return _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(load, x + offset), zero, _CMP_LT_OQ);
  });
}

void pack_signs_threshold_avx512(const float* x, std::size_t rows, std::size_t channels,
                                 const float* threshold, BitWord* out) {
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  pack_rows_16(rows, channels, out, [&](std::size_t offset, std::size_t c, __mmask16 load) {
    const __m512 minus_t = _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(load, threshold + c)), sign));
    return _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(load, x + offset), minus_t, _CMP_LT_OQ);
  });
}

}  // namespace irnet
