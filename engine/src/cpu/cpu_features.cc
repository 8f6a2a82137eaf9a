#include "cpu/cpu_features.h"

#include <cstdint>
#include <utility>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

namespace irnet {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
std::uint64_t read_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.popcnt = (ecx >> 23) & 1;
  f.pclmul = (ecx >> 1) & 1;
  const bool has_osxsave = (ecx >> 27) & 1;
  const bool has_avx = (ecx >> 28) & 1;
  const bool has_fma = (ecx >> 12) & 1;
  const std::uint64_t xcr0 = has_osxsave ? read_xcr0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  f.bmi2 = (ebx >> 8) & 1;
  f.avx2 = has_avx && os_ymm && ((ebx >> 5) & 1);
  f.fma = has_avx && os_ymm && has_fma;
  f.avx512f = os_zmm && ((ebx >> 16) & 1);
  f.avx512dq = f.avx512f && ((ebx >> 17) & 1);
  f.avx512bw = f.avx512f && ((ebx >> 30) & 1);
  f.avx512vl = f.avx512f && ((ebx >> 31) & 1);
  f.avx512vpopcntdq = f.avx512f && ((ecx >> 14) & 1);
  return f;
}
#else
CpuFeatures detect() {
  CpuFeatures f;
#if defined(__aarch64__) || defined(__ARM_NEON)
  f.neon = true;
#endif
#if defined(__aarch64__) && defined(__linux__)
  f.crc32 = (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#endif
  return f;
}
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool cpu_runs_avx2_files() {
  const CpuFeatures& f = cpu_features();
  return f.avx2 && f.fma && f.popcnt && f.bmi2;
}

bool cpu_runs_avx512_files() {
  const CpuFeatures& f = cpu_features();
  return cpu_runs_avx2_files() && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq &&
         f.avx512vpopcntdq;
}

std::string cpu_description() {
  const CpuFeatures& f = cpu_features();
  std::string s;
#if defined(__x86_64__) || defined(_M_X64)
  s = "x86-64:";
  const std::pair<bool, const char*> flags[] = {
      {f.popcnt, "popcnt"},     {f.avx2, "avx2"},         {f.fma, "fma"},
      {f.bmi2, "bmi2"},         {f.avx512f, "avx512f"},   {f.avx512bw, "avx512bw"},
      {f.avx512vl, "avx512vl"}, {f.avx512dq, "avx512dq"}, {f.avx512vpopcntdq, "avx512vpopcntdq"},
      {f.pclmul, "pclmul"}};
  for (const auto& flag : flags)
    if (flag.first) (s += ' ') += flag.second;
#elif defined(__aarch64__)
  s = "aarch64:";
  if (f.neon) s += " neon";
  if (f.crc32) s += " crc32";
#elif defined(__arm__)
  s = "armv7:";
  if (f.neon) s += " neon";
#else
  s = "portable:";
#endif
  return s;
}

}  // namespace irnet
