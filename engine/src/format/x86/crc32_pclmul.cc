// CRC-32 (zlib) by carry-less multiplication folding (PCLMULQDQ).
//
// Reflected representation: in a 128-bit lane loaded from the data, bit j
// (bit 0 = byte 0's lowest bit, the first bit of the message) is the
// coefficient of x^(127-j). The CRC of the message M (init folded into its
// first 32 bits) is M(x)·x^32 mod P, so any 128-bit X with X ≡ (prefix of M)
// mod P can stand for the prefix: the CRC of "X's 16 bytes, then the rest"
// is the CRC of M. Folding keeps such an X:
//   X = H·x^64 + L (H = the lane's low qword, the higher powers)
//   X·x^D = H·x^(D+64) + L·x^D ≡ H·(x^(D+63) mod P)·x + L·(x^(D-1) mod P)·x
// and a carry-less product of two reflected 64-bit values is, read as a
// reflected 128-bit lane, the polynomial product times x: hence the
// constants x^(D+63) and x^(D-1) mod P (degree < 32, so every product fits
// in 96 bits and no reduction is needed until the end). Four lanes are folded
// 64 bytes at a time (D = 512), then combined (D = 384, 256, 128), then single
// lanes (D = 128); the last lane and the tail (< 16 bytes) go through the
// table-driven register update.
#include <immintrin.h>

#include <cstring>
#include <iterator>

#include "cpu/cpu_features.h"
#include "cpu/kernel_config.h"
#include "format/crc32.h"

namespace irnet {

namespace {

// x^n mod P as a reflected 64-bit operand: coefficient of x^d at bit 63 - d.
std::uint64_t power_mod_p(int n) {
  constexpr std::uint64_t kP = 0x104C11DB7ull;  // x^32 + ... + 1, normal bit order
  std::uint64_t r = 1;
  for (int i = 0; i < n; ++i) {
    r <<= 1;
    if (r & (std::uint64_t{1} << 32)) r ^= kP;
  }
  std::uint64_t reflected = 0;
  for (int d = 0; d < 32; ++d)
    if (r & (std::uint64_t{1} << d)) reflected |= std::uint64_t{1} << (63 - d);
  return reflected;
}

// The constant pair that multiplies a lane by x^distance (mod P).
struct FoldConstant {
  std::uint64_t high_half, low_half;  // x^(D+63), x^(D-1) mod P
  explicit FoldConstant(int distance) : high_half(power_mod_p(distance + 63)), low_half(power_mod_p(distance - 1)) {}
};

__attribute__((target("pclmul"))) __m128i fold(__m128i x, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

__attribute__((target("pclmul"))) __m128i constant(const FoldConstant& c) {
  return _mm_set_epi64x(static_cast<long long>(c.low_half), static_cast<long long>(c.high_half));
}

__m128i load(const std::uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

}  // namespace

__attribute__((target("pclmul"))) std::uint32_t crc32_pclmul(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  if (size < 64) return crc32_update(0xFFFFFFFFu, p, size) ^ 0xFFFFFFFFu;
  static const FoldConstant by512(512), by384(384), by256(256), by128(128);
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(-1));  // the init, xored into bytes 0..3
  __m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
  p += 64;
  size -= 64;
  const __m128i k512 = constant(by512);
  for (; size >= 64; p += 64, size -= 64) {
    x0 = _mm_xor_si128(fold(x0, k512), load(p));
    x1 = _mm_xor_si128(fold(x1, k512), load(p + 16));
    x2 = _mm_xor_si128(fold(x2, k512), load(p + 32));
    x3 = _mm_xor_si128(fold(x3, k512), load(p + 48));
  }
  const __m128i k128 = constant(by128);
  __m128i x = _mm_xor_si128(_mm_xor_si128(fold(x0, constant(by384)), fold(x1, constant(by256))),
                            _mm_xor_si128(fold(x2, k128), x3));
  for (; size >= 16; p += 16, size -= 16) x = _mm_xor_si128(fold(x, k128), load(p));
  std::uint8_t lane[16];
  std::memcpy(lane, &x, sizeof lane);
  return crc32_update(crc32_update(0, lane, sizeof lane), p, size) ^ 0xFFFFFFFFu;
}

namespace {
bool has_pclmul() { return cpu_features().pclmul; }
const Crc32Kernel kPclmul = {"crc32_pclmul", has_pclmul, &crc32_pclmul};
const Crc32Kernel* const kKernels[] = {&kPclmul};
}  // namespace

extern const KernelTable<Crc32Kernel> kCrc32KernelsX86 = {kKernels, std::size(kKernels)};

}  // namespace irnet
