// CRC-32 with the zlib polynomial (reflected 0xEDB88320, init and final xor
// 0xFFFFFFFF), identical to Python's zlib.crc32: the .irb checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace irnet {

// Slicing-by-8: eight bytes per step through eight tables (crc32.cc).
std::uint32_t crc32(const void* data, std::size_t size);
// The reference: one byte per step through one table. Same result for all inputs.
std::uint32_t crc32_ref(const void* data, std::size_t size);

}  // namespace irnet
