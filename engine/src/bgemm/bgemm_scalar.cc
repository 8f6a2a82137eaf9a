// bgemm_4x4_scalar: portable register-blocked kernel with a truly scalar popcount.
//
// popcount_swar counts bits with shifts, masks and one multiply (no popcnt
// instruction, no NEON cnt, no library call): pairs of bits are summed into
// 2-bit fields, then 4-bit fields, then bytes, and the multiply by 0x0101..01
// adds the eight byte counts into the top byte. It is the fallback for any
// CPU; __builtin_popcountll would call libgcc on baseline x86-64 and become a
// NEON cnt on aarch64, which is not "scalar".
//
// The 4x4 tile keeps 16 sums in registers and loads 4 + 4 words per step for
// 16 xor-popcounts.
#include "bgemm/bgemm.h"
#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

inline std::uint32_t popcount_swar(std::uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return static_cast<std::uint32_t>((x * 0x0101010101010101ull) >> 56);
}

struct ScalarKernel {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    std::uint32_t acc[MR][NR] = {};
    for (std::size_t k = 0; k < K; ++k) {
      BitWord a[MR], b[NR];
      for (int m = 0; m < MR; ++m) a[m] = A[m * lda + k];
      for (int n = 0; n < NR; ++n) b[n] = B[n * ldb + k];
      for (int m = 0; m < MR; ++m)
        for (int n = 0; n < NR; ++n) acc[m][n] += popcount_swar(a[m] ^ b[n]);
    }
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) C[m * ldc + n] = static_cast<std::int32_t>(acc[m][n]);
  }
};

void bgemm_4x4_scalar(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                      std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                      std::size_t ldc) {
  bgemm_detail::bgemm_tiled<ScalarKernel, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

const KernelVariant kVariants[] = {
    {"bgemm_4x4_scalar", always_supported, as_kernel_fn(&bgemm_4x4_scalar)},
    {"bgemm_ref", always_supported, as_kernel_fn(&bgemm_ref)},
};

}  // namespace

extern const KernelTable kBgemmKernelsPortable = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
