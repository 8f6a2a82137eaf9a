// bgemm_4x4_popcnt: the scalar 4x4 tile with the hardware popcnt instruction
// (x86-64 CPUs since ~2008, also those without AVX2). This file alone is
// compiled for popcnt, by the pragma, which must precede every include.
#pragma GCC target("popcnt")

#include "bgemm/bgemm_scalar_tile.h"
#include "bgemm/bgemm_tiles.h"
#include "bgemm/x86/bgemm_x86.h"

namespace irnet {
namespace {

inline std::uint32_t popcount_hw(std::uint64_t x) {
  return static_cast<std::uint32_t>(__builtin_popcountll(x));
}

}  // namespace

void bgemm_4x4_popcnt(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                      std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                      std::size_t ldc) {
  bgemm_detail::bgemm_tiled<bgemm_detail::ScalarTile<popcount_hw>, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

}  // namespace irnet
