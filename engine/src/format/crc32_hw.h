// CRC-32 (zlib) with the CPU's own instructions, where the build has them:
//   x86-64: carry-less multiplication (PCLMULQDQ) folding, format/x86/crc32_pclmul.cc
//   aarch64: the ARMv8 CRC32 instructions (same polynomial), format/arm64/crc32_armv8.cc
// crc32() (format/crc32.h) uses them when crc32_hw_supported(); the results
// equal crc32_ref() for every input (tests/cpp/test_format.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace irnet {

#if defined(IRNET_ARCH_x86) || defined(IRNET_ARCH_arm64)
#define IRNET_HAVE_CRC32_HW 1
// Whether this CPU has the instructions (cpu/cpu_features: pclmul, crc32).
bool crc32_hw_supported();
// The whole CRC (init and final xor included). Only when crc32_hw_supported().
std::uint32_t crc32_hw(const void* data, std::size_t size);
#endif

}  // namespace irnet
