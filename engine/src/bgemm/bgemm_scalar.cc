// bgemm_4x4_scalar: portable register-blocked kernel with a truly scalar popcount.
//
// popcount_swar counts bits with shifts, masks and one multiply (no popcnt
// instruction, no NEON cnt, no library call): pairs of bits are summed into
// 2-bit fields, then 4-bit fields, then bytes, and the multiply by 0x0101..01
// adds the eight byte counts into the top byte. It is the fallback for any
// CPU; __builtin_popcountll would call libgcc on baseline x86-64 and become a
// NEON cnt on aarch64, which is not "scalar".
#include <iterator>

#include "bgemm/bgemm.h"
#include "bgemm/bgemm_scalar_tile.h"
#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

inline std::uint32_t popcount_swar(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<std::uint32_t>((x * 0x0101010101010101ull) >> 56);
}

void bgemm_4x4_scalar(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                      std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                      std::size_t ldc) {
  bgemm_detail::bgemm_tiled<bgemm_detail::ScalarTile<popcount_swar>, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

const BgemmKernel kScalar = {"bgemm_4x4_scalar", always_supported, &bgemm_4x4_scalar, 4, 4};
const BgemmKernel kRef = {"bgemm_ref", always_supported, &bgemm_ref, 1, 1};
const BgemmKernel* const kKernels[] = {&kScalar, &kRef};

}  // namespace

extern const KernelTable<BgemmKernel> kBgemmKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
