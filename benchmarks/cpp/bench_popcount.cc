// What one x86 core can do for xor-popcount on the K of the ResNet-18 3x3
// binary layers (K = 9, 18, 36, 72 words), over L1-resident data: the
// measurement behind the choice of bgemm_4x8_avx2 (docs/kernels.md).
//
//   bench_popcount [--runs N]
//
// Each method computes the 8 x 8 = 64 dot-product popcounts
// sum_k popcount(a_r[k] ^ b_c[k]) of 8 A rows against 8 B rows of K words
// (the work of two 4x8 bgemm tiles), repeated; the figure is binary
// MACs (64 per word pair) per nanosecond, median of interleaved runs.
//   scalar       popcnt per word pair, one accumulator per output
//   lut          K along the lanes: vpshufb nibble table on 4 words of one
//                pair, vpsadbw per step, one horizontal sum per output
//   harley_seal  K along the lanes, carry-save adders over up to 16 vectors
//                of one pair, then the nibble table on the 4-5 partial sums
//   lanes        channels along the lanes (bgemm_4x8_avx2's layout): one A
//                word broadcast against 4 channels' words, byte sums, one
//                vpsadbw per output group at the end
// On other architectures it prints a note and exits.
#include <cstdio>

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "cpu/cpu_features.h"

namespace {

constexpr int kRows = 8;  // A rows = B rows

struct Data {
  std::size_t K;
  std::vector<std::uint64_t> a, b, b_lanes;  // b_lanes[k][c]: the B rows interleaved by word
  Data(std::size_t k, std::mt19937_64& rng) : K(k), a(kRows * k), b(kRows * k), b_lanes(kRows * k) {
    for (auto& w : a) w = rng();
    for (auto& w : b) w = rng();
    for (std::size_t kk = 0; kk < k; ++kk)
      for (int c = 0; c < kRows; ++c) b_lanes[kk * kRows + c] = b[c * k + kk];
  }
};

__attribute__((target("popcnt"))) std::uint64_t run_scalar(const Data& d) {
  std::uint64_t total = 0;
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < kRows; ++c) {
      const std::uint64_t* x = &d.a[r * d.K];
      const std::uint64_t* y = &d.b[c * d.K];
      std::uint64_t s = 0;
      for (std::size_t k = 0; k < d.K; ++k) s += std::uint64_t(_mm_popcnt_u64(x[k] ^ y[k]));
      total += s;
    }
  return total;
}

__attribute__((target("avx2"))) inline __m256i popcount_bytes(__m256i x) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0F);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),
                         _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
}

__attribute__((target("avx2,popcnt"))) std::uint64_t horizontal_sum(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return std::uint64_t(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1));
}

__attribute__((target("avx2,popcnt"))) inline __m256i load_xor(const std::uint64_t* x, const std::uint64_t* y) {
  return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y)));
}

__attribute__((target("avx2,popcnt"))) std::uint64_t run_lut(const Data& d) {
  std::uint64_t total = 0;
  const __m256i zero = _mm256_setzero_si256();
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < kRows; ++c) {
      const std::uint64_t* x = &d.a[r * d.K];
      const std::uint64_t* y = &d.b[c * d.K];
      __m256i acc = zero;
      std::size_t k = 0;
      for (; k + 4 <= d.K; k += 4) acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(load_xor(x + k, y + k)), zero));
      std::uint64_t s = horizontal_sum(acc);
      for (; k < d.K; ++k) s += std::uint64_t(_mm_popcnt_u64(x[k] ^ y[k]));
      total += s;
    }
  return total;
}

// Carry-save adder: (high, low) = the two-bit sums of a + b + c, bitwise.
__attribute__((target("avx2"))) inline void csa(__m256i& high, __m256i& low, __m256i a, __m256i b, __m256i c) {
  const __m256i u = _mm256_xor_si256(a, b);
  high = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u, c));
  low = _mm256_xor_si256(u, c);
}

__attribute__((target("avx2,popcnt"))) std::uint64_t run_harley_seal(const Data& d) {
  std::uint64_t total = 0;
  const __m256i zero = _mm256_setzero_si256();
  for (int r = 0; r < kRows; ++r)
    for (int c = 0; c < kRows; ++c) {
      const std::uint64_t* x = &d.a[r * d.K];
      const std::uint64_t* y = &d.b[c * d.K];
      __m256i ones = zero, twos = zero, fours = zero, eights = zero, sixteens_total = zero;
      std::size_t k = 0;
      for (; k + 64 <= d.K; k += 64) {  // 16 vectors per block
        __m256i twos_a, twos_b, fours_a, fours_b, eights_a, eights_b, sixteens;
        csa(twos_a, ones, ones, load_xor(x + k + 0, y + k + 0), load_xor(x + k + 4, y + k + 4));
        csa(twos_b, ones, ones, load_xor(x + k + 8, y + k + 8), load_xor(x + k + 12, y + k + 12));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, load_xor(x + k + 16, y + k + 16), load_xor(x + k + 20, y + k + 20));
        csa(twos_b, ones, ones, load_xor(x + k + 24, y + k + 24), load_xor(x + k + 28, y + k + 28));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights_a, fours, fours, fours_a, fours_b);
        csa(twos_a, ones, ones, load_xor(x + k + 32, y + k + 32), load_xor(x + k + 36, y + k + 36));
        csa(twos_b, ones, ones, load_xor(x + k + 40, y + k + 40), load_xor(x + k + 44, y + k + 44));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, load_xor(x + k + 48, y + k + 48), load_xor(x + k + 52, y + k + 52));
        csa(twos_b, ones, ones, load_xor(x + k + 56, y + k + 56), load_xor(x + k + 60, y + k + 60));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights_b, fours, fours, fours_a, fours_b);
        csa(sixteens, eights, eights, eights_a, eights_b);
        sixteens_total = _mm256_add_epi64(sixteens_total, _mm256_sad_epu8(popcount_bytes(sixteens), zero));
      }
      __m256i acc = _mm256_slli_epi64(sixteens_total, 4);
      acc = _mm256_add_epi64(acc, _mm256_slli_epi64(_mm256_sad_epu8(popcount_bytes(eights), zero), 3));
      acc = _mm256_add_epi64(acc, _mm256_slli_epi64(_mm256_sad_epu8(popcount_bytes(fours), zero), 2));
      acc = _mm256_add_epi64(acc, _mm256_slli_epi64(_mm256_sad_epu8(popcount_bytes(twos), zero), 1));
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(ones), zero));
      for (; k + 4 <= d.K; k += 4) acc = _mm256_add_epi64(acc, _mm256_sad_epu8(popcount_bytes(load_xor(x + k, y + k)), zero));
      std::uint64_t s = horizontal_sum(acc);
      for (; k < d.K; ++k) s += std::uint64_t(_mm_popcnt_u64(x[k] ^ y[k]));
      total += s;
    }
  return total;
}

__attribute__((target("avx2,popcnt"))) std::uint64_t run_lanes(const Data& d) {
  std::uint64_t total = 0;
  const __m256i zero = _mm256_setzero_si256();
  for (int r = 0; r < kRows; ++r) {
    __m256i acc0 = zero, acc1 = zero;  // K <= 31: byte sums cannot overflow; longer K in runs of 24
    __m256i sum0 = zero, sum1 = zero;
    for (std::size_t k = 0; k < d.K; ++k) {
      const __m256i a = _mm256_set1_epi64x(static_cast<long long>(d.a[r * d.K + k]));
      acc0 = _mm256_add_epi8(acc0, popcount_bytes(_mm256_xor_si256(
                                       a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&d.b_lanes[k * kRows])))));
      acc1 = _mm256_add_epi8(acc1, popcount_bytes(_mm256_xor_si256(
                                       a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&d.b_lanes[k * kRows + 4])))));
      if ((k + 1) % 24 == 0 || k + 1 == d.K) {
        sum0 = _mm256_add_epi64(sum0, _mm256_sad_epu8(acc0, zero));
        sum1 = _mm256_add_epi64(sum1, _mm256_sad_epu8(acc1, zero));
        acc0 = acc1 = zero;
      }
    }
    total += horizontal_sum(_mm256_add_epi64(sum0, sum1));
  }
  return total;
}

struct Method {
  const char* name;
  std::uint64_t (*run)(const Data&);
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 21;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--runs") runs = std::atoi(argv[i + 1]);
  if (!irnet::cpu_features().avx2 || !irnet::cpu_features().popcnt) {
    std::printf("bench_popcount needs AVX2 and popcnt\n");
    return 0;
  }
  const Method methods[] = {{"scalar", run_scalar}, {"lut", run_lut}, {"harley_seal", run_harley_seal}, {"lanes", run_lanes}};
  std::mt19937_64 rng(5);
  std::printf("binary MACs per ns (GMAC/s), 8x8 outputs over L1 data, median of %d interleaved runs\n", runs);
  std::printf("K words   scalar      lut  harley_seal    lanes\n");
  for (const std::size_t K : {9, 18, 36, 72, 144}) {
    const Data d(K, rng);
    const std::uint64_t expected = run_scalar(d);
    const std::size_t repeats = 400000 / K;
    std::vector<std::vector<double>> rates(4);
    for (int r = 0; r < runs; ++r)
      for (int m = 0; m < 4; ++m) {
        std::uint64_t check = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < repeats; ++i) {
          check += methods[m].run(d);
          __asm__ volatile("" : "+r"(check) : : "memory");  // recompute every repeat
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (check != expected * repeats) {
          std::printf("%s: wrong count\n", methods[m].name);
          return 1;
        }
        rates[m].push_back(double(kRows) * kRows * K * 64 * repeats / s * 1e-9);
      }
    std::printf("%7zu", K);
    for (auto& v : rates) {
      std::sort(v.begin(), v.end());
      std::printf(" %8.1f", v[v.size() / 2]);
    }
    std::printf("\n");
  }
  return 0;
}

#else
int main() {
  std::printf("bench_popcount measures x86 popcount methods; nothing to do on this architecture\n");
  return 0;
}
#endif
