// CRC-32 (zlib), reflected form: bit 0 of the register holds the highest power of x.
//
// Byte at a time (crc32_ref): table[0][b] is the remainder of the byte b
// pushed through eight rounds of "shift right, xor the polynomial if the low
// bit was 1", and one step is crc = table[0][(crc ^ byte) & 0xFF] ^ (crc >> 8).
//
// Slicing-by-8 (crc32_slicing, crc32_update): the CRC is linear over GF(2), so the effect of a byte
// b followed by k zero bytes is a fixed 32-bit value,
//   table[k][b] = (table[k-1][b] >> 8) ^ table[0][table[k-1][b] & 0xFF].
// For a step of eight bytes d0..d7, the register is xored into d0..d3 (the
// bytes it overlaps) and the step's result is the xor of the eight bytes'
// contributions, byte i having 7 - i zero bytes after it:
//   crc = table[7][d0'] ^ table[6][d1'] ^ ... ^ table[4][d3'] ^ table[3][d4] ^ ... ^ table[0][d7].
// Eight independent lookups per eight bytes instead of a chain of eight
// dependent ones; the tail (< 8 bytes) goes byte at a time.
#include "format/crc32.h"

#include <array>
#include <iterator>

#include "cpu/kernel_config.h"

namespace irnet {

namespace {

constexpr std::uint32_t kPolynomial = 0xEDB88320u;
constexpr int kSlices = 8;

using CrcTables = std::array<std::array<std::uint32_t, 256>, kSlices>;

CrcTables make_tables() {
  CrcTables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t r = b;
    for (int i = 0; i < 8; ++i) r = (r & 1u) ? (r >> 1) ^ kPolynomial : r >> 1;
    t[0][b] = r;
  }
  for (int k = 1; k < kSlices; ++k)
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  return t;
}

const CrcTables& tables() {
  static const CrcTables t = make_tables();
  return t;
}

std::uint32_t update_bytewise(std::uint32_t crc, const std::uint8_t* p, std::size_t size,
                              const std::array<std::uint32_t, 256>& table) {
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return crc;
}

}  // namespace

std::uint32_t crc32_ref(const void* data, std::size_t size) {
  return update_bytewise(0xFFFFFFFFu, static_cast<const std::uint8_t*>(data), size, tables()[0]) ^ 0xFFFFFFFFu;
}

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size) {
  const CrcTables& t = tables();
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (; size >= kSlices; size -= kSlices, p += kSlices) {
    const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                    std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  return update_bytewise(crc, p, size, t[0]);
}

std::uint32_t crc32_slicing(const void* data, std::size_t size) {
  return crc32_update(0xFFFFFFFFu, data, size) ^ 0xFFFFFFFFu;
}

namespace {
const Crc32Kernel kSlicing = {"crc32_slicing", always_supported, &crc32_slicing};
const Crc32Kernel kRef = {"crc32_ref", always_supported, &crc32_ref};
const Crc32Kernel* const kKernels[] = {&kSlicing, &kRef};
}  // namespace

extern const KernelTable<Crc32Kernel> kCrc32KernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
