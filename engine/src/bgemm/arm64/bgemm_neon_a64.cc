// AArch64 NEON xor-popcount GEMM, 4x4 register-blocked.
//
// For a tile of MR activation rows (A) and NR weight rows (B) the kernel walks
// K in 128-bit steps: per step it loads MR + NR q registers and, for each of the
// MR*NR pairs, computes cnt(a ^ b) (per-byte popcount, each byte 0..8) and adds
// it to a per-pair u8x16 accumulator: 3 NEON instructions per 128 binary MACs,
// which is the resource bound of the loop (eor, cnt, add each occupy the
// Cortex-A53 NEON pipe for one cycle per q register => 128/3 = 42.7 MACs/cycle).
//
// Overflow: one step adds at most 8 to each byte lane, so a u8 lane is safe for
// floor(255 / 8) = 31 steps (248). K is therefore processed in chunks of at most
// 31 steps = 62 words; after each chunk the sixteen accumulators are reduced
// horizontally (tree below) into u32 totals. A final odd word is loaded into the
// low half of a q register with a zero high half and counts as one step.
//
// Horizontal reduction of the 16 accumulators acc[i], i = 4*m + n, per chunk:
//   p[i] = uaddlp(acc[i])          u16x8, lane <= 2*248
//   q[j] = addp(p[2j], p[2j+1])    lanes 0-3 from p[2j], 4-7 from p[2j+1]
//   r[k] = addp(q[2k], q[2k+1])    two lanes per p[4k..4k+3]
//   s[l] = addp(r[2l], r[2l+1])    lane t = full sum of p[8l + t], <= 16*248 < 2^16
// so s[0] holds rows 0-1 (4 columns each) and s[1] rows 2-3; they are widened
// into four u32x4 totals, one per tile row, and stored to C.
// Unused accumulators of edge tiles (MR or NR < 4) stay zero.
#include "bgemm/arm64/bgemm_neon_a64.h"

#include <arm_neon.h>

#include "bgemm/bgemm_tiles.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

constexpr std::size_t kChunkWords = 62;  // 31 steps of 128 bits: 31 * 8 <= 255

inline uint8x16_t load_q(const BitWord* p) { return vreinterpretq_u8_u64(vld1q_u64(p)); }

// One word in the low half, zeros above: popcount of the high half is 0.
inline uint8x16_t load_half_q(const BitWord* p) {
  return vreinterpretq_u8_u64(vcombine_u64(vld1_u64(p), vdup_n_u64(0)));
}

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

// One 128-bit step for every pair of the tile: acc[m][n] (+)= cnt(a_m ^ b_n).
// The first step of a chunk assigns instead of adding, so accumulators need no
// zeroing. `Load` reads the step's q register from a row at word k.
template <int MR, int NR, bool kFirst, typename Load>
inline void step(const BitWord* const* a_rows, const BitWord* const* b_rows, std::size_t k,
                 Load load, uint8x16_t (&acc)[4][4]) {
  uint8x16_t a[MR];  // activation rows stay live while the weight rows stream past
  for (int m = 0; m < MR; ++m) a[m] = load(a_rows[m] + k);
  for (int n = 0; n < NR; ++n) {
    const uint8x16_t w = load(b_rows[n] + k);
    for (int m = 0; m < MR; ++m) {
      const uint8x16_t count = xor_count(a[m], w);
      acc[m][n] = kFirst ? count : vaddq_u8(acc[m][n], count);
    }
  }
}

// Accumulates words [k, k + words) (1 <= words <= kChunkWords) into acc.
template <int MR, int NR>
inline void accumulate_chunk(const BitWord* const* a_rows, const BitWord* const* b_rows,
                             std::size_t k, std::size_t words, uint8x16_t (&acc)[4][4]) {
  const std::size_t end = k + words;
  if (words == 1) {
    step<MR, NR, true>(a_rows, b_rows, k, load_half_q, acc);
    return;
  }
  step<MR, NR, true>(a_rows, b_rows, k, load_q, acc);
  for (k += 2; k + 2 <= end; k += 2) step<MR, NR, false>(a_rows, b_rows, k, load_q, acc);
  if (k < end) step<MR, NR, false>(a_rows, b_rows, k, load_half_q, acc);
}

// The reduction tree of the header comment; adds row m's four sums to total[m].
inline void reduce_into(const uint8x16_t (&acc)[4][4], uint32x4_t (&total)[4]) {
  uint16x8_t p[16];
  for (int i = 0; i < 16; ++i) p[i] = vpaddlq_u8(acc[i / 4][i % 4]);
  uint16x8_t q[8];
  for (int j = 0; j < 8; ++j) q[j] = vpaddq_u16(p[2 * j], p[2 * j + 1]);
  uint16x8_t r[4];
  for (int k = 0; k < 4; ++k) r[k] = vpaddq_u16(q[2 * k], q[2 * k + 1]);
  const uint16x8_t s0 = vpaddq_u16(r[0], r[1]);
  const uint16x8_t s1 = vpaddq_u16(r[2], r[3]);
  total[0] = vaddw_u16(total[0], vget_low_u16(s0));
  total[1] = vaddw_high_u16(total[1], s0);
  total[2] = vaddw_u16(total[2], vget_low_u16(s1));
  total[3] = vaddw_high_u16(total[3], s1);
}

// The MR x NR tile for bgemm_tiled (bgemm/bgemm_tiles.h): 1 <= MR, NR <= 4.
struct NeonA64Kernel {
  template <int MR, int NR>
  static void tile(std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                   std::size_t ldb, std::int32_t* C, std::size_t ldc) {
    const BitWord* a_rows[MR];
    const BitWord* b_rows[NR];
    for (int m = 0; m < MR; ++m) a_rows[m] = A + m * lda;
    for (int n = 0; n < NR; ++n) b_rows[n] = B + n * ldb;

    uint32x4_t total[4];
    for (auto& t : total) t = vdupq_n_u32(0);
    for (std::size_t k = 0; k < K; k += kChunkWords) {
      const std::size_t words = K - k < kChunkWords ? K - k : kChunkWords;
      uint8x16_t acc[4][4];
      // Accumulators outside an edge tile are not touched by the steps: zero them
      // so the full reduction tree can run on them.
      for (int m = 0; m < 4; ++m)
        for (int n = 0; n < 4; ++n)
          if (m >= MR || n >= NR) acc[m][n] = vdupq_n_u8(0);
      accumulate_chunk<MR, NR>(a_rows, b_rows, k, words, acc);
      reduce_into(acc, total);
    }
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
const KernelVariant kVariants[] = {
    {"bgemm_4x4_neon_a64", always_supported, as_kernel_fn(&bgemm_4x4_neon_a64)},
};
}  // namespace

extern const KernelTable kBgemmKernelsArm64 = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

}  // namespace irnet
