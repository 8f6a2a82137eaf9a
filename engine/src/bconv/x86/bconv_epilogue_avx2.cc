// x86 AVX2 fused epilogue rows: 8 channels per ymm register, one pass per row.
//
// Per 8 channels o of a float row:
//   acc = base - 2 * popcount            (vpaddd, vpsubd)
//   y   = float(acc) * multiplier        (vcvtdq2ps, vmulps: rounded once)
//   y   = y + bias (+ residual)          (vaddps; separate from the product, no FMA)
//   clamp, store y, bits = movemask(y < 0)
// Activation rows go on after the clamp with z = y + shift_in (vaddps),
// z < 0 ? z * slope : z (vmulps, vcmpltps, vblendvps), y = z + shift_out, and
// their bits are movemask(y < -threshold); their residual offset is o mod C_r.
// Clamps (bconv_epilogue.h; reference  y < lo ? lo : (y > hi ? hi : y)):
//   kMinMax: vminps(hi, y) then vmaxps(lo, y). x86 min/max return their
//     SECOND operand unless the first compares strictly less/greater, so with
//     y second they are  hi < y ? hi : y  and  lo > y ? lo : y: a NaN y stays y.
//   kSelect: the reference's two compares and blends, in its order (exact for
//     signed zero bounds).
// Bits follow bitpack.h: channel c of a word is bit c; y < 0 is the ordered
// compare (false for -0 and NaN), its 8 lane masks one vmovmskps byte, and the
// 8 bytes of 64 channels shifted into one word. The last 1..7 channels of a row
// run through the same operations with masked loads and stores (vpmaskmovd,
// vmaskmovps): lanes past the row read as 0, are never stored, and their bits
// are cleared, so the last word's tail bits are 0.
// Threshold rows: bit = acc * dir < limit with vpmulld and vpcmpgtd, 8 per step.
#include "bconv/x86/bconv_epilogue_avx2.h"

#include <immintrin.h>

#include "bconv/bconv_epilogue_row.h"

namespace irnet {
namespace {

constexpr int kLanes = 8;

// Lanes [0, count) all-ones, the others 0 (0 <= count <= 8).
inline __m256i first_lanes(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// base - 2 * popcount of 8 channels.
inline __m256i accumulators(__m256i base, __m256i popcounts) {
  return _mm256_sub_epi32(base, _mm256_add_epi32(popcounts, popcounts));
}

// The 8 sign bits (y < 0) of y as one byte, channel o + l in bit l.
inline unsigned negative_bits(__m256 y) {
  return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LT_OQ)));
}

// One float row's inputs and outputs; step(o) computes channels [o, o + 8),
// masked_step(o, m) the lanes of m.
template <bool kStoreFloat, bool kResidual, EpilogueClamp kClamp, bool kActivation>
class FloatRow {
 public:
  FloatRow(const EpilogueConstants& c, const std::int32_t* popcounts, const std::int32_t* base,
           const float* residual, float* y)
      : popcounts_(popcounts), base_(base), multiplier_(c.multiplier), bias_(c.bias), residual_(residual), y_(y),
        c_(c), lo_(_mm256_set1_ps(c.clamp_lo)), hi_(_mm256_set1_ps(c.clamp_hi)) {}

  // Channels [o, o + 8): y stored (kStoreFloat), sign bits returned.
  unsigned step(int o) const {
    const __m256i acc = accumulators(load_i32(base_ + o), load_i32(popcounts_ + o));
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(multiplier_ + o));
    v = _mm256_add_ps(v, _mm256_loadu_ps(bias_ + o));
    if (kResidual) v = _mm256_add_ps(v, _mm256_loadu_ps(residual_ + residual_offset(o)));
    v = clamp(v);
    if (kActivation)
      v = activation(v, _mm256_loadu_ps(c_.act_shift_in + o), _mm256_loadu_ps(c_.act_slope + o),
                     _mm256_loadu_ps(c_.act_shift_out + o));
    if (kStoreFloat) _mm256_storeu_ps(y_ + o, v);
    if (kActivation) return below_bits(v, _mm256_loadu_ps(c_.neg_threshold + o));
    return negative_bits(v);
  }

  // The lanes of `mask` of channels [o, o + 8); bits of the other lanes are 0.
  unsigned masked_step(int o, __m256i mask) const {
    const __m256i acc =
        accumulators(_mm256_maskload_epi32(base_ + o, mask), _mm256_maskload_epi32(popcounts_ + o, mask));
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_maskload_ps(multiplier_ + o, mask));
    v = _mm256_add_ps(v, _mm256_maskload_ps(bias_ + o, mask));
    if (kResidual) v = _mm256_add_ps(v, _mm256_maskload_ps(residual_ + residual_offset(o), mask));
    v = clamp(v);
    if (kActivation)
      v = activation(v, _mm256_maskload_ps(c_.act_shift_in + o, mask), _mm256_maskload_ps(c_.act_slope + o, mask),
                     _mm256_maskload_ps(c_.act_shift_out + o, mask));
    if (kStoreFloat) _mm256_maskstore_ps(y_ + o, mask, v);
    const unsigned bits =
        kActivation ? below_bits(v, _mm256_maskload_ps(c_.neg_threshold + o, mask)) : negative_bits(v);
    return bits & static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(mask)));
  }

 private:
  static __m256i load_i32(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

  // Channel o's residual: o mod C_r (the steps start at multiples of 8, C_r is one).
  int residual_offset(int o) const {
    if (!kActivation || o < c_.residual_channels) return o;
    return o % c_.residual_channels;
  }

  static __m256 activation(__m256 y, __m256 shift_in, __m256 slope, __m256 shift_out) {
    const __m256 z = _mm256_add_ps(y, shift_in);
    const __m256 negative = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_add_ps(_mm256_blendv_ps(z, _mm256_mul_ps(z, slope), negative), shift_out);
  }

  // y < limit (ordered: false for NaN) of 8 channels as 8 bits.
  static unsigned below_bits(__m256 y, __m256 limit) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(y, limit, _CMP_LT_OQ)));
  }

  __m256 clamp(__m256 y) const {
    if (kClamp == EpilogueClamp::kMinMax) return _mm256_max_ps(lo_, _mm256_min_ps(hi_, y));
    if (kClamp == EpilogueClamp::kSelect) {
      const __m256 above = _mm256_blendv_ps(y, hi_, _mm256_cmp_ps(y, hi_, _CMP_GT_OQ));
      return _mm256_blendv_ps(above, lo_, _mm256_cmp_ps(y, lo_, _CMP_LT_OQ));
    }
    return y;
  }

  const std::int32_t* popcounts_;
  const std::int32_t* base_;
  const float* multiplier_;
  const float* bias_;
  const float* residual_;
  float* y_;
  const EpilogueConstants& c_;
  __m256 lo_, hi_;
};

// Runs `step` (channels [o, o + 8) -> their 8 sign bits) and `masked_step`
// (o, lane mask -> bits) over a row of n channels and stores its packed words
// to bits when kBits: whole words of 8 steps, then the remaining steps and
// the masked tail into the last word.
template <bool kBits, typename Step, typename MaskedStep>
inline void row_steps(int n, BitWord* bits, Step step, MaskedStep masked_step) {
  int o = 0;
  if (kBits) {
    for (; o + kBitsPerWord <= n; o += kBitsPerWord) {
      BitWord word = 0;
      for (int k = 0; k < kBitsPerWord / kLanes; ++k) word |= BitWord{step(o + k * kLanes)} << (k * kLanes);
      *bits++ = word;
    }
  }
  BitWord word = 0;
  for (; o + kLanes <= n; o += kLanes) word |= BitWord{step(o)} << (o % kBitsPerWord);
  if (o < n) word |= BitWord{masked_step(o, first_lanes(n - o))} << (o % kBitsPerWord);
  if (kBits && n % kBitsPerWord != 0) *bits = word;
}

// The float rows, as select_float_rows (bconv_epilogue.h) instantiates them.
struct FloatRowsAvx2 {
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation>
  static void run(const EpilogueConstants& c, const EpilogueRows& rows) {
    const int n = c.channels;
    const std::size_t words = packed_words(static_cast<std::size_t>(n));
    const std::size_t residual_row = kActivation ? c.residual_channels : n;
    for (std::size_t r = 0; r < rows.count; ++r) {
      const std::size_t first = r * static_cast<std::size_t>(n);
      const FloatRow<kStoreFloat, kResidual, kClamp, kActivation> row(
          c, rows.popcounts + first, rows.bases[r], kResidual ? rows.residual + r * residual_row : nullptr,
          kStoreFloat ? rows.y + first : nullptr);
      row_steps<kBits>(
          n, kBits ? rows.bits + r * words : nullptr, [&row](int o) { return row.step(o); },
          [&row](int o, __m256i mask) { return row.masked_step(o, mask); });
    }
  }
};

// acc * dir < limit of 8 channels as 8 bits, channel o + l in bit l.
inline unsigned threshold_bits(__m256i acc, __m256i dir, __m256i limit) {
  return static_cast<unsigned>(
      _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, _mm256_mullo_epi32(acc, dir)))));
}

}  // namespace

EpilogueRowsFn bconv_epilogue_float_rows_avx2(bool store_float, bool bits, bool residual, EpilogueClamp clamp,
                                              bool activation) {
  return select_float_rows<FloatRowsAvx2>(store_float, bits, residual, clamp, activation);
}

void bconv_epilogue_threshold_rows_avx2(const EpilogueConstants& c, const EpilogueRows& rows) {
  const int n = c.channels;
  const std::size_t words = packed_words(static_cast<std::size_t>(n));
  const auto load = [](const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  for (std::size_t r = 0; r < rows.count; ++r) {
    const std::int32_t* popcounts = rows.popcounts + r * static_cast<std::size_t>(n);
    const std::int32_t* base = rows.bases[r];
    row_steps<true>(
        n, rows.bits + r * words,
        [&](int o) {
          return threshold_bits(accumulators(load(base + o), load(popcounts + o)), load(c.dir + o),
                                load(c.limit + o));
        },
        [&](int o, __m256i mask) {
          const __m256i acc =
              accumulators(_mm256_maskload_epi32(base + o, mask), _mm256_maskload_epi32(popcounts + o, mask));
          return threshold_bits(acc, _mm256_maskload_epi32(c.dir + o, mask),
                                _mm256_maskload_epi32(c.limit + o, mask)) &
                 static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(mask)));
        });
  }
}

void bconv_epilogue_float_row_avx2(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                                   const float* bias, const float* res, bool clamp, float lo, float hi, float* y) {
  float_epilogue_row(n, acc, pow2, scale, bias, res, clamp, lo, hi, y);
}

}  // namespace irnet
