// ARMv7 NEON xor-popcount GEMM, 4x2 register-blocked.
//
// Same scheme as the AArch64 kernel (bgemm/arm64/bgemm_neon_a64.cc): per
// 128-bit step and per (activation row m, weight row n) pair of the tile,
// vcnt.8(a_m ^ b_n) (each byte 0..8) is added to a u8x16 accumulator, three
// NEON instructions per 128 binary MACs. ARMv7 has 16 q registers, so the tile
// is 4x2: 8 accumulators + 4 activation + 2 weight registers + 2 eor/vcnt
// temporaries. Nothing depends on the channel count being a multiple
// of anything: 64 channels (K = 9 words for a 3x3 conv) run at full speed.
//
// Overflow: a step adds at most 8 per byte lane, so K is processed in chunks of
// at most floor(255 / 8) = 31 steps = 62 words; a final odd word is loaded into
// the low half of a q register with a zero high half and counts as one step.
//
// Horizontal reduction of the 8 accumulators acc[i], i = 2*m + n, per chunk
// (ARMv7 has pairwise adds on d registers only):
//   p[i] = vpaddl.u8(acc[i])                  u16x8, lane <= 2*248
//   d[i] = low(p[i]) + high(p[i])             u16x4
//   e[j] = vpadd.u16(d[2j], d[2j+1])          lanes 0-1 from d[2j], 2-3 from d[2j+1]
//   f[k] = vpadd.u16(e[2k], e[2k+1])          lane t = full sum of acc[4k + t], <= 16*248
// f[0] holds tile rows 0-1 (two columns each), f[1] rows 2-3; both are widened
// into u32x4 totals. Unused accumulators of edge tiles stay zero.
//
// The full 4x2 tiles with K >= 2 run the assembly routine of
// bgemm4x2_tile_neon_a32.S, all of them in one call; edge tiles (MR < 4 or
// NR < 2) and K = 1 run the same arithmetic with intrinsics.
//
// bgemm_4x2_short_k_neon_a32 runs K <= kShortKWords with the weight rows of a
// panel in registers instead (bgemm/bgemm_short_k_neon.h), the rest as above.
#include "bgemm/arm32/bgemm_neon_a32.h"

#include <arm_neon.h>

#include <iterator>

#include "bgemm/bgemm_short_k_neon.h"
#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_config.h"

// The full 4x2 tiles of `panels` column panels, `tiles` per panel, with K >= 2
// words (strides in bytes): the assembly routine in bgemm4x2_tile_neon_a32.S,
// where its contract and registers are described.
extern "C" void irnet_bgemm4x2_column_neon_a32(const irnet::BitWord* a, std::size_t lda_bytes,
                                               const irnet::BitWord* b, std::size_t ldb_bytes,
                                               std::size_t K, std::int32_t* c, std::size_t ldc_bytes,
                                               std::size_t tiles, std::size_t panels);

namespace irnet {
namespace {

constexpr int kTileRows = 4;
constexpr int kTileCols = 2;
constexpr std::size_t kChunkWords = 62;  // 31 steps of 128 bits: 31 * 8 <= 255

// Loads the step at *p (2 words) and advances p past it.
inline uint8x16_t load_q(const BitWord*& p) {
  const uint8x16_t v = vreinterpretq_u8_u64(vld1q_u64(p));
  p += 2;
  return v;
}

// The odd last word in the low half, zeros above: popcount of the high half is 0.
inline uint8x16_t load_half_q(const BitWord*& p) {
  const uint8x16_t v = vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
  p += 1;
  return v;
}

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

using Accumulators = uint8x16_t[kTileRows][kTileCols];

// One 128-bit step for every pair of the tile: acc[m][n] (+)= cnt(a_m ^ b_n).
// The first step of a chunk assigns instead of adding. The row pointers
// advance past the step (ARMv7 loads have no base + index form, but do have
// post-increment, which this pattern compiles to).
template <int MR, int NR, bool kFirst, typename Load>
inline void step(const BitWord* (&a_rows)[MR], const BitWord* (&b_rows)[NR], Load load,
                 Accumulators& acc) {
  uint8x16_t a[MR];
  for (int m = 0; m < MR; ++m) a[m] = load(a_rows[m]);
  for (int n = 0; n < NR; ++n) {
    const uint8x16_t w = load(b_rows[n]);
    for (int m = 0; m < MR; ++m) {
      const uint8x16_t count = xor_count(a[m], w);
      acc[m][n] = kFirst ? count : vaddq_u8(acc[m][n], count);
    }
  }
}

// Accumulates the next `words` words (1 <= words <= kChunkWords) of each row
// into acc, advancing the row pointers by 2 words per full step.
template <int MR, int NR>
inline void accumulate_chunk(const BitWord* (&a_rows)[MR], const BitWord* (&b_rows)[NR],
                             std::size_t words, Accumulators& acc) {
  std::size_t steps = words / 2;
  if (steps == 0) {
    step<MR, NR, true>(a_rows, b_rows, load_half_q, acc);
    return;
  }
  step<MR, NR, true>(a_rows, b_rows, load_q, acc);
  while (--steps != 0) step<MR, NR, false>(a_rows, b_rows, load_q, acc);
  if (words % 2 != 0) step<MR, NR, false>(a_rows, b_rows, load_half_q, acc);
}

// The reduction tree of the header comment: total[0] += rows 0-1, total[1] += rows 2-3.
inline void reduce_into(const Accumulators& acc, uint32x4_t (&total)[2]) {
  uint16x4_t d[8];
  for (int i = 0; i < 8; ++i) {
    const uint16x8_t p = vpaddlq_u8(acc[i / kTileCols][i % kTileCols]);
    d[i] = vadd_u16(vget_low_u16(p), vget_high_u16(p));
  }
  uint16x4_t e[4];
  for (int j = 0; j < 4; ++j) e[j] = vpadd_u16(d[2 * j], d[2 * j + 1]);
  total[0] = vaddw_u16(total[0], vpadd_u16(e[0], e[1]));
  total[1] = vaddw_u16(total[1], vpadd_u16(e[2], e[3]));
}

// The kernel for bgemm_tiled (bgemm/bgemm_tiles.h): the full 4x2 tiles of all
// full column panels in one assembly call (K >= 2), the MR x NR edge tiles
// (MR <= 4, NR <= 2) and the full tiles of K = 1 with intrinsics.
struct NeonA32Kernel {
  static void tile_panels(std::size_t panels, std::size_t tiles, std::size_t K, const BitWord* A,
                          std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                          std::size_t ldc) {
    if (K >= 2) {
      irnet_bgemm4x2_column_neon_a32(A, lda * sizeof(BitWord), B, ldb * sizeof(BitWord), K, C,
                                     ldc * sizeof(std::int32_t), tiles, panels);
      return;
    }
    for (std::size_t p = 0; p < panels; ++p)
      for (std::size_t t = 0; t < tiles; ++t)
        tile<kTileRows, kTileCols>(K, A + kTileRows * t * lda, lda, B + kTileCols * p * ldb, ldb,
                                   C + kTileRows * t * ldc + kTileCols * p, ldc);
  }

  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    const BitWord* a_rows[MR];
    const BitWord* b_rows[NR];
    for (int m = 0; m < MR; ++m) a_rows[m] = A + m * lda;
    for (int n = 0; n < NR; ++n) b_rows[n] = B + n * ldb;

    uint32x4_t total[2] = {vdupq_n_u32(0), vdupq_n_u32(0)};
    for (std::size_t k = 0; k < K; k += kChunkWords) {
      const std::size_t words = K - k < kChunkWords ? K - k : kChunkWords;
      Accumulators acc;
      // Accumulators outside an edge tile are not touched by the steps: zero them
      // so the full reduction tree can run on them.
      for (int m = 0; m < kTileRows; ++m)
        for (int n = 0; n < kTileCols; ++n)
          if (m >= MR || n >= NR) acc[m][n] = vdupq_n_u8(0);
      accumulate_chunk<MR, NR>(a_rows, b_rows, words, acc);
      reduce_into(acc, total);
    }
    for (int m = 0; m < MR; ++m) {
      const uint32x4_t pair_rows = total[m / 2];
      const uint32x2_t row = (m % 2 == 0) ? vget_low_u32(pair_rows) : vget_high_u32(pair_rows);
      std::int32_t* c = C + m * ldc;
      if (NR == 2) {
        vst1_s32(c, vreinterpret_s32_u32(row));
      } else {
        c[0] = static_cast<std::int32_t>(vget_lane_u32(row, 0));
      }
    }
  }
};

}  // namespace

void bgemm_4x2_neon_a32(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc) {
  bgemm_detail::bgemm_tiled<NeonA32Kernel, kTileRows, kTileCols>(M, N, K, A, lda, B, ldb, C, ldc);
}

// The short-K panels of two columns for K = 5..10 (bgemm_short_k2_neon_a32.S):
// run_panels<K, 2> of bgemm/bgemm_short_k_neon.h in assembly, strides in bytes.
#define IRNET_SHORT_K2_ROUTINE(K)                                                                          \
  extern "C" void irnet_bgemm_short_k2_##K##_neon_a32(std::size_t M, std::size_t panels, const BitWord* A, \
                                                      std::size_t lda_bytes, const BitWord* B,            \
                                                      std::size_t ldb_bytes, std::int32_t* C,             \
                                                      std::size_t ldc_bytes);                             \
  template <>                                                                                              \
  void bgemm_short_k::run_panels<K, 2>(std::size_t M, std::size_t panels, const BitWord* A, std::size_t lda, \
                                       const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) { \
    irnet_bgemm_short_k2_##K##_neon_a32(M, panels, A, lda * sizeof(BitWord), B, ldb * sizeof(BitWord), C,   \
                                        ldc * sizeof(std::int32_t));                                       \
  }
IRNET_SHORT_K2_ROUTINE(5)
IRNET_SHORT_K2_ROUTINE(6)
IRNET_SHORT_K2_ROUTINE(7)
IRNET_SHORT_K2_ROUTINE(8)
IRNET_SHORT_K2_ROUTINE(9)
IRNET_SHORT_K2_ROUTINE(10)
#undef IRNET_SHORT_K2_ROUTINE

namespace {
// K <= kShortKWords: the short-K panels of bgemm/bgemm_short_k_neon.h (a row
// of A against NR weight rows held in 8 q registers), and their
// run_half_words; the columns they leave and longer K (from 13 words gcc 12
// spills the row and the 4x2 tiles need fewer instructions): bgemm_4x2_neon_a32.
constexpr int kShortKWords = 12;
constexpr int kShortKRegisters = 8;
constexpr BgemmFn kShortK = &bgemm_short_k::bgemm<kShortKRegisters, kShortKWords, &bgemm_4x2_neon_a32>;
const BgemmKernel kNeonShortK = {"bgemm_4x2_short_k_neon_a32", always_supported, kShortK, kTileRows, kTileCols,
                                 nullptr, nullptr, &bgemm_short_k::bgemm_half_words<kShortK>};
const BgemmKernel kNeon = {"bgemm_4x2_neon_a32", always_supported, &bgemm_4x2_neon_a32, kTileRows, kTileCols};
const BgemmKernel* const kKernels[] = {&kNeonShortK, &kNeon};
}  // namespace

extern const KernelTable<BgemmKernel> kBgemmKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
