// CRC-32 with the ARMv8 CRC32 instructions: crc32x/crc32b implement exactly
// the reflected zlib polynomial 0xEDB88320 on the register (no inversion), so
// the CRC is ~fold(~0, data) eight bytes at a time, then the tail bytewise.
// The instructions are optional in ARMv8.0 (cpu_features().crc32 says whether
// the CPU has them); only this function is compiled for them.
#include <arm_acle.h>

#include <cstring>
#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"
#include "format/crc32.h"

namespace irnet {

__attribute__((target("+crc"))) std::uint32_t crc32_armv8(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t crc = 0xFFFFFFFFu;
  for (; size >= 8; size -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);  // little-endian: byte 0 is processed first
    crc = __crc32d(crc, word);
  }
  for (; size > 0; --size, ++p) crc = __crc32b(crc, *p);
  return crc ^ 0xFFFFFFFFu;
}

namespace {
bool has_crc32() { return cpu_features().crc32; }
const Crc32Kernel kArmv8 = {"crc32_armv8", has_crc32, &crc32_armv8};
const Crc32Kernel* const kKernels[] = {&kArmv8};
}  // namespace

extern const KernelTable<Crc32Kernel> kCrc32KernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
