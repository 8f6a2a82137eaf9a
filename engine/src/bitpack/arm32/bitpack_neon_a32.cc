// ARMv7 NEON sign packing: 64 floats -> one 64-bit word per iteration.
//
//   1. x < 0 per lane: all-ones for negatives, zero for +0, -0, NaN and
//      positives, the bitpack.h convention (bit 1 <=> x < 0). Not with
//      vclt.f32: ARMv7 NEON flushes subnormal inputs to zero, so a negative
//      subnormal would compare as -0, and GCC therefore lowers vcltq_f32 to
//      scalar VFP compares (~12 instructions per float). The test is done on
//      the bits s (as int32) instead, exactly: x < 0 iff the sign is set, x is
//      not -0 (s = INT32_MIN) and not a NaN (s > bits of -inf), i.e.
//      INT32_MIN < s <= bits(-inf) = -2^23.
//   2. The masks of 64 channels to one word (sign_bytes_neon_a32.h).
// A row's last partial word is packed from a zero-filled copy of its tail; with
// a threshold, a tail of whole 8-channel groups straight from the row instead.
//
// With a threshold (bitpack.h: the bit is x < -t) the compare is one vcgt.f32
// of -t (t's sign bit flipped as an integer) against x. NEON flushes subnormal
// operands to signed zero, which keeps x <= -t but can turn x < -t into
// equality; that needs both |x| and |t| below the smallest normal (zeros
// included) and not both zero. So:
//   - no t_c is 0 or subnormal: NEON for every row, whatever x holds;
//   - some t_c is subnormal: the portable packer for the whole call;
//   - some t_c is 0 (none subnormal): NEON for rows without a subnormal x,
//     the portable packer for the others (one any_flush_hazard scan per row).
// A compare never produces a NaN, so NEON's default NaN changes nothing.
#include "bitpack/arm32/bitpack_neon_a32.h"

#include <arm_neon.h>

#include <cstdint>
#include <iterator>
#include <limits>

#include "bitpack/arm32/sign_bytes_neon_a32.h"
#include "bitpack/bitpack_rows.h"
#include "common/arm32/float_neon_a32.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

// All-ones in the lanes of x[0..4) that are < 0 (integer test, see above).
inline uint32x4_t negative_lanes(const float* x) {
  const int32x4_t s = vreinterpretq_s32_f32(vld1q_f32(x));
  const int32x4_t minus_zero = vdupq_n_s32(std::numeric_limits<std::int32_t>::min());
  const int32x4_t minus_inf = vdupq_n_s32(-(std::int32_t{1} << 23));  // 0xFF800000
  return vandq_u32(vcgtq_s32(s, minus_zero), vcleq_s32(s, minus_inf));
}

inline BitWord pack_64(const float* x) {
  const uint8x8_t weights = sign_byte_weights();
  return pack_sign_word([&](int j) {
    return weighted_sign_bytes(negative_lanes(x + 8 * j), negative_lanes(x + 8 * j + 4), weights);
  });
}

// x < -t per lane; exact when no operand is subnormal (see above).
inline uint32x4_t below_minus_threshold_lanes(const float* x, const float* t) {
  const uint32x4_t sign = vdupq_n_u32(0x80000000u);
  const float32x4_t minus_t = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(vld1q_f32(t)), sign));
  return greater_neon_a32(minus_t, vld1q_f32(x));
}

// The word of channels [0, 8 * groups) read from x and t (1 <= groups <= 8),
// its bits past them 0.
inline BitWord pack_groups_threshold(const float* x, const float* t, int groups) {
  const uint8x8_t weights = sign_byte_weights();
  return pack_sign_word([&](int j) {
    return j < groups ? weighted_sign_bytes(below_minus_threshold_lanes(x + 8 * j, t + 8 * j),
                                            below_minus_threshold_lanes(x + 8 * j + 4, t + 8 * j + 4), weights)
                      : vdup_n_u8(0);
  });
}

inline BitWord pack_64_threshold(const float* x, const float* t) {
  return pack_groups_threshold(x, t, kBitsPerWord / 8);
}

// pack_rows_by_word_threshold, except that a tail of whole 8-channel groups
// (ReActNet's 32-channel rows) is packed straight from the row: no zero-filled
// copy, and no compares of the padding.
void pack_rows_threshold(const float* x, std::size_t rows, std::size_t channels, const float* threshold,
                         BitWord* out) {
  const std::size_t full_words = channels / kBitsPerWord, tail = channels % kBitsPerWord;
  if (tail % 8 != 0) {
    pack_rows_by_word_threshold(x, rows, channels, threshold, out, pack_64_threshold);
    return;
  }
  const std::size_t row_words = full_words + (tail != 0);
  const float* tail_threshold = threshold + full_words * kBitsPerWord;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    BitWord* dst = out + r * row_words;
    for (std::size_t w = 0; w < full_words; ++w)
      dst[w] = pack_64_threshold(row + w * kBitsPerWord, threshold + w * kBitsPerWord);
    if (tail != 0)
      dst[full_words] = pack_groups_threshold(row + full_words * kBitsPerWord, tail_threshold,
                                              static_cast<int>(tail / 8));
  }
}

}  // namespace

void pack_signs_threshold_neon_a32(const float* x, std::size_t rows, std::size_t channels,
                                   const float* threshold, BitWord* out) {
  bool zero_threshold = false;
  for (std::size_t c = 0; c < channels; ++c) {
    const std::uint32_t magnitude = float_bits(threshold[c]) & 0x7FFFFFFFu;
    if (magnitude != 0 && magnitude < kFloatMinNormalBits) {
      pack_signs_threshold_portable(x, rows, channels, threshold, out);
      return;
    }
    zero_threshold |= magnitude == 0;
  }
  if (!zero_threshold) {
    pack_rows_threshold(x, rows, channels, threshold, out);
    return;
  }
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * channels;
    BitWord* dst = out + r * words;
    if (any_flush_hazard<false>(row, channels, kFloatMinNormalBits))
      pack_signs_threshold_portable(row, 1, channels, threshold, dst);
    else
      pack_rows_threshold(row, 1, channels, threshold, dst);
  }
}

void pack_signs_neon_a32(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, pack_64);
}

namespace {
const BitpackKernel kNeon = {"pack_signs_neon_a32", always_supported, &pack_signs_neon_a32,
                             &pack_signs_threshold_neon_a32};
const BitpackKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BitpackKernel> kBitpackKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
