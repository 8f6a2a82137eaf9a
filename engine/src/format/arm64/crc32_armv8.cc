// CRC-32 with the ARMv8 CRC32 instructions: crc32x/crc32b implement exactly
// the reflected zlib polynomial 0xEDB88320 on the register (no inversion), so
// the CRC is ~fold(~0, data) eight bytes at a time, then the tail bytewise.
// The instructions are optional in ARMv8.0 (cpu_features().crc32 says whether
// the CPU has them); only this function is compiled for them.
#include "format/crc32_hw.h"

#include <arm_acle.h>

#include <cstring>

namespace irnet {

__attribute__((target("+crc"))) std::uint32_t crc32_hw(const void* data, std::size_t size) {
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

}  // namespace irnet
