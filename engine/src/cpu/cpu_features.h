// CPU feature detection: what the running CPU (and OS) can execute.
//
// x86-64: read with cpuid, and for AVX/AVX-512 also with xgetbv, because a
// CPU flag is only usable when the OS saves the matching register state
// (XCR0 bits: SSE|AVX = 0x6, plus opmask|ZMM_Hi256|Hi16_ZMM = 0xE0 for AVX-512).
// aarch64: Advanced SIMD (NEON) is part of the base architecture; the CRC32
// instructions are optional in ARMv8.0 and read from the kernel's HWCAP.
// armv7: NEON is assumed when the build enables it (our arm32 build uses
// -mfpu=neon-vfpv4, so __ARM_NEON is defined and the binary requires NEON).
#pragma once

#include "irnet/kernels.h"

namespace irnet {

struct CpuFeatures {
  // x86-64
  bool popcnt = false;
  bool avx2 = false;
  bool fma = false;
  bool bmi2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vpopcntdq = false;
  bool pclmul = false;  // carry-less multiply (the CRC-32 of format/)
  // ARM
  bool neon = false;
  bool crc32 = false;  // aarch64: the optional ARMv8.0 CRC32 instructions (HWCAP_CRC32)
};

// Detected once, on first use; thread-safe.
const CpuFeatures& cpu_features();

// Whether this CPU can run code from an x86 `*_avx2.cc` / `*_avx512.cc` file.
// CMake compiles those with a whole set of ISA flags (avx2 fma popcnt bmi2;
// resp. avx512 f/bw/vl/dq/vpopcntdq plus the AVX2 set) and the compiler may
// use any of them anywhere in the file, so a kernel from such a file is
// supported only when *all* of them are.
bool cpu_runs_avx2_files();
bool cpu_runs_avx512_files();

// cpu_description() (one line naming the detected features) is declared in
// the public header irnet/kernels.h and defined in cpu_features.cc.

}  // namespace irnet
