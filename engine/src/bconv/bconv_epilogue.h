// Fused epilogue rows of BConv2d: one pass over the channels of one output row,
// from the bgemm popcounts straight to the float and/or packed-bit outputs.
//
// Inputs per channel o of the row: the popcount P[o] and the accumulator base
// B[o] = k_bits - (zero-padding correction of this row's border class), so
// that acc = B[o] - 2 P[o] is the exact dot product (bconv2d.cc).
//
// Float rows compute the output transform of bconv2d.h with the IEEE operations
// of bconv2d_ref in its order, except that its two multiplies are one, by
// multiplier[o] = 2^-shift[o] * scale[o], used only when that product is exact
// in float: the reference's (acc * 2^-s) * scale rounds once (the first
// product is exact, bconv2d.cc), and so does acc * (2^-s * scale), on the same
// real number, so the two agree bit for bit. BConv2d checks the exactness per
// channel at construction and otherwise keeps its two-multiply portable path.
// The clamp is the reference's  y < lo ? lo : (y > hi ? hi : y). When neither
// bound is a zero it equals max(min(y, hi), lo) for every y (NaN included:
// both return the NaN operand); with a zero bound the two differ on signed
// zeros, so the exact compare-and-select form is kept for that case.
// Bits follow bitpack.h: bit = y < 0, tail bits of the last word 0.
//
// Activation rows (float rows compiled with kActivation; BConv2d takes them
// when the conv has an activation stage, a bit threshold or a repeated
// residual) go on after the clamp with the activation stage of bconv2d.h,
// every step present: absent shifts are -0 and an absent slope 1, identities
// for every float (bconv_epilogue_row.h). Their bits are y < neg_threshold[o]
// (= -threshold, +0 when absent), which is bconv2d.h's (y + t) < 0 for every
// float y and t: the sum of two floats rounds to 0 only when it is exactly 0,
// and otherwise keeps the exact sum's sign; a NaN y gives 0 both ways, and so
// does a NaN sum of infinities (inf < inf is false). Their residual repeats: row r reads residual + r * C_r,
// channel o its element o mod C_r (C_r = residual_channels; BConv2d takes the
// rows only when C_r is a multiple of the kernel's repeat_step).
//
// Threshold rows (bits without residual) compute bit = acc * dir[o] < limit[o]
// (the integer form of the bit, derived in bconv2d.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/types.h"

namespace irnet {

enum class EpilogueClamp { kNone, kMinMax, kSelect };

struct EpilogueConstants {
  int channels = 0;
  const float* multiplier = nullptr;  // float rows: 2^-shift * scale, exact
  const float* bias = nullptr;
  float clamp_lo = 0.f, clamp_hi = 0.f;
  const std::int32_t* dir = nullptr;    // threshold rows
  const std::int32_t* limit = nullptr;
  // Activation rows, [channels] each (absent steps as identities, see above).
  const float* act_shift_in = nullptr;
  const float* act_slope = nullptr;
  const float* act_shift_out = nullptr;
  const float* neg_threshold = nullptr;
  int residual_channels = 0;  // C_r, a divisor of channels
  // Every slope in (0, 1]: then z < 0 ? z * slope : z is max(z, z * slope)
  // for every z, -0, infinities and NaN included (a zero slope is not: +inf * 0 is NaN).
  bool slopes_in_unit_interval = false;
};

// `count` consecutive output rows: row r reads popcounts + r * channels, its
// bases[r] and residual + r * channels (rows compiled with a residual; it may
// alias y; activation rows: residual + r * residual_channels), and writes y + r * channels (rows storing floats) and
// bits + r * packed_words(channels) (rows with bits).
struct EpilogueRows {
  std::size_t count = 0;
  const std::int32_t* popcounts = nullptr;
  const std::int32_t* const* bases = nullptr;
  const float* residual = nullptr;
  float* y = nullptr;
  BitWord* bits = nullptr;
};

using EpilogueRowsFn = void (*)(const EpilogueConstants& c, const EpilogueRows& rows);

// One output row of BConv2d's portable float epilogue, two multiplies as in
// bconv2d_ref (bconv/bconv_epilogue_row.h):
//   y[o] = clamp(((float(acc[o]) * pow2[o]) * scale[o] + bias[o]) + res[o])
// with the residual add skipped when res is null and the clamp when !clamp.
using FloatEpilogueRowFn = void (*)(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                                    const float* bias, const float* res, bool clamp, float lo, float hi,
                                    float* y);

// A variant of the "bconv_epilogue" kernel family (cpu/kernel_config.h): the
// fused rows of one instruction set, or none (the portable passes of BConv2d).
struct BconvEpilogueKernel {
  const char* name;     // e.g. "bconv_epilogue_avx2"
  bool (*supported)();  // can this CPU run it
  // The float rows compiled for this combination of outputs, residual, clamp
  // and activation; needs store_float or bits (a row with neither has no
  // output). Returns nullptr for a combination without fused rows (the conv
  // takes the portable passes); float_rows == nullptr: no fused rows at all.
  EpilogueRowsFn (*float_rows)(bool store_float, bool bits, bool residual, EpilogueClamp clamp, bool activation);
  EpilogueRowsFn threshold_rows;
  // nullptr: the float rows are exact for all constants. Otherwise false for
  // constants they cannot compute exactly (multiplier, bias, clamp bounds and,
  // with `activation`, the activation constants; checked once per conv), which
  // then take BConv2d's portable epilogue.
  bool (*float_constants_ok)(const EpilogueConstants& c, bool activation);
  // Activation rows repeat a residual of C_r channels when C_r is a multiple of this.
  int repeat_step;
  // The portable passes' float row, compiled for this variant's instruction set.
  FloatEpilogueRowFn float_row;
};

// float_row compiled for the baseline instruction set (bconv_epilogue.cc).
void bconv_epilogue_float_row_portable(int n, const std::int32_t* acc, const float* pow2, const float* scale,
                                       const float* bias, const float* res, bool clamp, float lo, float hi,
                                       float* y);

// The instantiation Rows::run<kStoreFloat, kBits, kResidual, kClamp, kActivation>
// (each architecture's float rows, a struct with that static member template)
// for the run-time flags. Needs store_float or bits. Activation rows are
// instantiated without clamp only (nullptr with one: ReActNet has none).
namespace epilogue_detail {
template <class Rows, bool kStoreFloat, bool kBits, bool kResidual>
EpilogueRowsFn with_clamp(EpilogueClamp clamp, bool activation) {
  if (activation)
    return clamp == EpilogueClamp::kNone ? Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kNone, true>
                                         : nullptr;
  switch (clamp) {
    case EpilogueClamp::kMinMax: return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kMinMax, false>;
    case EpilogueClamp::kSelect: return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kSelect, false>;
    case EpilogueClamp::kNone: break;
  }
  return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kNone, false>;
}
template <class Rows, bool kStoreFloat, bool kBits>
EpilogueRowsFn with_residual(bool residual, EpilogueClamp clamp, bool activation) {
  return residual ? with_clamp<Rows, kStoreFloat, kBits, true>(clamp, activation)
                  : with_clamp<Rows, kStoreFloat, kBits, false>(clamp, activation);
}
}  // namespace epilogue_detail

template <class Rows>
EpilogueRowsFn select_float_rows(bool store_float, bool bits, bool residual, EpilogueClamp clamp, bool activation) {
  if (store_float && bits) return epilogue_detail::with_residual<Rows, true, true>(residual, clamp, activation);
  if (store_float) return epilogue_detail::with_residual<Rows, true, false>(residual, clamp, activation);
  return epilogue_detail::with_residual<Rows, false, true>(residual, clamp, activation);
}

}  // namespace irnet
