// AArch64 NEON xor-popcount GEMM, 4x4 register-blocked.
//
// For a tile of 4 activation rows (A) and 4 weight rows (B) the kernel walks K
// in 128-bit steps: for each of the 16 pairs (a_m, b_n) it computes
// cnt(a_m ^ b_n) (per-byte popcount, each byte 0..8) and accumulates it. Three
// NEON instructions per pair and step (eor, cnt, one add) is the bound: 128
// binary MACs per 3 instructions, and on the Cortex-A53 one cycle each per q
// register.
//
// Accumulation (the first level of the horizontal sum is done in the loop):
// the counts of the pairs (m, 2h) and (m, 2h + 1) are combined by one pairwise
// add, addp(cnt_(m,2h), cnt_(m,2h+1)), whose lanes 0-7 are sums of two bytes of
// pair (m, 2h) and lanes 8-15 of pair (m, 2h + 1), and that is added to the u8
// accumulator acc[m][h]. So one addp + one add per two pairs (still one add per
// count) and only 8 accumulators, which leaves registers for two steps of data
// (loaded with ldp: one load per row per two steps).
//
// Overflow: each acc lane grows by at most 16 per 128-bit step, so K is cut
// into chunks: a first chunk of L = 4..31 words, then f = (K - 4) / 28 full
// chunks of 28 words (7 double steps). The first chunk has L / 4 double steps
// and the tail of K: one more 128-bit step (L mod 4 >= 2) and an odd last
// word. The odd word is not a half-empty step: a_m's word is duplicated into
// both halves of a q register (ldr d + dup) and the words of b_2h | b_2h+1
// are paired (ldr d + ld1 lane), so cnt(a_m ^ (b_2h | b_2h+1)) has pair (m, 2h)
// in bytes 0-7 and (m, 2h + 1) in 8-15, exactly the lanes of acc[m][h] those
// pairs own; it is added directly.
// A lane thus holds at most 15 * 16 + 8 = 248 <= 255.
//
// Horizontal reduction of a chunk of w words (s = w / 2 full steps): level 2,
// addp(acc[m][0], acc[m][1]), gives row m with 4 lanes per column n; it stays
// in u8 if 2 * (16 s + 8) <= 255 (w <= 15), else the accumulators are widened
// first (uaddlp) and it runs in u16. Then pairwise widening adds (uaddlp) leave
// row m as four u32 sums, which are stored into C (first chunk) or added to it
// (full chunks).
//
// The full tiles of a column (4 weight rows, 4k activation rows) run the
// hand-scheduled assembly routine of bgemm4x4_column_neon_a64.S (the hot path
// of every binary convolution); edge tiles (MR or NR < 4) run the same eor /
// cnt arithmetic written with intrinsics, accumulated in u16 lanes (see
// add_edge_chunk), except the 1 x 4 tile, which runs that arithmetic in
// bgemm1x4_edge_tile_neon_a64.S.
//
// bgemm_4x4_short_k_neon_a64 runs K <= kShortKWords with the weight rows of a
// panel in registers instead (bgemm/bgemm_short_k_neon.h), the rest as above.
#include "bgemm/arm64/bgemm_neon_a64.h"

#include <arm_neon.h>

#include <iterator>

#include "bgemm/bgemm_short_k_neon.h"
#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_config.h"

// The full 4x4 tiles of `panels` column panels of `tiles` tiles each, K >= 4
// words (strides in bytes): the hand-scheduled assembly routine in
// bgemm4x4_column_neon_a64.S, where its contract and registers are described.
extern "C" void irnet_bgemm4x4_column_neon_a64(const irnet::BitWord* a, std::size_t lda_bytes,
                                               const irnet::BitWord* b, std::size_t ldb_bytes,
                                               std::size_t K, std::int32_t* c, std::size_t ldc_bytes,
                                               std::size_t tiles, std::size_t panels);

// The 1 x 4 edge tile over K >= 0 words (c[n] = popcount sums of a ^ b_n,
// b_n at b + n * ldb_bytes): the assembly routine in
// bgemm1x4_edge_tile_neon_a64.S, where its registers are described.
extern "C" void irnet_bgemm1x4_edge_tile_neon_a64(std::size_t K, const irnet::BitWord* a,
                                                  const irnet::BitWord* b, std::size_t ldb_bytes,
                                                  std::int32_t* c);

namespace irnet {
namespace {

// Edge tiles (MR or NR < 4): one u16 accumulator per pair, fed by uadalp
// (pairwise add of the byte counts into the u16 lanes). A 4-word double step
// costs per pair 2 eor, 2 cnt, one add of the two counts and one uadalp: 3
// instructions per 128 binary MACs, as in the assembly tile, and the A row's
// load is shared by the NR weight rows. A u16 lane covers 16 bits of a q
// register, so w words add at most 8w + 8 to it (+8: an odd word sits in the
// low half only): chunks of kEdgeChunkWords = 8188 words stay <= 65512, and
// every ResNet layer (K <= 72 words) is one chunk with no per-chunk reduction.
// bgemm1x4_edge_tile_neon_a64.S cuts K into the same chunks.
constexpr std::size_t kEdgeChunkWords = 8188;

inline uint8x16_t load_q(const BitWord* p) { return vreinterpretq_u8_u64(vld1q_u64(p)); }

// One word in the low half, zeros above: popcount of the high half is 0.
inline uint8x16_t load_half_q(const BitWord* p) {
  return vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
}

// Two steps (4 words) with one 2-register load.
inline uint8x16x2_t load_2q(const BitWord* p) {
  const uint64x2x2_t v = vld1q_u64_x2(p);
  return {{vreinterpretq_u8_u64(v.val[0]), vreinterpretq_u8_u64(v.val[1])}};
}

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

// One 4-word double step of an MR x NR edge tile; the row pointers move past it.
template <int MR, int NR>
inline void double_step(const BitWord** a_rows, const BitWord** b_rows, uint16x8_t (&acc)[MR][NR]) {
  uint8x16x2_t a[MR];  // activation rows stay live while the weight rows stream past
  for (int m = 0; m < MR; ++m) {
    a[m] = load_2q(a_rows[m]);
    a_rows[m] += 4;
  }
  for (int n = 0; n < NR; ++n) {
    const uint8x16x2_t w = load_2q(b_rows[n]);
    b_rows[n] += 4;
    for (int m = 0; m < MR; ++m)
      acc[m][n] = vpadalq_u8(acc[m][n], vaddq_u8(xor_count(a[m].val[0], w.val[0]),
                                                 xor_count(a[m].val[1], w.val[1])));
  }
}

// The popcount sums of words [k, k + words) of the MR x NR edge tile's rows,
// 1 <= words <= kEdgeChunkWords, added to total[m] (lane n = column n; lanes
// n >= NR get 0).
template <int MR, int NR>
inline void add_edge_chunk(const BitWord* const* a_base, const BitWord* const* b_base, std::size_t k,
                           std::size_t words, uint32x4_t (&total)[MR]) {
  const BitWord* a_rows[MR];
  const BitWord* b_rows[NR];
  for (int m = 0; m < MR; ++m) a_rows[m] = a_base[m] + k;
  for (int n = 0; n < NR; ++n) b_rows[n] = b_base[n] + k;
  uint16x8_t acc[MR][NR];
  for (auto& row : acc)
    for (uint16x8_t& a : row) a = vdupq_n_u16(0);
  for (std::size_t doubles = words / 4; doubles > 0; --doubles) double_step<MR, NR>(a_rows, b_rows, acc);
  // The last 2-word step and odd word of the chunk.
  const auto single = [&](auto load, std::size_t offset) {
    uint8x16_t a[MR];
    for (int m = 0; m < MR; ++m) a[m] = load(a_rows[m] + offset);
    for (int n = 0; n < NR; ++n) {
      const uint8x16_t w = load(b_rows[n] + offset);
      for (int m = 0; m < MR; ++m) acc[m][n] = vpadalq_u8(acc[m][n], xor_count(a[m], w));
    }
  };
  if (words & 2) single(load_q, 0);
  if (words & 1) single(load_half_q, words & 2);
  // Row m: the four column sums as u32 lanes (widened first: two u16 lanes may exceed 65535).
  for (int m = 0; m < MR; ++m) {
    uint32x4_t col[4];
    for (int n = 0; n < 4; ++n) col[n] = n < NR ? vpaddlq_u16(acc[m][n]) : vdupq_n_u32(0);
    total[m] = vaddq_u32(total[m], vpaddq_u32(vpaddq_u32(col[0], col[1]), vpaddq_u32(col[2], col[3])));
  }
}

// The assembly routine needs at least one double step.
constexpr std::size_t kMinAssemblyWords = 4;

// The kernel for bgemm_tiled (bgemm/bgemm_tiles.h): the full 4x4 tiles of all
// full column panels in one assembly call (K >= kMinAssemblyWords), MR x NR
// edge tiles (1 <= MR, NR <= 4) and the full tiles of a shorter K with
// intrinsics.
struct NeonA64Kernel {
  static void tile_panels(std::size_t panels, std::size_t tiles, std::size_t K, const BitWord* A,
                          std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                          std::size_t ldc) {
    if (K >= kMinAssemblyWords) {
      irnet_bgemm4x4_column_neon_a64(A, lda * sizeof(BitWord), B, ldb * sizeof(BitWord), K, C,
                                     ldc * sizeof(std::int32_t), tiles, panels);
      return;
    }
    for (std::size_t p = 0; p < panels; ++p)
      for (std::size_t t = 0; t < tiles; ++t)
        tile<4, 4>(K, A + 4 * t * lda, lda, B + 4 * p * ldb, ldb, C + 4 * t * ldc + 4 * p, ldc);
  }

  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    if constexpr (MR == 1 && NR == 4) {
      irnet_bgemm1x4_edge_tile_neon_a64(K, A, B, ldb * sizeof(BitWord), C);
      return;
    }
    const BitWord* a_rows[MR];
    const BitWord* b_rows[NR];
    for (int m = 0; m < MR; ++m) a_rows[m] = A + m * lda;
    for (int n = 0; n < NR; ++n) b_rows[n] = B + n * ldb;
    uint32x4_t total[MR];  // total[m] = tile row m
    for (auto& t : total) t = vdupq_n_u32(0);
    for (std::size_t k = 0; k < K; k += kEdgeChunkWords)
      add_edge_chunk<MR, NR>(a_rows, b_rows, k, K - k < kEdgeChunkWords ? K - k : kEdgeChunkWords, total);
    for (int m = 0; m < MR; ++m) {
      const int32x4_t row = vreinterpretq_s32_u32(total[m]);
      std::int32_t* c = C + m * ldc;
      if (NR == 4) {
        vst1q_s32(c, row);
      } else {
        std::int32_t sums[4];
        vst1q_s32(sums, row);
        for (int n = 0; n < NR; ++n) c[n] = sums[n];
      }
    }
  }
};

}  // namespace

void bgemm_4x4_neon_a64(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                        std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
                        std::size_t ldc) {
  bgemm_detail::bgemm_tiled<NeonA64Kernel, 4, 4>(M, N, K, A, lda, B, ldb, C, ldc);
}

namespace {
// K <= kShortKWords: the short-K panels of bgemm/bgemm_short_k_neon.h (a row
// of A against NR <= 16 weight rows held in up to 18 q registers: with 20, gcc
// 12 spills at K = 5), and their run_half_words; the columns they leave and
// longer K (from 11 words the assembly tiles need fewer instructions):
// bgemm_4x4_neon_a64.
constexpr int kShortKWords = 9;
constexpr int kShortKRegisters = 18;
constexpr BgemmFn kShortK = &bgemm_short_k::bgemm<kShortKRegisters, kShortKWords, &bgemm_4x4_neon_a64>;
const BgemmKernel kNeonShortK = {"bgemm_4x4_short_k_neon_a64", always_supported, kShortK, 4, 4, nullptr, nullptr,
                                 &bgemm_short_k::bgemm_half_words<kShortK>};
const BgemmKernel kNeon = {"bgemm_4x4_neon_a64", always_supported, &bgemm_4x4_neon_a64, 4, 4};
const BgemmKernel* const kKernels[] = {&kNeonShortK, &kNeon};
}  // namespace

extern const KernelTable<BgemmKernel> kBgemmKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
