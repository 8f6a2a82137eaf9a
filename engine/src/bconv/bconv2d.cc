// BConv2d: im2col of packed pixels (bconv2d_im2col.cc) + bgemm + exact epilogue.
//
// Per block of output rows and per group:
//   1. im2col: row r of the block gets, for each tap (i, j), the group's
//      in_c/groups channel bits of input pixel (oh*sh - pt + i*dh, ow*sw - pl + j*dw),
//      as packed_words(in_c/groups) words with zero tail bits. A tap in the
//      padding gets pad_fill_: all 0 (+1) for kZero / kPlusOne, the valid bits
//      set (-1) for kMinusOne. When in_c/groups is not a multiple of 64 the
//      group starts at a bit offset inside a word and its bits are extracted
//      with a funnel shift of two neighbouring words. With one group
//      (im2col_pixels) every tap is a whole input pixel, copied as in_words
//      words (tail bits already 0 by the packing convention); with dilation_w 1
//      the kw taps of one kernel row are kw consecutive pixels, one copy of
//      kw * in_words words when none of them is in the padding.
//      Taps of at most 32 channels (half_word_taps_) are then paired, two per
//      word (im2col_pair_taps, also applied to the weights once): their
//      bits above in_c/groups are 0 in both, so the pairs give the same counts
//      in about half the words.
//   2. bgemm: counts[r][o] = popcount(cols[r] XOR weights[o]) over K words.
//   (A 1x1 / stride 1 / unpadded / ungrouped conv, e.g. BinaryGemm, skips
//   im2col: its input pixels, whose tail bits are 0 by the packing
//   convention, already are the bgemm rows; over <= 32 channels they are
//   half words, for the kernel's run_half_words where it has one.)
//   3. epilogue: with k_bits = kh*kw*in_c/groups valid bits and P the count,
//      the xor-popcount identity gives the dot product over all taps,
//      filled ones included:  dot_filled = k_bits - 2P.
//      kPlusOne / kMinusOne: the fill *is* the pad value, dot = dot_filled.
//      kZero: the +1 fill added sum(w) over the padded taps, which must
//      contribute 0, so dot = dot_filled - sum_{padded taps} sum_c w[o,i,j,c].
//      Which taps are padded depends only on (which kernel rows fall outside
//      the input at this oh) x (which columns at this ow): output rows and
//      columns are grouped into classes with the same validity pattern and the
//      correction is precomputed per (row class, column class, channel).
//      Both are folded into acc_base_ = k_bits - correction: dot = base - 2P.
//
// Epilogue arithmetic: the output transform of bconv2d.h, identical to
// bconv2d_ref operation for operation. float(acc) is exact
// (|acc| <= k_bits <= 2^24). Multiplying a float by the
// float 2^-s only subtracts s from its exponent, with no rounding, as long
// as the result stays normal: |acc| >= 1 gives |y| >= 2^-s >= 2^-126 for
// s <= 126 (and acc = 0 gives 0). So this product is exactly ldexp(acc, -s),
// the reference's "exponent decrement", and exactly acc / 2^s.
//
// Bits without residual: the bit (y < 0, or y + t < 0) as a function of the
// integer acc is monotone when every slope is >= 0 (every step of the
// transform is monotone non-decreasing in acc for scale > 0 and
// non-increasing for scale < 0; clamp, the shifts, a PReLU with slope >= 0 and
// the threshold are non-decreasing in y), so it equals
// acc < T (scale > 0), acc >= T (scale < 0) or a constant (scale == 0), with
// T found by binary search over [-k_bits, k_bits + 1] evaluating the very
// same float expression. The output bits are therefore identical to forming y.
// All three cases are one comparison, acc * dir < limit: dir = 1, limit = T;
// dir = -1, limit = 1 - T; dir = 0, limit = 1 (always) or 0 (never).
#include "bconv/bconv2d.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "bconv/bconv_epilogue_row.h"
#include "common/window_axis.h"
#include "core/check.h"
#include "core/checked.h"

namespace irnet {
namespace {

constexpr std::int32_t kMaxKBits = std::int32_t(1) << 24;  // float holds every |dot| <= 2^24 exactly
constexpr int kMaxShift = 126;                              // 2^-126: smallest normal float
constexpr std::size_t kBlockBytes = 16 * 1024;               // im2col block target: half an L1

// Output positions of one axis grouped into classes of equal inside-tap
// ranges [first, last) (WindowAxis): class_of[o] and ranges[class]. Both ends
// only move down as o grows, so equal ranges are consecutive and there are at
// most 2 * kernel + 1 classes, found in one pass (a file's geometry is
// untrusted: nothing here is quadratic in it).
void classify_axis(const WindowAxis& axis, std::vector<int>& class_of, std::vector<std::pair<int, int>>& ranges) {
  class_of.assign(axis.out, 0);
  ranges.clear();
  for (std::int64_t o = 0; o < axis.out; ++o) {
    const auto first = static_cast<int>(std::min(axis.first_tap(o), axis.kernel));  // a window all in the padding
    const std::pair<int, int> range{first, std::max<int>(first, axis.last_tap(o))};
    if (ranges.empty() || ranges.back() != range) ranges.push_back(range);
    class_of[o] = static_cast<int>(ranges.size()) - 1;
  }
}

}  // namespace

BConv2d::BConv2d(const Conv2dGeometry& g, PadValue pad, BConv2dOutput out, const BitWord* weights,
                 const KernelConfig& kernels)
    : g_(g), pad_(pad), out_(std::move(out)), weights_(weights), bgemm_(kernels.bgemm),
      pack_signs_(kernels.bitpack->pack), pack_threshold_(kernels.bitpack->pack_threshold),
      epilogue_kernel_(kernels.bconv_epilogue),
      float_row_(kernels.bconv_epilogue->float_row) {
  g_.validate();
  IRNET_CHECK_ARG(weights_ != nullptr, "binary conv: weights are null");
  IRNET_CHECK_ARG(pad_ == PadValue::kZero || pad_ == PadValue::kPlusOne || pad_ == PadValue::kMinusOne,
                  "binary conv: pad value must be 0, 1 or -1, got ", int(pad_));
  const int oc = g_.out_c;
  const std::int64_t k_bits = std::int64_t(g_.kernel_h) * g_.kernel_w * g_.in_c_per_group();
  IRNET_CHECK_ARG(k_bits <= kMaxKBits, "binary conv: kernel_h*kernel_w*in_c/groups = ", k_bits,
                  " exceeds 2^24 (dot products would not be exact in float)");
  IRNET_CHECK_ARG(out_.shift.empty() || out_.shift.size() == std::size_t(oc),
                  "binary conv: shift has ", out_.shift.size(), " values, expected 0 or out_c = ", oc);
  IRNET_CHECK_ARG(out_.scale.empty() || out_.scale.size() == std::size_t(oc),
                  "binary conv: scale has ", out_.scale.size(), " values, expected 0 or out_c = ", oc);
  IRNET_CHECK_ARG(out_.bias.empty() || out_.bias.size() == std::size_t(oc),
                  "binary conv: bias has ", out_.bias.size(), " values, expected 0 or out_c = ", oc);
  for (int o = 0; o < oc; ++o) {
    if (!out_.shift.empty())
      IRNET_CHECK_ARG(out_.shift[o] >= 0 && out_.shift[o] <= kMaxShift, "binary conv: shift[", o,
                      "] = ", out_.shift[o], " is outside 0..", kMaxShift);
    if (!out_.scale.empty())
      IRNET_CHECK_ARG(std::isfinite(out_.scale[o]), "binary conv: scale[", o, "] is not finite");
    if (!out_.bias.empty())
      IRNET_CHECK_ARG(std::isfinite(out_.bias[o]), "binary conv: bias[", o, "] is not finite");
  }
  if (out_.has_clamp)
    IRNET_CHECK_ARG(out_.clamp_lo <= out_.clamp_hi, "binary conv: clamp range [", out_.clamp_lo,
                    ", ", out_.clamp_hi, "] is empty or NaN");
  IRNET_CHECK_ARG(!(out_.has_residual && out_.mode == BConv2dOutput::kInt32),
                  "binary conv: int32 output takes no residual");
  const auto check_channel_floats = [&](const std::vector<float>& v, const char* what) {
    IRNET_CHECK_ARG(v.empty() || v.size() == std::size_t(oc), "binary conv: ", what, " has ", v.size(),
                    " values, expected 0 or out_c = ", oc);
    for (std::size_t o = 0; o < v.size(); ++o)
      IRNET_CHECK_ARG(std::isfinite(v[o]), "binary conv: ", what, "[", o, "] is not finite");
  };
  check_channel_floats(out_.act_shift_in, "act_shift_in");
  check_channel_floats(out_.act_slope, "act_slope");
  check_channel_floats(out_.act_shift_out, "act_shift_out");
  check_channel_floats(out_.threshold, "threshold");
  IRNET_CHECK_ARG(!out_.act_slope.empty() || (out_.act_shift_in.empty() && out_.act_shift_out.empty()),
                  "binary conv: act_shift_in / act_shift_out need act_slope");
  IRNET_CHECK_ARG(out_.threshold.empty() || out_.mode == BConv2dOutput::kBits ||
                      out_.mode == BConv2dOutput::kFloatAndBits,
                  "binary conv: a threshold needs mode bits or float+bits");
  IRNET_CHECK_ARG(out_.act_slope.empty() || out_.mode != BConv2dOutput::kInt32,
                  "binary conv: int32 output takes no activation");
  IRNET_CHECK_ARG(out_.residual_channels == 0 || (out_.has_residual && out_.residual_channels > 0 &&
                                                  oc % out_.residual_channels == 0),
                  "binary conv: residual_channels ", out_.residual_channels,
                  " needs a residual and must divide out_c = ", oc);
  residual_channels_ = out_.residual_channels > 0 ? out_.residual_channels : oc;

  out_h_ = g_.out_h();
  out_w_ = g_.out_w();
  in_c_group_ = g_.in_c_per_group();
  out_c_group_ = g_.out_c_per_group();
  in_words_ = packed_words(g_.in_c);
  group_words_ = packed_words(in_c_group_);
  k_words_ = checked_mul("binary conv words per row (kernel_h * kernel_w * words)", g_.kernel_h, g_.kernel_w,
                         group_words_);
  half_word_taps_ = in_c_group_ <= kBitsPerWord / 2 && k_words_ >= 2;
  bgemm_words_ = half_word_taps_ ? (k_words_ + 1) / 2 : k_words_;
  k_bits_ = static_cast<std::int32_t>(k_bits);
  out_words_ = packed_words(oc);
  pixels_are_rows_ = g_.kernel_h == 1 && g_.kernel_w == 1 && g_.stride_h == 1 && g_.stride_w == 1 &&
                    g_.pad_top == 0 && g_.pad_left == 0 && g_.pad_bottom == 0 && g_.pad_right == 0 &&
                    g_.groups == 1;
  pixels_bgemm_ = g_.in_c <= kBitsPerWord / 2 && bgemm_->run_half_words != nullptr ? bgemm_->run_half_words
                                                                                     : bgemm_->run;
  const std::size_t row_bytes = k_words_ * sizeof(BitWord);
  block_rows_ = std::clamp<std::size_t>(kBlockBytes / row_bytes / 8 * 8, 8, 512);
  const int tail_bits = in_c_group_ % kBitsPerWord;
  tail_mask_ = tail_bits == 0 ? ~BitWord{0} : (BitWord{1} << tail_bits) - 1;
  pad_fill_.assign(group_words_, 0);
  if (pad_ == PadValue::kMinusOne) {
    std::fill(pad_fill_.begin(), pad_fill_.end(), ~BitWord{0});
    pad_fill_.back() = tail_mask_;
  }

  init_accumulator_base();
  init_epilogue_constants();
  select_fused_epilogue(*epilogue_kernel_);
  const BitWord* bgemm_weights = weights_;
  if (half_word_taps_) {
    paired_weights_.assign(weights_, weights_ + checked_mul("binary conv weight words (out_c * words per row)",
                                                            oc, k_words_));
    im2col_pair_taps(oc, k_words_, paired_weights_.data());
    paired_weights_.resize(std::size_t(oc) * bgemm_words_);
    bgemm_weights = paired_weights_.data();
  }
  packed_weights_ = BgemmWeights(*bgemm_, g_.groups, out_c_group_, bgemm_words_, bgemm_weights, bgemm_words_,
                                 std::size_t(out_c_group_) * bgemm_words_);
}

void BConv2d::init_accumulator_base() {
  const int oc = g_.out_c;
  row_class_.assign(out_h_, 0);
  col_class_.assign(out_w_, 0);
  n_col_classes_ = 1;
  acc_base_.assign(oc, k_bits_);
  if (pad_ != PadValue::kZero) return;  // the fill is the pad value: nothing to correct
  // tap_sum[o][tap] = sum over the group's channels of w in {-1,+1}.
  const int taps = g_.kernel_h * g_.kernel_w;
  std::vector<std::int32_t> tap_sum(std::size_t(oc) * taps);
  for (int o = 0; o < oc; ++o)
    for (int t = 0; t < taps; ++t) {
      const BitWord* w = weights_ + (std::size_t(o) * taps + t) * group_words_;
      int negatives = 0;
      for (std::size_t k = 0; k < group_words_; ++k)
        negatives += __builtin_popcountll(k + 1 == group_words_ ? w[k] & tail_mask_ : w[k]);
      tap_sum[std::size_t(o) * taps + t] = in_c_group_ - 2 * negatives;
    }
  // tap_sum summed over the taps [0, i) x [0, j): rect[o][i][j], so that the
  // sum over any rectangle of taps is four lookups.
  const int kh = g_.kernel_h, kw = g_.kernel_w;
  const std::size_t rect_size = checked_mul("binary conv tap sums", kh + 1, kw + 1);
  std::vector<std::int64_t> rect(checked_mul("binary conv tap sums", oc, rect_size), 0);
  for (int o = 0; o < oc; ++o) {
    std::int64_t* r = &rect[std::size_t(o) * rect_size];
    for (int i = 0; i < kh; ++i)
      for (int j = 0; j < kw; ++j)
        r[(i + 1) * (kw + 1) + j + 1] = tap_sum[std::size_t(o) * taps + i * kw + j] + r[i * (kw + 1) + j + 1] +
                                        r[(i + 1) * (kw + 1) + j] - r[i * (kw + 1) + j];
  }
  std::vector<std::pair<int, int>> row_ranges, col_ranges;
  classify_axis({g_.in_h, kh, g_.stride_h, g_.dilation_h, g_.pad_top, g_.pad_bottom, out_h_}, row_class_, row_ranges);
  classify_axis({g_.in_w, kw, g_.stride_w, g_.dilation_w, g_.pad_left, g_.pad_right, out_w_}, col_class_, col_ranges);
  n_col_classes_ = static_cast<int>(col_ranges.size());
  // base = k_bits - (sum over the padded taps) = k_bits - all taps + the valid rectangle.
  acc_base_.assign(checked_mul("binary conv border classes", row_ranges.size(), col_ranges.size(), oc), 0);
  for (std::size_t rc = 0; rc < row_ranges.size(); ++rc)
    for (std::size_t cc = 0; cc < col_ranges.size(); ++cc) {
      const auto [i0, i1] = row_ranges[rc];
      const auto [j0, j1] = col_ranges[cc];
      std::int32_t* base = &acc_base_[(rc * col_ranges.size() + cc) * oc];
      for (int o = 0; o < oc; ++o) {
        const std::int64_t* r = &rect[std::size_t(o) * rect_size];
        const auto at = [&](int i, int j) { return r[std::size_t(i) * (kw + 1) + j]; };
        const std::int64_t valid = at(i1, j1) - at(i0, j1) - at(i1, j0) + at(i0, j0);
        base[o] = static_cast<std::int32_t>(k_bits_ - at(kh, kw) + valid);
      }
    }
}

void BConv2d::init_epilogue_constants() {
  const int oc = g_.out_c;
  pow2_shift_.resize(oc);
  scale_.resize(oc);
  bias_.resize(oc);
  bit_dir_.resize(oc);
  bit_limit_.resize(oc);
  activation_ = !out_.act_slope.empty();
  activation_rows_ = activation_ || !out_.threshold.empty() || residual_channels_ != oc;
  // Absent steps as identities (bconv_epilogue_row.h).
  const auto filled = [oc](const std::vector<float>& v, float identity) {
    return v.empty() ? std::vector<float>(oc, identity) : v;
  };
  act_shift_in_ = filled(out_.act_shift_in, -0.f);
  act_slope_ = filled(out_.act_slope, 1.f);
  act_shift_out_ = filled(out_.act_shift_out, -0.f);
  neg_threshold_.resize(oc);
  for (int o = 0; o < oc; ++o) neg_threshold_[o] = out_.threshold.empty() ? 0.f : -out_.threshold[o];
  for (int o = 0; o < oc; ++o) {
    pow2_shift_[o] = std::ldexp(1.0f, -(out_.shift.empty() ? 0 : out_.shift[o]));
    scale_[o] = out_.scale.empty() ? 1.f : out_.scale[o];
    bias_[o] = out_.bias.empty() ? 0.f : out_.bias[o];
    const auto negative = [&](std::int32_t acc) {
      float y = epilogue_transform(acc, pow2_shift_[o], scale_[o], bias_[o]);
      if (out_.has_clamp) y = epilogue_clamp(y, out_.clamp_lo, out_.clamp_hi);
      if (activation_) y = epilogue_activation(y, act_shift_in_[o], act_slope_[o], act_shift_out_[o]);
      return out_.threshold.empty() ? y < 0.f : y + out_.threshold[o] < 0.f;
    };
    // bit = acc * bit_dir_[o] < bit_limit_[o] (see the comment at the top of this file).
    if (scale_[o] == 0.f) {
      bit_dir_[o] = 0;
      bit_limit_[o] = negative(0) ? 1 : 0;
      continue;
    }
    // First acc in [-k_bits, k_bits + 1] where the predicate changes value
    // (k_bits + 1 stands for "never changes").
    const bool positive_scale = scale_[o] > 0.f;
    std::int32_t lo = -k_bits_, hi = k_bits_ + 1;
    while (lo < hi) {
      const std::int32_t mid = lo + (hi - lo) / 2;
      if (negative(mid) == positive_scale) lo = mid + 1; else hi = mid;
    }
    bit_dir_[o] = positive_scale ? 1 : -1;
    bit_limit_[o] = positive_scale ? lo : 1 - lo;  // acc >= lo  <=>  -acc < 1 - lo
  }
}

bool BConv2d::bits_by_threshold() const {
  return out_.mode == BConv2dOutput::kBits && !out_.has_residual &&
         std::all_of(act_slope_.begin(), act_slope_.end(), [](float s) { return s >= 0.f; });
}

void BConv2d::select_fused_epilogue(const BconvEpilogueKernel& kernel) {
  if (kernel.float_rows == nullptr || out_.mode == BConv2dOutput::kInt32) return;
  if (bits_by_threshold()) {
    fused_rows_ = kernel.threshold_rows;
    fused_constants_ = epilogue_constants();
    return;
  }
  if (residual_channels_ != g_.out_c && residual_channels_ % kernel.repeat_step != 0) return;
  // One multiply by 2^-shift * scale instead of two, where that product is exact
  // (bconv_epilogue.h); a double holds the product of two floats exactly.
  fused_multiplier_.resize(g_.out_c);
  for (int o = 0; o < g_.out_c; ++o) {
    const double exact = double(pow2_shift_[o]) * double(scale_[o]);
    fused_multiplier_[o] = static_cast<float>(exact);
    if (double(fused_multiplier_[o]) != exact) {
      fused_multiplier_.clear();
      return;
    }
  }
  if (kernel.float_constants_ok != nullptr && !kernel.float_constants_ok(epilogue_constants(), activation_rows_)) {
    fused_multiplier_.clear();
    return;
  }
  const EpilogueClamp clamp = !out_.has_clamp ? EpilogueClamp::kNone
                              : out_.clamp_lo != 0.f && out_.clamp_hi != 0.f ? EpilogueClamp::kMinMax
                                                                              : EpilogueClamp::kSelect;
  fused_rows_ = kernel.float_rows(out_.mode != BConv2dOutput::kBits, out_.mode != BConv2dOutput::kFloat,
                                   out_.has_residual, clamp, activation_rows_);
  if (fused_rows_ == nullptr) fused_multiplier_.clear();
  fused_constants_ = epilogue_constants();
}

EpilogueConstants BConv2d::epilogue_constants() const {
  EpilogueConstants c;
  c.channels = g_.out_c;
  c.multiplier = fused_multiplier_.data();
  c.bias = bias_.data();
  c.clamp_lo = out_.clamp_lo;
  c.clamp_hi = out_.clamp_hi;
  c.dir = bit_dir_.data();
  c.limit = bit_limit_.data();
  c.act_shift_in = act_shift_in_.data();
  c.act_slope = act_slope_.data();
  c.act_shift_out = act_shift_out_.data();
  c.neg_threshold = neg_threshold_.data();
  c.residual_channels = residual_channels_;
  c.slopes_in_unit_interval = std::all_of(act_slope_.begin(), act_slope_.end(),
                                          [](float s) { return s > 0.f && s <= 1.f; });
  return c;
}

std::size_t BConv2d::output_rows() const {
  return checked_mul("binary conv output pixels (batch * out_h * out_w)", g_.batch, out_h_, out_w_);
}

std::size_t BConv2d::scratch_bytes(std::size_t rows) const {
  const std::size_t block = std::min(rows, block_rows_);
  if (block == 0) return 0;
  // im2col block, each row's accumulator base, bgemm counts, one float row for the portable bits.
  const char* const what = "binary conv scratch bytes";
  const std::size_t per_row = checked_add(what, checked_mul(what, k_words_, sizeof(BitWord)), sizeof(const std::int32_t*),
                                          checked_mul(what, g_.out_c, sizeof(std::int32_t)));
  return checked_add(what, checked_mul(what, block, per_row), checked_mul(what, g_.out_c, sizeof(float)));
}

std::string BConv2d::kernel_name() const {
  return str_cat(bgemm_->name, '+', fused_rows_ != nullptr ? epilogue_kernel_->name : "bconv_epilogue_portable");
}

void BConv2d::check_buffers(const BitWord* input, const float* residual, const std::int32_t* out_i32,
                            const float* out_f32, const BitWord* out_bits) const {
  IRNET_CHECK_ARG(input != nullptr, "binary conv: input is null");
  IRNET_CHECK_ARG(!out_.has_residual || residual != nullptr, "binary conv: residual is null");
  switch (out_.mode) {
    case BConv2dOutput::kInt32:
      IRNET_CHECK_ARG(out_i32 != nullptr, "binary conv: int32 output buffer is null");
      break;
    case BConv2dOutput::kFloat:
      IRNET_CHECK_ARG(out_f32 != nullptr, "binary conv: float output buffer is null");
      break;
    case BConv2dOutput::kBits:
      IRNET_CHECK_ARG(out_bits != nullptr, "binary conv: bits output buffer is null");
      break;
    case BConv2dOutput::kFloatAndBits:
      IRNET_CHECK_ARG(out_f32 != nullptr && out_bits != nullptr,
                      "binary conv: float+bits mode needs both output buffers");
      break;
  }
}

void BConv2d::epilogue(std::size_t row_begin, std::size_t rows, std::int32_t* counts, float* y_row,
                       const std::int32_t** bases, const float* residual, std::int32_t* out_i32,
                       float* out_f32, BitWord* out_bits) const {
  const int oc = g_.out_c;
  {  // each row's accumulator base, a run of pixels of one output row at a time (a
     // branch-free inner loop); locals: the pointer stores could otherwise alias the members
    const std::size_t out_h = std::size_t(out_h_), out_w = std::size_t(out_w_);
    const std::size_t row_class_stride = std::size_t(n_col_classes_) * oc;  // acc_base entries per row class
    const int* row_class = row_class_.data();
    const int* col_class = col_class_.data();
    const std::int32_t* acc_base = acc_base_.data();
    const std::size_t rem = row_begin % (out_h * out_w);
    std::size_t oh = rem / out_w, ow = rem % out_w;
    for (std::size_t r = 0; r < rows;) {
      const std::size_t run = std::min(out_w - ow, rows - r);
      const std::int32_t* row_base = acc_base + std::size_t(row_class[oh]) * row_class_stride;
      const int* classes = col_class + ow;
      const std::int32_t** run_bases = bases + r;
      for (std::size_t i = 0; i < run; ++i) run_bases[i] = row_base + std::size_t(classes[i]) * oc;
      r += run;
      ow = 0;  // the run ended the output row, or the block
      if (++oh == out_h) oh = 0;
    }
  }
  const bool want_float = out_.mode == BConv2dOutput::kFloat || out_.mode == BConv2dOutput::kFloatAndBits;
  const bool want_bits = out_.mode == BConv2dOutput::kBits || out_.mode == BConv2dOutput::kFloatAndBits;
  if (fused_rows_ != nullptr) {
    EpilogueRows block;
    block.count = rows;
    block.popcounts = counts;
    block.bases = bases;
    block.residual = out_.has_residual ? residual + row_begin * residual_channels_ : nullptr;
    block.y = want_float ? out_f32 + row_begin * oc : nullptr;
    block.bits = want_bits ? out_bits + row_begin * out_words_ : nullptr;
    fused_rows_(fused_constants_, block);
    return;
  }
  // Portable: branch-free passes over the channels of one row (the compiler
  // vectorizes them; element-wise IEEE operations give the same result in any lane).
  const bool by_threshold = bits_by_threshold();
  const std::size_t res_c = std::size_t(residual_channels_);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t row = row_begin + r;
    std::int32_t* acc = counts + r * oc;  // popcounts in, dot products out
    const std::int32_t* base = bases[r];
    if (out_.mode == BConv2dOutput::kInt32) {
      std::int32_t* dot = out_i32 + row * oc;
      for (int o = 0; o < oc; ++o) dot[o] = base[o] - 2 * acc[o];
      continue;
    }
    for (int o = 0; o < oc; ++o) acc[o] = base[o] - 2 * acc[o];
    BitWord* bits = want_bits ? out_bits + row * out_words_ : nullptr;
    if (by_threshold) {
      // acc * dir < limit  <=>  float(acc * dir - limit) < 0: int -> float
      // conversion keeps the sign (|value| <= 2^25 + 1, rounding never
      // crosses 0) and maps 0 to +0, so the bitpack kernel's x < 0 gives
      // exactly the threshold bits.
      for (int o = 0; o < oc; ++o) y_row[o] = static_cast<float>(acc[o] * bit_dir_[o] - bit_limit_[o]);
      pack_signs_(y_row, 1, oc, bits);
      continue;
    }
    float* y = want_float ? out_f32 + row * oc : y_row;
    // One call per repetition of the residual's C_r channels (one without repeat).
    for (std::size_t o = 0; o < std::size_t(oc); o += res_c)
      float_row_(static_cast<int>(res_c), acc + o, pow2_shift_.data() + o, scale_.data() + o, bias_.data() + o,
                 out_.has_residual ? residual + row * res_c : nullptr, out_.has_clamp, out_.clamp_lo,
                 out_.clamp_hi, y + o);
    if (activation_)
      for (int o = 0; o < oc; ++o) y[o] = epilogue_activation(y[o], act_shift_in_[o], act_slope_[o], act_shift_out_[o]);
    if (bits == nullptr) continue;
    if (out_.threshold.empty())
      pack_signs_(y, 1, oc, bits);  // bit = y < 0, as everywhere
    else
      pack_threshold_(y, 1, oc, out_.threshold.data(), bits);  // bit = y + t < 0, as SignPack's
  }
}

void BConv2d::run_rows(std::size_t row_begin, std::size_t row_end, const BitWord* input,
                       const float* residual, std::int32_t* out_i32, float* out_f32,
                       BitWord* out_bits, void* scratch) const {
  IRNET_CHECK_ARG(row_begin <= row_end && row_end <= output_rows(), "binary conv: rows [", row_begin,
                  ", ", row_end, ") outside the ", output_rows(), " output rows");
  if (row_begin == row_end) return;
  check_buffers(input, residual, out_i32, out_f32, out_bits);
  IRNET_CHECK_ARG(scratch != nullptr && reinterpret_cast<std::uintptr_t>(scratch) % alignof(BitWord) == 0,
                  "binary conv: scratch must be non-null and 8-byte aligned");
  BitWord* cols = static_cast<BitWord*>(scratch);
  const std::size_t block = std::min(row_end - row_begin, block_rows_);
  const std::int32_t** bases = reinterpret_cast<const std::int32_t**>(cols + block * k_words_);
  std::int32_t* counts = reinterpret_cast<std::int32_t*>(bases + block);
  float* y_row = reinterpret_cast<float*>(counts + block * g_.out_c);
  for (std::size_t r0 = row_begin; r0 < row_end; r0 += block) {
    const std::size_t rows = std::min(block, row_end - r0);
    if (pixels_are_rows_) {  // 1x1, stride 1, no padding, one group: input rows are the A rows
      pixels_bgemm_(rows, g_.out_c, k_words_, input + r0 * in_words_, in_words_, packed_weights_.group(0),
                    packed_weights_.ld(), counts, g_.out_c);
      epilogue(r0, rows, counts, y_row, bases, residual, out_i32, out_f32, out_bits);
      continue;
    }
    for (int grp = 0; grp < g_.groups; ++grp) {
      if (g_.groups == 1)
        im2col_pixels(r0, rows, input, cols);
      else
        im2col_group(r0, rows, grp, input, cols);
      if (half_word_taps_) im2col_pair_taps(rows, k_words_, cols);
      bgemm_->run(rows, out_c_group_, bgemm_words_, cols, bgemm_words_, packed_weights_.group(grp),
                  packed_weights_.ld(), counts + std::size_t(grp) * out_c_group_, g_.out_c);
    }
    epilogue(r0, rows, counts, y_row, bases, residual, out_i32, out_f32, out_bits);
  }
}

}  // namespace irnet
