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
// Threshold rows (bits without residual) compute bit = acc * dir[o] < limit[o]
// (the integer form of y < 0, derived in bconv2d.cc).
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
};

// `count` consecutive output rows: row r reads popcounts + r * channels, its
// bases[r] and residual + r * channels (rows compiled with a residual; it may
// alias y), and writes y + r * channels (rows storing floats) and
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

// The fused rows of one instruction set.
struct FusedEpilogueKernel {
  const char* name;  // e.g. "bconv_epilogue_avx2"
  // The float rows compiled for this combination of outputs, residual and
  // clamp; needs store_float or bits (a row with neither has no output).
  EpilogueRowsFn (*float_rows)(bool store_float, bool bits, bool residual, EpilogueClamp clamp);
  EpilogueRowsFn threshold_rows;
  // nullptr: the float rows are exact for all constants. Otherwise false for
  // constants they cannot compute exactly (multiplier, bias, clamp bounds;
  // checked once per conv), which then take BConv2d's portable epilogue.
  bool (*float_constants_ok)(const EpilogueConstants& c) = nullptr;
};

// The instantiation Rows::run<kStoreFloat, kBits, kResidual, kClamp> (each
// architecture's float rows, a struct with that static member template) for
// the run-time flags. Needs store_float or bits.
namespace epilogue_detail {
template <class Rows, bool kStoreFloat, bool kBits, bool kResidual>
EpilogueRowsFn with_clamp(EpilogueClamp clamp) {
  switch (clamp) {
    case EpilogueClamp::kMinMax: return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kMinMax>;
    case EpilogueClamp::kSelect: return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kSelect>;
    case EpilogueClamp::kNone: break;
  }
  return Rows::template run<kStoreFloat, kBits, kResidual, EpilogueClamp::kNone>;
}
template <class Rows, bool kStoreFloat, bool kBits>
EpilogueRowsFn with_residual(bool residual, EpilogueClamp clamp) {
  return residual ? with_clamp<Rows, kStoreFloat, kBits, true>(clamp) : with_clamp<Rows, kStoreFloat, kBits, false>(clamp);
}
}  // namespace epilogue_detail

template <class Rows>
EpilogueRowsFn select_float_rows(bool store_float, bool bits, bool residual, EpilogueClamp clamp) {
  if (store_float && bits) return epilogue_detail::with_residual<Rows, true, true>(residual, clamp);
  if (store_float) return epilogue_detail::with_residual<Rows, true, false>(residual, clamp);
  return epilogue_detail::with_residual<Rows, false, true>(residual, clamp);
}

// The fused kernel this build has and this CPU runs (nullptr: none; BConv2d
// then uses its portable epilogue).
const FusedEpilogueKernel* fused_epilogue_kernel();

}  // namespace irnet
