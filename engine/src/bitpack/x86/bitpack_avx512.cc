// pack_signs_avx512: 16 floats per compare straight into a mask register
// (vcmpps k, x < 0, ordered, quiet: false for -0.0 and NaN, like the
// reference); the tail of a row is a masked load whose inactive lanes read as
// +0.0 and so compare false, leaving the tail bits 0. With a threshold the
// compare is x < -t (-t: t's sign bit flipped), the masked-off lanes of both
// reading +0: 0 < -0 is false too.
#include <immintrin.h>

#include "bitpack/x86/bitpack_x86.h"

namespace irnet {

void pack_signs_avx512(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  const std::size_t words = packed_words(channels);
  const __m512 zero = _mm512_setzero_ps();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = x + r * channels;
    BitWord* dst = out + r * words;
    std::size_t c = 0;
    for (std::size_t w = 0; w < words; ++w) {
      BitWord word = 0;
      for (int b = 0; b < kBitsPerWord && c < channels; b += 16, c += 16) {
        const std::size_t left = channels - c;
        const __mmask16 load = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(load, src + c);
        const __mmask16 lt = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
        word |= static_cast<BitWord>(static_cast<unsigned>(lt)) << b;
      }
      dst[w] = word;
    }
  }
}

void pack_signs_threshold_avx512(const float* x, std::size_t rows, std::size_t channels,
                                 const float* threshold, BitWord* out) {
  const std::size_t words = packed_words(channels);
  const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = x + r * channels;
    BitWord* dst = out + r * words;
    std::size_t c = 0;
    for (std::size_t w = 0; w < words; ++w) {
      BitWord word = 0;
      for (int b = 0; b < kBitsPerWord && c < channels; b += 16, c += 16) {
        const std::size_t left = channels - c;
        const __mmask16 load = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(load, src + c);
        const __m512 minus_t = _mm512_castsi512_ps(
            _mm512_xor_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(load, threshold + c)), sign));
        const __mmask16 lt = _mm512_cmp_ps_mask(v, minus_t, _CMP_LT_OQ);
        word |= static_cast<BitWord>(static_cast<unsigned>(lt)) << b;
      }
      dst[w] = word;
    }
  }
}

}  // namespace irnet
