// The inner step of bgemm_4x8_avx2 (bgemm_avx2.cc), shared with
// benchmarks/cpp/bench_popcount.cc, which times it against candidate loops.
//
// The weight panel holds, per k, the low nibbles of the tile's 8 channels
// (even channels in the first 32 bytes, odd in the next), then their high
// nibbles: kBgemm4x8PanelStride words. One step broadcasts an A word's two nibble
// words and adds the byte popcounts of the XOR (a vpshufb table lookup per
// nibble) to two byte accumulators.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace irnet {

constexpr std::size_t kBgemm4x8Channels = 8;
constexpr std::size_t kBgemm4x8PanelStride = 2 * kBgemm4x8Channels;  // 64-bit words per k in the panel: 8 low, 8 high

// acc0 += byte popcounts of (a, a, a, a) ^ channels 0, 2, 4, 6 of panel row p,
// acc1 += the same for channels 1, 3, 5, 7; a given as its two nibble words.
// Byte offsets in the panel row: low nibbles of the even channels at 0, of
// the odd ones at 32; high nibbles at 64 and 96.
__attribute__((target("avx2"), always_inline)) inline void bgemm_4x8_avx2_step(__m256i& acc0, __m256i& acc1, const std::uint64_t& alo,
                                                                       const std::uint64_t& ahi, const std::uint64_t* p, __m256i lut) {
  __m256i lo, hi, x, y;
  asm("vpbroadcastq %[alo], %[lo]\n\t"
      "vpbroadcastq %[ahi], %[hi]\n\t"
      "vpxor 0(%[p]), %[lo], %[x]\n\t"
      "vpxor 64(%[p]), %[hi], %[y]\n\t"
      "vpshufb %[x], %[lut], %[x]\n\t"
      "vpshufb %[y], %[lut], %[y]\n\t"
      "vpaddb %[x], %[acc0], %[acc0]\n\t"
      "vpaddb %[y], %[acc0], %[acc0]\n\t"
      "vpxor 32(%[p]), %[lo], %[x]\n\t"
      "vpxor 96(%[p]), %[hi], %[y]\n\t"
      "vpshufb %[x], %[lut], %[x]\n\t"
      "vpshufb %[y], %[lut], %[y]\n\t"
      "vpaddb %[x], %[acc1], %[acc1]\n\t"
      "vpaddb %[y], %[acc1], %[acc1]"
      : [acc0] "+x"(acc0), [acc1] "+x"(acc1), [lo] "=&x"(lo), [hi] "=&x"(hi), [x] "=&x"(x), [y] "=&x"(y)
      : [alo] "m"(alo), [ahi] "m"(ahi), [p] "r"(p), "m"(*reinterpret_cast<const std::uint64_t(*)[kBgemm4x8PanelStride]>(p)), [lut] "x"(lut));
}

}  // namespace irnet
