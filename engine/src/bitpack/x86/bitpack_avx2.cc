// pack_signs_avx2: 8 floats per compare; vcmpps(x < 0, ordered, quiet) gives
// all-ones lanes exactly where the reference's x < 0 holds (false for -0.0 and
// NaN), vmovmskps collects the 8 lane signs into 8 bits.
#include <immintrin.h>

#include "bitpack/bitpack_rows.h"
#include "bitpack/x86/bitpack_x86.h"

namespace irnet {

void pack_signs_avx2(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, [](const float* src) {
    const __m256 zero = _mm256_setzero_ps();
    BitWord word = 0;
    for (int b = 0; b < kBitsPerWord; b += 8) {
      const __m256 lt = _mm256_cmp_ps(_mm256_loadu_ps(src + b), zero, _CMP_LT_OQ);
      word |= static_cast<BitWord>(static_cast<unsigned>(_mm256_movemask_ps(lt))) << b;
    }
    return word;
  });
}

void pack_signs_threshold_avx2(const float* x, std::size_t rows, std::size_t channels,
                               const float* threshold, BitWord* out) {
  pack_rows_by_word_threshold(x, rows, channels, threshold, out, [](const float* src, const float* t) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    BitWord word = 0;
    for (int b = 0; b < kBitsPerWord; b += 8) {
      const __m256 minus_t = _mm256_xor_ps(_mm256_loadu_ps(t + b), sign);
      const __m256 lt = _mm256_cmp_ps(_mm256_loadu_ps(src + b), minus_t, _CMP_LT_OQ);
      word |= static_cast<BitWord>(static_cast<unsigned>(_mm256_movemask_ps(lt))) << b;
    }
    return word;
  });
}

}  // namespace irnet
