// pack_signs_avx2: 8 floats per compare; vcmpps(x < 0, ordered, quiet) gives
// all-ones lanes exactly where the reference's x < 0 holds (false for -0.0 and
// NaN), vmovmskps collects the 8 lane signs into 8 bits.
#include <immintrin.h>

#include "bitpack/x86/bitpack_x86.h"

namespace irnet {

void pack_signs_avx2(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  const std::size_t words = packed_words(channels);
  const __m256 zero = _mm256_setzero_ps();
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = x + r * channels;
    BitWord* dst = out + r * words;
    std::size_t c = 0;
    for (std::size_t w = 0; w < words; ++w) {
      BitWord word = 0;
      const std::size_t end = c + kBitsPerWord < channels ? c + kBitsPerWord : channels;
      int b = 0;
      for (; c + 8 <= end; c += 8, b += 8) {
        const __m256 lt = _mm256_cmp_ps(_mm256_loadu_ps(src + c), zero, _CMP_LT_OQ);
        word |= static_cast<BitWord>(static_cast<unsigned>(_mm256_movemask_ps(lt))) << b;
      }
      for (; c < end; ++c, ++b) word |= BitWord(src[c] < 0.0f) << b;
      dst[w] = word;
    }
  }
}

}  // namespace irnet
