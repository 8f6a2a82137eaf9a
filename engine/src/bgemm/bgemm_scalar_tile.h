// The scalar register-blocked bgemm tile, generic in its 64-bit popcount.
//
// An MR×NR tile keeps MR*NR sums in registers and loads MR + NR words per
// step for MR*NR xor-popcounts. bgemm_scalar.cc instantiates it with a
// shift-and-mask popcount (any CPU); x86/bgemm_popcnt.cc with the hardware
// popcnt instruction.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace irnet {
namespace bgemm_detail {

template <std::uint32_t (*Popcount)(std::uint64_t)>
struct ScalarTile {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    std::uint32_t acc[MR][NR] = {};
    for (std::size_t k = 0; k < K; ++k) {
      BitWord a[MR], b[NR];
      for (int m = 0; m < MR; ++m) a[m] = A[m * lda + k];
      for (int n = 0; n < NR; ++n) b[n] = B[n * ldb + k];
      for (int m = 0; m < MR; ++m)
        for (int n = 0; n < NR; ++n) acc[m][n] += Popcount(a[m] ^ b[n]);
    }
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) C[m * ldc + n] = static_cast<std::int32_t>(acc[m][n]);
  }
};

}  // namespace bgemm_detail
}  // namespace irnet
