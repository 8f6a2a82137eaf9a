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
// Activation rows run in assembly (bconv_epilogue_act_rows_neon_a32.S), 32
// channels at a time: the same operations, the multiply and the bias add as
// one vmla (ARMv7 NEON rounds its product, with the same flush, before the
// add; bias + product is product + bias), then z = y + shift_in, the PReLU
// (max(z, z * slope) when every slope is in (0, 1], as on aarch64: z * slope
// >= z for z < 0 and <= z otherwise, with the signed zeros, infinities, a
// flushed -0 product and the default NaN alike; else vclt #0, vbsl),
// y = z + shift_out, bits y < -threshold (vcgt). Their residual test,
// |r| >= 2^-102 by vacge, accepts only neon_exact_operand values (NEON
// compares a subnormal as 0); a row it refuses (a zero residual is one) is
// tested exactly here and runs in assembly unchecked or on VFP. Channels
// past the last 32 run on VFP.
// Threshold rows (bits only, no residual): integers only, acc * dir < limit.
#include "bconv/arm32/bconv_epilogue_neon_a32.h"

#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>

#include "bconv/bconv_epilogue_row.h"
#include "bitpack/arm32/sign_bytes_neon_a32.h"
#include "common/arm32/float_neon_a32.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

constexpr int kStep = 8;                         // channels per step: two q registers
constexpr int kUnit = 32;                        // channels per unit of the activation rows in assembly
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

// One row's inputs and y, 4 channels (value_4, rows without activation) or
// one (value_1) at channel o, whose residual is at ro (value_4) or at o mod C_r.
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
    static_assert(!kActivation, "activation rows run in assembly");
    const int32x4_t acc = vmlsq_n_s32(vld1q_s32(base_ + o), vld1q_s32(popcounts_ + o), 2);
    float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(multiplier_ + o));
    v = vaddq_f32(v, vld1q_f32(bias_ + o));
    if (kResidual) v = vaddq_f32(v, vld1q_f32(residual_ + ro));
    if (kClamp == EpilogueClamp::kMinMax) v = vmaxq_f32(vminq_f32(v, hi4_), lo4_);
    if (kClamp == EpilogueClamp::kSelect) {  // the reference's order: y < lo first, then y > hi
      const float32x4_t above = vbslq_f32(greater_neon_a32(v, hi4_), hi4_, v);
      v = vbslq_f32(greater_neon_a32(lo4_, v), lo4_, above);
    }
    return v;
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

// The arguments of the activation rows in assembly, at the offsets
// bconv_epilogue_act_rows_neon_a32.S reads them.
struct ActivationRowsA32 {
  const float* multiplier;
  const float* bias;
  const float* shift_in;
  const float* slope;
  const float* shift_out;
  const float* neg_threshold;
  const std::int32_t* const* bases;  // row 0's
  std::uint32_t rows;                // >= 1
  std::uint32_t units;               // 32-channel units per row, >= 1
  std::uint32_t residual_units;      // units of a residual row checked before the row; 0: none
  std::uint32_t residual_bytes;      // 4 * C_r
  std::uint32_t row_skip_bytes;      // popcounts and y of a row's channels past its units
  std::uint32_t bits_skip_bytes;     // its words past the half words the units wrote (and the zero half)
  const std::int32_t* popcounts;     // row 0's, and so on
  const float* residual;
  float* y;
  BitWord* bits;
};
static_assert(offsetof(ActivationRowsA32, bases) == 24 && offsetof(ActivationRowsA32, rows) == 28 &&
                  offsetof(ActivationRowsA32, units) == 32 && offsetof(ActivationRowsA32, residual_units) == 36 &&
                  offsetof(ActivationRowsA32, residual_bytes) == 40 && offsetof(ActivationRowsA32, row_skip_bytes) == 44 &&
                  offsetof(ActivationRowsA32, bits_skip_bytes) == 48 && offsetof(ActivationRowsA32, popcounts) == 52 &&
                  offsetof(ActivationRowsA32, bits) == 64,
              "the offsets bconv_epilogue_act_rows_neon_a32.S reads");

// Rows done: a.rows, or the first row whose residual the check refused (none of it written).
using ActivationRowsAsm = std::size_t (*)(const ActivationRowsA32* a);
extern "C" {
std::size_t irnet_bconv_epilogue_act_rows_fb_r_max_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_fb_r_sel_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_fb_n_max_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_fb_n_sel_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_f_r_max_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_f_r_sel_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_f_n_max_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_f_n_sel_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_b_r_max_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_b_r_sel_neon_a32(const ActivationRowsA32* a);
std::size_t irnet_bconv_epilogue_act_rows_b_n_sel_neon_a32(const ActivationRowsA32* a);
}

// The assembly rows of these outputs and residual; the max form of the PReLU
// when every slope is in (0, 1] (bits-only rows without residual never have
// such slopes: BConv2d gives them the threshold rows).
template <bool kStoreFloat, bool kBits, bool kResidual>
ActivationRowsAsm activation_rows_asm(bool max_form) {
  if (kStoreFloat && kBits) {
    if (kResidual)
      return max_form ? irnet_bconv_epilogue_act_rows_fb_r_max_neon_a32 : irnet_bconv_epilogue_act_rows_fb_r_sel_neon_a32;
    return max_form ? irnet_bconv_epilogue_act_rows_fb_n_max_neon_a32 : irnet_bconv_epilogue_act_rows_fb_n_sel_neon_a32;
  }
  if (kStoreFloat) {
    if (kResidual)
      return max_form ? irnet_bconv_epilogue_act_rows_f_r_max_neon_a32 : irnet_bconv_epilogue_act_rows_f_r_sel_neon_a32;
    return max_form ? irnet_bconv_epilogue_act_rows_f_n_max_neon_a32 : irnet_bconv_epilogue_act_rows_f_n_sel_neon_a32;
  }
  if (kResidual)
    return max_form ? irnet_bconv_epilogue_act_rows_b_r_max_neon_a32 : irnet_bconv_epilogue_act_rows_b_r_sel_neon_a32;
  return irnet_bconv_epilogue_act_rows_b_n_sel_neon_a32;
}

// Activation rows: the full 32-channel units of runs of rows in assembly;
// on VFP the channels past them and the rows whose residuals are not exact
// operands. A row the assembly's check refused but whose residuals pass the
// exact test (zeros fail the check) runs in assembly unchecked.
template <bool kStoreFloat, bool kBits, bool kResidual>
void activation_rows(const EpilogueConstants& c, const EpilogueRows& rows) {
  const int n = c.channels, units = n / kUnit, vector_end = units * kUnit;
  const std::size_t words = packed_words(static_cast<std::size_t>(n));
  const std::size_t residual_channels = static_cast<std::size_t>(c.residual_channels);
  const ActivationRowsAsm assembly = activation_rows_asm<kStoreFloat, kBits, kResidual>(c.slopes_in_unit_interval);
  ActivationRowsA32 a{};
  a.multiplier = c.multiplier, a.bias = c.bias, a.shift_in = c.act_shift_in, a.slope = c.act_slope;
  a.shift_out = c.act_shift_out, a.neg_threshold = c.neg_threshold;
  a.units = static_cast<std::uint32_t>(units);
  a.residual_units = static_cast<std::uint32_t>(residual_channels / kUnit);
  a.residual_bytes = static_cast<std::uint32_t>(residual_channels * sizeof(float));
  a.row_skip_bytes = static_cast<std::uint32_t>((n - vector_end) * sizeof(float));
  a.bits_skip_bytes = static_cast<std::uint32_t>((words - (units + 1) / 2) * sizeof(BitWord));
  const auto residual_of = [&](std::size_t r) { return kResidual ? rows.residual + r * residual_channels : nullptr; };
  // Rows [r, r + count) in assembly; returns the rows done.
  const auto run_asm = [&](std::size_t r, std::size_t count) {
    const std::size_t first = r * static_cast<std::size_t>(n);
    a.rows = static_cast<std::uint32_t>(count);
    a.bases = rows.bases + r;
    a.popcounts = rows.popcounts + first;
    a.residual = residual_of(r);
    a.y = kStoreFloat ? rows.y + first : nullptr;
    a.bits = kBits ? rows.bits + r * words : nullptr;
    return assembly(&a);
  };
  // Channels [from, n) of row r on VFP (from: 0 or the end of the units).
  const auto finish_row = [&](std::size_t r, int from) {
    const std::size_t first = r * static_cast<std::size_t>(n);
    float* y = kStoreFloat ? rows.y + first : nullptr;
    BitWord* bits = kBits ? rows.bits + r * words : nullptr;
    if (kBits) std::fill(bits + (from + kBitsPerWord - 1) / kBitsPerWord, bits + words, BitWord{0});
    const FloatRow<kResidual, EpilogueClamp::kNone, true> row(c, rows.popcounts + first, rows.bases[r], residual_of(r));
    channels_one_by_one<kStoreFloat, kBits>(row, from, n, y, bits);
  };
  for (std::size_t r = 0; r < rows.count;) {
    const std::size_t done = units > 0 ? run_asm(r, rows.count - r) : 0;
    if (vector_end < n)
      for (std::size_t i = r; i < r + done; ++i) finish_row(i, vector_end);
    r += done;
    if (r == rows.count) break;
    if (units > 0 && kResidual && epilogue_residuals_neon_exact(residual_of(r), c.residual_channels)) {
      const std::uint32_t checked_units = a.residual_units;
      a.residual_units = 0;
      run_asm(r, 1);
      a.residual_units = checked_units;
      if (vector_end < n) finish_row(r, vector_end);
    } else {
      finish_row(r, 0);
    }
    ++r;
  }
}

// The float rows, as select_float_rows (bconv_epilogue.h) instantiates them.
struct EpilogueFloatRowsNeonA32 {
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation>
  static void run(const EpilogueConstants& c, const EpilogueRows& rows) {
    if constexpr (kActivation) {
      activation_rows<kStoreFloat, kBits, kResidual>(c, rows);
    } else {
      const int n = c.channels;
      const std::size_t words = packed_words(static_cast<std::size_t>(n));
      const int vector_end = kBits ? n / kBitsPerWord * kBitsPerWord : n / kStep * kStep;
      const uint8x8_t weights = sign_byte_weights();
      for (std::size_t r = 0; r < rows.count; ++r) {
        const std::size_t first = r * static_cast<std::size_t>(n);
        const float* residual = kResidual ? rows.residual + first : nullptr;
        float* y = kStoreFloat ? rows.y + first : nullptr;
        BitWord* bits = kBits ? rows.bits + r * words : nullptr;
        const FloatRow<kResidual, kClamp, false> row(c, rows.popcounts + first, rows.bases[r], residual);
        int o = 0;
        if (!kResidual || epilogue_residuals_neon_exact(residual, n)) {
          if (kBits) {
            for (; o < vector_end; o += kBitsPerWord)
              bits[o / kBitsPerWord] = pack_sign_word([&](int j) {
                const int at = o + 8 * j;
                const float32x4_t lo = row.value_4(at, at), hi = row.value_4(at + 4, at + 4);
                if (kStoreFloat) {
                  vst1q_f32(y + at, lo);
                  vst1q_f32(y + at + 4, hi);
                }
                return weighted_sign_bytes(negative(lo), negative(hi), weights);
              });
          } else {
            for (; o < vector_end; o += kStep) {
              vst1q_f32(y + o, row.value_4(o, o));
              vst1q_f32(y + o + 4, row.value_4(o + 4, o + 4));
            }
          }
        }
        if (o == n) continue;
        if (kBits) std::fill(bits + o / kBitsPerWord, bits + words, BitWord{0});
        channels_one_by_one<kStoreFloat, kBits>(row, o, n, y, bits);
      }
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
                                   kUnit, bconv_epilogue_float_row_portable};
const BconvEpilogueKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
