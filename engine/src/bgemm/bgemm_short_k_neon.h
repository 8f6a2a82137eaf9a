// Short-K NEON xor-popcount GEMM (K = 1..16 words): the weight rows of a
// panel of NR output channels stay in registers while the activation rows
// stream past, one row (NR outputs) per iteration, for any M.
//
// Why: a register-blocked tile pays its horizontal reduction (bytes -> one
// u32 per output) and its row set-up once per tile, which a long K amortizes
// and a short one does not: the 1x1 convolutions of MobileNet-shaped binary
// networks (ReActNet-A: K = in_c / 64 = 1..16 words) and the stride-2 1x1
// shortcuts of ResNets spent most of their instructions there. Here the
// reduction is shared by NR outputs and nothing is reloaded per row but the
// row itself.
//
// Arithmetic of one row a against the panel's weight rows b_0..b_{NR-1}
// (Q = K / 2 full 128-bit steps, an odd last word if K is odd):
//   s_n  = sum over the Q steps of cnt(a ^ b_n)          u8x16, bytes <= 8 Q
//   t_j  = addp(s_2j, s_2j+1)                             bytes 0-7: column 2j, 8-15: 2j + 1
//        + cnt(a_odd | a_odd ^ b_2j,odd | b_2j+1,odd)     the odd word, same lanes (<= 8)
// so a byte of t_j is at most V = 16 Q + 8 (odd K). Then, NR >= 4:
//   addp(t_2i, t_2i+1)                                    columns 4i..4i+3, 4 bytes each (<= 2V <= 255)
//   uaddlp twice                                          u32: the 4 columns' sums, stored
// and NR = 2: uaddlp twice and a 2-lane addp. Three instructions (eor, cnt,
// add or addp) per output and 128-bit step, the bound of the tiled kernels, plus
// per row its loads, about 1.5 reduction instructions per 2 outputs, the
// stores and the loop.
//
// NR per K is the largest of 16, 8, 4, 2 whose weight registers, NR * Q + (K
// odd ? NR / 2 : 0), fit the architecture's register budget (and with 2V <=
// 255 for NR >= 4). Columns past the last full panel (N mod NR) are left to
// the caller's tiled kernel.
//
// Included by one file per ISA (bgemm/arm64, bgemm/arm32), like bgemm_tiles.h.
#pragma once

#include <arm_neon.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "bgemm/bgemm.h"
#include "core/types.h"

namespace irnet {
namespace bgemm_short_k {

constexpr int kMaxWords = 16;

// Largest byte of t_j (see the header comment).
constexpr int max_t_byte(int K) { return 16 * (K / 2) + (K % 2 != 0 ? 8 : 0); }

// Weight registers of a panel of NR columns.
constexpr int weight_registers(int K, int NR) { return NR * (K / 2) + (K % 2 != 0 ? NR / 2 : 0); }

constexpr int panel_columns(int K, int register_budget) {
  for (const int nr : {16, 8, 4})
    if (weight_registers(K, nr) <= register_budget && 2 * max_t_byte(K) <= 255) return nr;
  return 2;
}

inline uint8x16_t load_q(const BitWord* p) { return vreinterpretq_u8_u64(vld1q_u64(p)); }

inline uint8x16_t xor_count(uint8x16_t a, uint8x16_t b) { return vcntq_u8(veorq_u8(a, b)); }

// addp: bytes 0-7 the pairwise sums of x, 8-15 those of y.
inline uint8x16_t pairwise_add(uint8x16_t x, uint8x16_t y) {
#if defined(__aarch64__)
  return vpaddq_u8(x, y);
#else
  return vcombine_u8(vpadd_u8(vget_low_u8(x), vget_high_u8(x)), vpadd_u8(vget_low_u8(y), vget_high_u8(y)));
#endif
}

// u8 bytes -> u32 lanes, each the sum of 4 neighbouring bytes.
inline uint32x4_t widen_sums(uint8x16_t x) { return vpaddlq_u16(vpaddlq_u8(x)); }

// `panels` panels of NR columns: C[m][p * NR + n] for every m < M.
template <int K, int NR>
void run_panels(std::size_t M, std::size_t panels, const BitWord* A, std::size_t lda, const BitWord* B,
                std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  constexpr int Q = K / 2;
  constexpr bool kOdd = K % 2 != 0;
  static_assert(K >= 1 && K <= kMaxWords && NR % 2 == 0 && 16 % NR == 0, "short-K panel shape");
  static_assert(NR == 2 || 2 * max_t_byte(K) <= 255, "addp of two t registers overflows a byte");
  for (std::size_t p = 0; p < panels; ++p, B += NR * ldb, C += NR) {
    uint8x16_t b[NR][Q > 0 ? Q : 1];
    uint8x16_t b_odd[NR / 2];  // the odd words of columns 2j | 2j + 1
    for (int n = 0; n < NR; ++n)
      for (int q = 0; q < Q; ++q) b[n][q] = load_q(B + n * ldb + 2 * q);
    if constexpr (kOdd)
      for (int j = 0; j < NR / 2; ++j)
        b_odd[j] = vreinterpretq_u8_u64(vcombine_u64(vld1_u64(B + 2 * j * ldb + K - 1),
                                                     vld1_u64(B + (2 * j + 1) * ldb + K - 1)));
    const BitWord* a_row = A;
    std::int32_t* c_row = C;
    for (std::size_t rows_left = M; rows_left != 0; --rows_left, a_row += lda, c_row += ldc) {
      uint8x16_t a[Q > 0 ? Q : 1];
      for (int q = 0; q < Q; ++q) a[q] = load_q(a_row + 2 * q);
      uint8x16_t a_odd = vdupq_n_u8(0);
      if constexpr (kOdd) a_odd = vreinterpretq_u8_u64(vld1q_dup_u64(a_row + K - 1));
      const auto column = [&](int n) {
        uint8x16_t s = xor_count(a[0], b[n][0]);
        for (int q = 1; q < Q; ++q) s = vaddq_u8(s, xor_count(a[q], b[n][q]));
        return s;
      };
      uint8x16_t t[NR / 2];
      for (int j = 0; j < NR / 2; ++j) {
        if constexpr (Q > 0) {
          t[j] = pairwise_add(column(2 * j), column(2 * j + 1));
          if constexpr (kOdd) t[j] = vaddq_u8(t[j], xor_count(a_odd, b_odd[j]));
        } else {
          t[j] = xor_count(a_odd, b_odd[j]);
        }
      }
      if constexpr (NR == 2) {
        const uint32x4_t halves = widen_sums(t[0]);  // column 0 in lanes 0-1, column 1 in 2-3
        vst1_s32(c_row, vreinterpret_s32_u32(vpadd_u32(vget_low_u32(halves), vget_high_u32(halves))));
      } else {
        for (int i = 0; i < NR / 4; ++i)
          vst1q_s32(c_row + 4 * i, vreinterpretq_s32_u32(widen_sums(pairwise_add(t[2 * i], t[2 * i + 1]))));
      }
    }
  }
}

// Half words (K = 1, every word's bits in its low 32: <= 32 channels): four
// columns' half words in one q register, the row's half word in all four
// lanes, so one eor / cnt counts four outputs; each u32 lane then sums its 4
// bytes (two uaddlp). 16 columns per panel (4 weight registers).
constexpr std::size_t kHalfWordColumns = 16;

inline void run_half_word_panels(std::size_t M, std::size_t panels, const BitWord* A, std::size_t lda,
                                 const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  constexpr int kGroups = int(kHalfWordColumns) / 4;
  for (std::size_t p = 0; p < panels; ++p, B += kHalfWordColumns * ldb, C += kHalfWordColumns) {
    uint8x16_t b[kGroups];  // b[g] lane i: column 4g + i's half word
    for (int g = 0; g < kGroups; ++g) {
      uint32x4_t lanes = vdupq_n_u32(0);
      lanes = vsetq_lane_u32(static_cast<std::uint32_t>(B[(4 * g + 0) * ldb]), lanes, 0);
      lanes = vsetq_lane_u32(static_cast<std::uint32_t>(B[(4 * g + 1) * ldb]), lanes, 1);
      lanes = vsetq_lane_u32(static_cast<std::uint32_t>(B[(4 * g + 2) * ldb]), lanes, 2);
      lanes = vsetq_lane_u32(static_cast<std::uint32_t>(B[(4 * g + 3) * ldb]), lanes, 3);
      b[g] = vreinterpretq_u8_u32(lanes);
    }
    const BitWord* a_row = A;
    std::int32_t* c_row = C;
    for (std::size_t rows_left = M; rows_left != 0; --rows_left, a_row += lda, c_row += ldc) {
      // The word's low half (little-endian: its first 4 bytes) in all four lanes.
      const uint8x16_t a = vreinterpretq_u8_u32(vld1q_dup_u32(reinterpret_cast<const std::uint32_t*>(a_row)));
      for (int g = 0; g < kGroups; ++g)
        vst1q_s32(c_row + 4 * g, vreinterpretq_s32_u32(widen_sums(xor_count(a, b[g]))));
    }
  }
}

// The full panels of run_half_word_panels (K = 1 only); returns the columns done.
inline std::size_t run_half_words(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                                  const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  if (K != 1 || M == 0) return 0;
  const std::size_t panels = N / kHalfWordColumns;
  if (panels != 0) run_half_word_panels(M, panels, A, lda, B, ldb, C, ldc);
  return panels * kHalfWordColumns;
}

using PanelsFn = void (*)(std::size_t M, std::size_t panels, const BitWord* A, std::size_t lda, const BitWord* B,
                          std::size_t ldb, std::int32_t* C, std::size_t ldc);

template <int kRegisterBudget, std::size_t... I>
constexpr std::array<PanelsFn, sizeof...(I)> make_panels_table(std::index_sequence<I...>) {
  // Entry K - 1: run_panels<K, panel_columns(K)>.
  return {{&run_panels<int(I) + 1, panel_columns(int(I) + 1, kRegisterBudget)>...}};
}

// The full panels of C = popcount(A x B) for 1 <= K <= kWords (<= kMaxWords)
// words; returns the columns done (0 for any other K): columns [done, N) are
// the caller's.
template <int kRegisterBudget, int kWords>
std::size_t run(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
                std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  static_assert(kWords >= 1 && kWords <= kMaxWords, "short-K range");
  static constexpr std::array<PanelsFn, kWords> kPanels =
      make_panels_table<kRegisterBudget>(std::make_index_sequence<kWords>{});
  if (K == 0 || K > std::size_t(kWords) || M == 0) return 0;
  const std::size_t columns = std::size_t(panel_columns(int(K), kRegisterBudget));
  const std::size_t panels = N / columns;
  if (panels != 0) kPanels[K - 1](M, panels, A, lda, B, ldb, C, ldc);
  return panels * columns;
}

// A BgemmFn: the short-K panels, the columns they leave and any longer K by
// `tiled` (the architecture's register-blocked kernel).
template <int kRegisterBudget, int kWords, BgemmFn tiled>
void bgemm(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda, const BitWord* B,
           std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  const std::size_t done = run<kRegisterBudget, kWords>(M, N, K, A, lda, B, ldb, C, ldc);
  tiled(M, N - done, K, A, lda, B + done * ldb, ldb, C + done, ldc);
}

// A run_half_words (bgemm.h): run_half_word_panels, the columns they leave by `rest`.
template <BgemmFn rest>
void bgemm_half_words(std::size_t M, std::size_t N, std::size_t K, const BitWord* A, std::size_t lda,
                      const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  const std::size_t done = run_half_words(M, N, K, A, lda, B, ldb, C, ldc);
  rest(M, N - done, K, A, lda, B + done * ldb, ldb, C + done, ldc);
}

}  // namespace bgemm_short_k
}  // namespace irnet
