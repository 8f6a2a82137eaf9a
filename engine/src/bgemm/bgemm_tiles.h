// The blocking loop shared by the register-blocked bgemm kernels.
//
// A kernel provides `template <int MR, int NR> static void tile(K, A, lda, B,
// ldb, C, ldc)`: the full popcount sums of an MR×NR block of C, with its
// accumulators held in registers over the whole K loop. bgemm_tiled() walks C
// in NR-column panels (the NR weight rows, reused across all M rows, stay in
// L1) and, inside a panel, MR-row tiles; the right and bottom edges call the
// smaller instantiations tile<mr, nr> with mr < MR / nr < NR, picked from a
// table built at compile time, so every M, N >= 0 is handled without padding.
// A kernel may also provide `static void tile_panels(panels, tiles, K, A, lda,
// B, ldb, C, ldc)`: the full MR×NR tiles of `panels` full panels, `tiles` per
// panel, in one call (an assembly loop that keeps its setup out of the per-tile
// and per-panel path); bgemm_tiled then makes that one call for all full tiles
// and walks only the edges itself.
//
// The header is included by one file per ISA, each with its own Kernel type,
// so the instantiations never mix code compiled for different ISAs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/types.h"

namespace irnet {
namespace bgemm_detail {

using TileFn = void (*)(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                        std::size_t ldb, std::int32_t* C, std::size_t ldc);

template <typename Kernel, int MR, int NR, std::size_t... I>
constexpr std::array<TileFn, MR * NR> make_tile_table(std::index_sequence<I...>) {
  // Entry (mr-1)*NR + (nr-1) is tile<mr, nr>.
  return {{&Kernel::template tile<static_cast<int>(I) / NR + 1, static_cast<int>(I) % NR + 1>...}};
}

template <typename Kernel, typename = void>
struct HasTilePanels : std::false_type {};
template <typename Kernel>
struct HasTilePanels<Kernel, std::void_t<decltype(&Kernel::tile_panels)>> : std::true_type {};

template <typename Kernel, int MR, int NR>
void bgemm_tiled(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                 const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  static constexpr std::array<TileFn, MR * NR> kTiles =
      make_tile_table<Kernel, MR, NR>(std::make_index_sequence<MR * NR>{});
  const std::size_t full_m = M - M % MR, full_n = N - N % NR;  // the full tiles' extent
  if constexpr (HasTilePanels<Kernel>::value) {
    if (full_m != 0 && full_n != 0)
      Kernel::tile_panels(full_n / NR, full_m / MR, K, A, lda, B, ldb, C, ldc);
  } else {
    for (std::size_t n0 = 0; n0 < full_n; n0 += NR)
      for (std::size_t m0 = 0; m0 < full_m; m0 += MR)
        Kernel::template tile<MR, NR>(K, A + m0 * lda, lda, B + n0 * ldb, ldb, C + m0 * ldc + n0, ldc);
  }
  // The edge tile at (m0, n0): the rest of C below or right of the full tiles.
  const auto edge_tile = [&](std::size_t m0, std::size_t n0) {
    const std::size_t mr = M - m0 < std::size_t(MR) ? M - m0 : std::size_t(MR);
    const std::size_t nr = N - n0 < std::size_t(NR) ? N - n0 : std::size_t(NR);
    kTiles[(mr - 1) * NR + (nr - 1)](K, A + m0 * lda, lda, B + n0 * ldb, ldb, C + m0 * ldc + n0, ldc);
  };
  if (full_m < M)
    for (std::size_t n0 = 0; n0 < N; n0 += NR) edge_tile(full_m, n0);  // bottom row, corner included
  if (full_n < N)
    for (std::size_t m0 = 0; m0 < full_m; m0 += MR) edge_tile(m0, full_n);  // right column
}

}  // namespace bgemm_detail
}  // namespace irnet
