// CRC-32 with the zlib polynomial (reflected 0xEDB88320, init and final xor
// 0xFFFFFFFF), identical to Python's zlib.crc32: the .irb checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace irnet {

std::uint32_t crc32(const void* data, std::size_t size);

}  // namespace irnet
