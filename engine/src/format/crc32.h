// CRC-32 with the zlib polynomial (reflected 0xEDB88320, init and final xor
// 0xFFFFFFFF), identical to Python's zlib.crc32: the .irb checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace irnet {

// The whole CRC of data[0, size) (init and final xor included).
using Crc32Fn = std::uint32_t (*)(const void* data, std::size_t size);

// A variant of the "crc32" kernel family (cpu/kernel_config.h): the CPU's CRC
// instructions where there are some (format/x86/crc32_pclmul.cc,
// format/arm64/crc32_armv8.cc), crc32_slicing, crc32_ref.
struct Crc32Kernel {
  const char* name;     // e.g. "crc32_pclmul"
  bool (*supported)();  // can this CPU run it
  Crc32Fn crc;
};

// Portable: eight bytes per step through eight tables (crc32.cc).
std::uint32_t crc32_slicing(const void* data, std::size_t size);
// The reference: one byte per step through one table. Same result for all inputs.
std::uint32_t crc32_ref(const void* data, std::size_t size);
// The raw register update of crc32_slicing (no init, no final xor):
// crc32_slicing(d, n) == crc32_update(0xFFFFFFFF, d, n) ^ 0xFFFFFFFF.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace irnet
