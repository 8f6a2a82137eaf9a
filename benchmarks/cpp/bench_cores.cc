// What a second thread can add on this machine at all: the ceiling for the
// engine's 2-thread speed-up (docs/performance.md, the threads target).
//
//   bench_cores [--rounds N]      (x86-64 with AVX2 + FMA)
//
// Each round times a fixed amount of register-only work (no memory traffic,
// no synchronization inside) on one thread, then two such amounts on two
// threads at once, and reports the aggregate throughput of two threads over
// one (2.00x: two independent cores). Both loops are bound by execution
// throughput, not latency:
//   alu  8 independent vpshufb + vpaddb chains (the binary kernel's pipes)
//   fma  8 independent vfmadd chains (4-cycle latency x 2 per cycle)
// One-thread and two-thread timings alternate round by round; the median and
// the range over rounds are printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

constexpr int kChains = 8;
constexpr long kIterations = 100'000'000;

__attribute__((target("avx2"), noinline)) long long alu_work() {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i step = _mm256_set1_epi8(5);
  __m256i a[kChains];
  for (int k = 0; k < kChains; ++k) a[k] = _mm256_set1_epi8(static_cast<char>(k));
  for (long i = 0; i < kIterations; ++i)
    for (int k = 0; k < kChains; ++k) a[k] = _mm256_add_epi8(_mm256_shuffle_epi8(table, a[k]), step);
  __m256i x = a[0];
  for (int k = 1; k < kChains; ++k) x = _mm256_xor_si256(x, a[k]);
  return _mm256_extract_epi64(x, 0);
}

__attribute__((target("avx2,fma"), noinline)) float fma_work() {
  const __m256 m = _mm256_set1_ps(0.999f), s = _mm256_set1_ps(0.001f);
  __m256 a[kChains];
  for (int k = 0; k < kChains; ++k) a[k] = _mm256_set1_ps(1.f + static_cast<float>(k));
  for (long i = 0; i < kIterations; ++i)
    for (int k = 0; k < kChains; ++k) a[k] = _mm256_fmadd_ps(a[k], m, s);
  __m256 x = a[0];
  for (int k = 1; k < kChains; ++k) x = _mm256_add_ps(x, a[k]);
  return _mm256_cvtss_f32(x);
}

template <typename Work>
double seconds(Work work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <typename Loop>
void measure(const char* name, Loop loop, int rounds) {
  std::vector<double> ratios;
  for (int r = 0; r < rounds; ++r) {
    const double one = seconds(loop);
    const double two = seconds([&] {
      std::thread other(loop);
      loop();
      other.join();
    });
    ratios.push_back(2.0 * one / two);  // `two` did the work of two loops, `one` of one
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("%-4s 2 threads / 1 thread, aggregate throughput: median %.2fx, range %.2fx .. %.2fx (%d rounds)\n",
              name, ratios[ratios.size() / 2], ratios.front(), ratios.back(), rounds);
}

}  // namespace
#endif

int main(int argc, char** argv) {
  int rounds = 9;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: bench_cores [--rounds N]\n");
      return 2;
    }
  }
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::printf("bench_cores: this CPU has no AVX2 + FMA\n");
    return 0;
  }
  volatile long long alu_sink = 0;
  volatile float fma_sink = 0.f;
  measure("alu", [&] { alu_sink = alu_work(); }, rounds);
  measure("fma", [&] { fma_sink = fma_work(); }, rounds);
#else
  std::printf("bench_cores: x86-64 only (%d rounds not run)\n", rounds);
#endif
  return 0;
}
