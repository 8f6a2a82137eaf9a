// ARMv7 NEON fused epilogue rows: 4 channels per q register, 8 per step.
//
// ARMv7 NEON is not IEEE on two points: it flushes subnormal inputs and
// results to (signed) zero, and a NaN result is always the default NaN
// instead of the NaN operand. The reference (bconv_epilogue.h) runs on VFP,
// which has neither. This kernel is exact because it only runs where neither
// can happen:
//   - constants (float_constants_ok, checked once when BConv2d is built):
//     every multiplier, bias and clamp bound is 0, +-inf, or a finite float
//     with |x| >= 2^-102 (no NaN, nothing smaller). Otherwise BConv2d keeps
//     its portable epilogue;
//   - residuals (checked per row, before anything of it is written: the
//     residual may be the output itself): the same condition; a row that
//     breaks it runs one channel at a time on VFP.
// Why that suffices. A float x with |x| >= 2^-102 has an ulp >= 2^-125. Let
// a, b be zero or normal with max(|a|, |b|) >= 2^-102. If one is zero, a + b
// is the other. Else a + b can only fall below 2^-126 by cancellation, so
// |a| and |b| are both > 2^-103, both ulps are >= 2^-126, and the exact sum is
// a nonzero multiple of 2^-126 (or zero): a + b is never subnormal. Now
//   float(acc) * m: 0, or |acc| >= 1 times |m| >= 2^-102 (or an infinity);
//   + bias, + residual: each step adds an operand that is 0, infinite or
//   >= 2^-102 to a value that is 0 or normal (or infinite);
// so no input and no result is ever subnormal, and min/max/compares against
// the bounds see normal numbers. NaNs: no operand is a NaN, so every NaN is
// generated (inf - inf, 0 * inf) and is the default NaN on VFP as well;
// vmin/vmax of a NaN y return the default NaN, which is y.
//
// Activation rows add to the constants' condition: every shift, slope and
// -threshold is such an operand too, and for every channel the slope is 0,
// |slope| >= 1, or shift_out is nonzero. Then z = y + shift_in is 0 or normal
// as above, so is z * slope for a zero slope or |slope| >= 1 (|z| >= 2^-126),
// and otherwise a subnormal z * slope that NEON flushes to zero is added to a
// shift_out with |shift_out| >= 2^-102, whose ulp is >= 2^-125: the exact sum
// lies within half an ulp of shift_out, which it rounds to either way. A
// normal z * slope plus shift_out, and y plus -threshold compared, are the
// sums of the argument above.
//
// Per 8 channels: acc = base - 2 * popcount (vmls), vcvt, vmul by the exact
// multiplier, vadd bias, (vadd residual), (clamp), store y, vclt #0 for the
// bits (exact: y is never subnormal), narrowed and summed into words as in
// sign_bytes_neon_a32.h. Channels past the last full word (float-only rows:
// past the last full 8-channel step) run on VFP one at a time.
// Activation rows: then z = y + shift_in, vclt #0, vmul by the slope, vbsl,
// y = z + shift_out, bits y < -threshold (vcgt); the residual offset of an
// 8-channel step goes back to 0 after C_r channels (a multiple of 8).
// Threshold rows (bits only, no residual): integers only, acc * dir < limit.
#include "bconv/arm32/bconv_epilogue_neon_a32.h"

#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "bconv/bconv_epilogue_row.h"
#include "bitpack/arm32/sign_bytes_neon_a32.h"
#include "common/arm32/float_neon_a32.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

constexpr int kStep = 8;                         // channels per step: two q registers
constexpr std::uint32_t kTinyBits = 25u << 23;   // 2^-102 (biased exponent 127 - 102)

// 0, +-inf, or finite with |x| >= 2^-102 (see above).
bool neon_exact_operand(float x) { return !flush_hazard<true>(x, kTinyBits); }

// Every residual of a row passes neon_exact_operand. Out of line: it runs
// once per row, and inlined into the row loops it makes them longer (more
// instructions per pass) than the call it saves.
__attribute__((noinline)) bool epilogue_residuals_neon_exact(const float* r, int n) {
  return !any_flush_hazard<true>(r, static_cast<std::size_t>(n), kTinyBits);
}

// y < 0 as one vclt.f32 (see greater_neon_a32; y is never subnormal here).
inline uint32x4_t negative(float32x4_t y) {  // y < 0: false for -0 and NaN
  uint32x4_t m;
  __asm__("vclt.f32 %q0, %q1, #0" : "=w"(m) : "w"(y));
  return m;
}

// One row's inputs and y, 4 channels (value_4) or one (value_1) at channel o,
// whose residual is at ro (activation rows: o mod C_r; otherwise o).
template <bool kResidual, EpilogueClamp kClamp, bool kActivation>
class FloatRow {
 public:
  FloatRow(const EpilogueConstants& c, const std::int32_t* popcounts, const std::int32_t* base,
           const float* residual)
      : popcounts_(popcounts), base_(base), multiplier_(c.multiplier), bias_(c.bias), residual_(residual),
        shift_in_(c.act_shift_in), slope_(c.act_slope), shift_out_(c.act_shift_out), neg_threshold_(c.neg_threshold),
        residual_channels_(c.residual_channels), lo_(c.clamp_lo), hi_(c.clamp_hi), lo4_(vdupq_n_f32(c.clamp_lo)),
        hi4_(vdupq_n_f32(c.clamp_hi)) {}

  float32x4_t value_4(int o, int ro) const {
    const int32x4_t acc = vmlsq_n_s32(vld1q_s32(base_ + o), vld1q_s32(popcounts_ + o), 2);
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(multiplier_ + o));
    v = vaddq_f32(v, vld1q_f32(bias_ + o));
    if (kResidual) v = vaddq_f32(v, vld1q_f32(residual_ + ro));
    if (kClamp == EpilogueClamp::kMinMax) v = vmaxq_f32(vminq_f32(v, hi4_), lo4_);
    if (kClamp == EpilogueClamp::kSelect) {  // the reference's order: y < lo first, then y > hi
      const float32x4_t above = vbslq_f32(greater_neon_a32(v, hi4_), hi4_, v);
      v = vbslq_f32(greater_neon_a32(lo4_, v), lo4_, above);
    }
    if (kActivation) {
      const float32x4_t z = vaddq_f32(v, vld1q_f32(shift_in_ + o));
      v = vbslq_f32(negative(z), vmulq_f32(z, vld1q_f32(slope_ + o)), z);
      v = vaddq_f32(v, vld1q_f32(shift_out_ + o));
    }
    return v;
  }

  // The bit masks of y = value_4(o, ...): y < 0, or y < -threshold in activation rows.
  uint32x4_t bits_4(float32x4_t y, int o) const {
    return kActivation ? greater_neon_a32(vld1q_f32(neg_threshold_ + o), y) : negative(y);
  }

  float value_1(int o, bool* bit) const {
    float v = static_cast<float>(base_[o] - 2 * popcounts_[o]) * multiplier_[o];
    v = v + bias_[o];
    if (kResidual) v = v + residual_[kActivation ? o % residual_channels_ : o];
    if (kClamp != EpilogueClamp::kNone) v = epilogue_clamp(v, lo_, hi_);
    if (kActivation) v = epilogue_activation(v, shift_in_[o], slope_[o], shift_out_[o]);
    *bit = kActivation ? v < neg_threshold_[o] : v < 0.f;
    return v;
  }

 private:
  const std::int32_t* popcounts_;
  const std::int32_t* base_;
  const float* multiplier_;
  const float* bias_;
  const float* residual_;
  // Activation rows (copies: the stores of a row cannot alias them).
  const float* shift_in_;
  const float* slope_;
  const float* shift_out_;
  const float* neg_threshold_;
  int residual_channels_;
  float lo_, hi_;
  float32x4_t lo4_, hi4_;
};

// Channels [begin, n) of a row one at a time: y stored (kStoreFloat), bits
// from bit `begin` on ORed into the row's words (which the caller zeroed).
template <bool kStoreFloat, bool kBits, typename Row>
void channels_one_by_one(const Row& row, int begin, int n, float* y, BitWord* bits) {
  for (int o = begin; o < n; ++o) {
    bool bit;
    const float v = row.value_1(o, &bit);
    if (kStoreFloat) y[o] = v;
    if (kBits && bit) bits[o / kBitsPerWord] |= BitWord{1} << (o % kBitsPerWord);
  }
}

// The float rows, as select_float_rows (bconv_epilogue.h) instantiates them.
struct EpilogueFloatRowsNeonA32 {
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation>
  static void run(const EpilogueConstants& c, const EpilogueRows& rows) {
    const int n = c.channels;
    const std::size_t words = packed_words(static_cast<std::size_t>(n));
    const int vector_end = kBits ? n / kBitsPerWord * kBitsPerWord : n / kStep * kStep;
    const int residual_channels = kActivation ? c.residual_channels : n;
    const uint8x8_t weights = sign_byte_weights();
    for (std::size_t r = 0; r < rows.count; ++r) {
      const std::size_t first = r * static_cast<std::size_t>(n);
      const float* residual = kResidual ? rows.residual + r * static_cast<std::size_t>(residual_channels) : nullptr;
      float* y = kStoreFloat ? rows.y + first : nullptr;
      BitWord* bits = kBits ? rows.bits + r * words : nullptr;
      const FloatRow<kResidual, kClamp, kActivation> row(c, rows.popcounts + first, rows.bases[r], residual);
      // The residual offset of channel `at`, a multiple of 8 (activation rows: mod C_r).
      int ro = 0;
      const auto residual_offset = [&](int at) {
        if (!kActivation) return at;
        const int offset = ro;
        ro = ro + kStep == residual_channels ? 0 : ro + kStep;
        return offset;
      };
      int o = 0;
      if (!kResidual || epilogue_residuals_neon_exact(residual, residual_channels)) {
        if (kBits) {
          for (; o < vector_end; o += kBitsPerWord)
            bits[o / kBitsPerWord] = pack_sign_word([&](int j) {
              const int at = o + 8 * j, rat = residual_offset(at);
              const float32x4_t lo = row.value_4(at, rat), hi = row.value_4(at + 4, rat + 4);
              if (kStoreFloat) {
                vst1q_f32(y + at, lo);
                vst1q_f32(y + at + 4, hi);
              }
              return weighted_sign_bytes(row.bits_4(lo, at), row.bits_4(hi, at + 4), weights);
            });
        } else {
          for (; o < vector_end; o += kStep) {
            const int ro_o = residual_offset(o);
            vst1q_f32(y + o, row.value_4(o, ro_o));
            vst1q_f32(y + o + 4, row.value_4(o + 4, ro_o + 4));
          }
        }
      }
      if (o == n) continue;
      if (kBits) std::fill(bits + o / kBitsPerWord, bits + words, BitWord{0});
      channels_one_by_one<kStoreFloat, kBits>(row, o, n, y, bits);
    }
  }
};

}  // namespace

bool bconv_epilogue_float_constants_ok_neon_a32(const EpilogueConstants& c, bool activation) {
  if (!neon_exact_operand(c.clamp_lo) || !neon_exact_operand(c.clamp_hi)) return false;
  for (int o = 0; o < c.channels; ++o) {
    if (!neon_exact_operand(c.multiplier[o]) || !neon_exact_operand(c.bias[o])) return false;
    if (!activation) continue;
    const float slope = c.act_slope[o];
    if (!neon_exact_operand(c.act_shift_in[o]) || !neon_exact_operand(slope) ||
        !neon_exact_operand(c.act_shift_out[o]) || !neon_exact_operand(c.neg_threshold[o]))
      return false;
    if (!(slope == 0.f || std::fabs(slope) >= 1.f || c.act_shift_out[o] != 0.f)) return false;
  }
  return true;
}

EpilogueRowsFn bconv_epilogue_float_rows_neon_a32(bool store_float, bool bits, bool residual, EpilogueClamp clamp,
                                                  bool activation) {
  return select_float_rows<EpilogueFloatRowsNeonA32>(store_float, bits, residual, clamp, activation);
}

void bconv_epilogue_threshold_rows_neon_a32(const EpilogueConstants& c, const EpilogueRows& rows) {
  const int n = c.channels, words = n / kBitsPerWord;
  const uint8x8_t weights = sign_byte_weights();
  for (std::size_t r = 0; r < rows.count; ++r) {
    const std::int32_t* popcounts = rows.popcounts + r * static_cast<std::size_t>(n);
    const std::int32_t* base = rows.bases[r];
    BitWord* bits = rows.bits + r * packed_words(static_cast<std::size_t>(n));
    const auto below_limit = [&](int o) {  // acc * dir < limit of channels o..o+3
      const int32x4_t acc = vmlsq_n_s32(vld1q_s32(base + o), vld1q_s32(popcounts + o), 2);
      return vcltq_s32(vmulq_s32(acc, vld1q_s32(c.dir + o)), vld1q_s32(c.limit + o));
    };
    for (int w = 0; w < words; ++w)
      bits[w] = pack_sign_word([&](int j) {
        const int o = w * kBitsPerWord + 8 * j;
        return weighted_sign_bytes(below_limit(o), below_limit(o + 4), weights);
      });
    if (words * kBitsPerWord == n) continue;
    BitWord tail = 0;
    for (int o = words * kBitsPerWord; o < n; ++o)
      if ((base[o] - 2 * popcounts[o]) * c.dir[o] < c.limit[o]) tail |= BitWord{1} << (o % kBitsPerWord);
    bits[words] = tail;
  }
}

namespace {
const BconvEpilogueKernel kNeon = {"bconv_epilogue_neon_a32", always_supported, bconv_epilogue_float_rows_neon_a32,
                                   bconv_epilogue_threshold_rows_neon_a32, bconv_epilogue_float_constants_ok_neon_a32,
                                   kStep, bconv_epilogue_float_row_portable};
const BconvEpilogueKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
