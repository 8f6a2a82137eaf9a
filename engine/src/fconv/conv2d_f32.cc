#include "fconv/conv2d_f32.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "core/check.h"
#include "core/checked.h"
#include "cpu/kernel_config.h"

namespace irnet {

void conv2d_f32_ref(const Conv2dGeometry& g, const float* x, const float* w, const float* bias,
                    FloatClamp clamp, float* y) {
  const int oh_n = g.out_h(), ow_n = g.out_w();
  const int cg = g.in_c_per_group(), og = g.out_c_per_group();
  for (int n = 0; n < g.batch; ++n)
    for (int oh = 0; oh < oh_n; ++oh)
      for (int ow = 0; ow < ow_n; ++ow)
        for (int o = 0; o < g.out_c; ++o) {
          const int group = o / og;
          float sum = 0.f;
          for (int i = 0; i < g.kernel_h; ++i) {
            const int ih = oh * g.stride_h - g.pad_top + i * g.dilation_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (int j = 0; j < g.kernel_w; ++j) {
              const int iw = ow * g.stride_w - g.pad_left + j * g.dilation_w;
              if (iw < 0 || iw >= g.in_w) continue;
              for (int c = 0; c < cg; ++c) {
                const float xv =
                    x[((static_cast<std::size_t>(n) * g.in_h + ih) * g.in_w + iw) * g.in_c +
                      group * cg + c];
                const float wv =
                    w[((static_cast<std::size_t>(o) * g.kernel_h + i) * g.kernel_w + j) * cg + c];
                sum += xv * wv;
              }
            }
          }
          if (bias != nullptr) sum += bias[o];
          y[((static_cast<std::size_t>(n) * oh_n + oh) * ow_n + ow) * g.out_c + o] =
              std::min(std::max(sum, clamp.lo), clamp.hi);
        }
}

FloatConv2d::FloatConv2d(const Conv2dGeometry& g, const float* weights, const float* bias,
                         FloatClamp clamp, const SgemmKernel& sgemm, const PhaseConvKernel& phase)
    : g_(g), kernel_(&sgemm), clamp_(clamp) {
  g_.validate();
  IRNET_CHECK_ARG(weights != nullptr, "float conv: weights are missing");
  IRNET_CHECK_ARG(!(clamp.lo > clamp.hi), "float conv: clamp range [", clamp.lo, ", ", clamp.hi,
                  "] is empty");
  out_h_ = g_.out_h();
  out_w_ = g_.out_w();
  rows_ = checked_mul("float conv output pixels (batch * out_h * out_w)", g_.batch, out_h_, out_w_);
  k_ = checked_mul("float conv taps (kernel_h * kernel_w * in_c/groups)", g_.kernel_h, g_.kernel_w,
                   g_.in_c_per_group());
  const PhaseConvWidthKernel* direct = phase_fits(g_) ? phase.of_width(g_.kernel_w) : nullptr;
  if (direct != nullptr && plan_phase_bands(phase.tile_pixels)) {
    phase_ = &phase;
    phase_kernel_ = direct;
    pack_phase_weights(weights, bias);
  } else {
    setup_im2col(weights, bias);
  }
}

void FloatConv2d::setup_im2col(const float* weights, const float* bias) {
  const std::size_t og = g_.out_c_per_group();
  const std::size_t mr = kernel_->mr, nr = kernel_->nr;
  kp_ = kernel_->padded_k(k_);
  panels_per_group_ = (og + nr - 1) / nr;
  row_panels_ = (rows_ + mr - 1) / mr;
  panel_bytes_ = checked_round_up("float conv A panel bytes",
                                  checked_mul("float conv A panel bytes (k * mr * 4)", kp_, mr, sizeof(float)), 64);
  block_panels_ = std::clamp<std::size_t>(kBlockBytes / panel_bytes_, 1, std::min(kMaxBlockPanels, row_panels_));
  slot_bytes_ = checked_mul("float conv slot bytes (panels * panel bytes)", block_panels_, panel_bytes_);
  // As many slots as useful for load balancing, within the scratch budget.
  const std::size_t affordable = std::max(kMinSlots, kScratchBudget / slot_bytes_);
  row_bands_ = std::min({row_panels_, kMaxSlots, affordable});
  // Too few row panels for kMinSlots bands (a batch-1 Gemm has one): the B
  // panels are split into column bands too, each slot packing its own A.
  col_bands_ = row_bands_ >= kMinSlots ? 1 : std::min(panels_per_group_, kMinSlots / row_bands_);
  slots_ = row_bands_ * col_bands_;
  scratch_bytes_ = checked_mul("float conv scratch bytes (slots * slot bytes)", slots_, slot_bytes_);
  pointwise_ = g_.kernel_h == 1 && g_.kernel_w == 1 && g_.pad_top == 0 && g_.pad_left == 0 &&
               g_.pad_bottom == 0 && g_.pad_right == 0;

  const std::size_t group_floats =
      checked_mul("float conv packed weights (panels * k * nr)", panels_per_group_, kp_, nr);
  packed_w_.resize(checked_mul("float conv packed weights (groups * group floats)", g_.groups, group_floats));
  for (int group = 0; group < g_.groups; ++group) {
    sgemm_pack_b(weights + group * og * k_, k_, k_, kp_, og, nr, packed_w_.data() + group * group_floats);
    const std::vector<float> b = sgemm_pack_bias(bias != nullptr ? bias + group * og : nullptr, og, nr);
    packed_bias_.insert(packed_bias_.end(), b.begin(), b.end());
  }
}

bool FloatConv2d::phase_fits(const Conv2dGeometry& g) {
  return g.groups == 1 && g.stride_w == kPhaseStrideW && g.dilation_w == 1 && g.dilation_h == 1 &&
         (g.kernel_w != 3 || g.in_c <= kPhaseMaxInChannels3);
}

bool FloatConv2d::plan_phase_bands(std::size_t tile_pixels) {
  const std::size_t tp = tile_pixels;
  // Every tile's loads end before plane index ow0 + tile_pixels + margin (phase_conv.h).
  plane_w_ = checked_add("float conv phase plane width", checked_round_up("float conv phase plane width", out_w_, tp),
                         phase_plane_margin(g_.kernel_w));
  // Bands of at most 16 output rows, but at least kMinSlots bands if the rows allow.
  const std::size_t all_rows = checked_mul("float conv output rows (batch * out_h)", g_.batch, out_h_);
  band_rows_ = std::clamp<std::size_t>((all_rows + kMinSlots - 1) / kMinSlots, 1, 16);
  band_rows_ = std::min<std::size_t>(band_rows_, out_h_);
  const std::size_t bands_per_image = (out_h_ + band_rows_ - 1) / band_rows_;
  const std::size_t slots = checked_mul("float conv phase slots (batch * bands)", g_.batch, bands_per_image);
  const char* const what = "float conv phase planes (rows * in_c * 2 * plane_w * 4)";
  const std::size_t plane_rows = checked_add(what, checked_mul(what, band_rows_ - 1, g_.stride_h), g_.kernel_h);
  // A plan whose size does not even fit in size_t is over the budget as well.
  if (!product_at_most(kScratchBudget, slots, plane_rows, g_.in_c, 2, plane_w_, sizeof(float))) return false;
  const std::size_t slot_bytes =
      checked_round_up(what, checked_mul(what, plane_rows, g_.in_c, 2, plane_w_, sizeof(float)), 64);
  const std::size_t scratch_bytes = checked_mul(what, slots, slot_bytes);
  if (scratch_bytes > kScratchBudget) return false;
  slots_ = slots;
  slot_bytes_ = slot_bytes;
  scratch_bytes_ = scratch_bytes;
  return true;
}

void FloatConv2d::pack_phase_weights(const float* weights, const float* bias) {
  const std::size_t tc = kPhaseTileChannels;
  const int kw = g_.kernel_w;
  const std::size_t steps = checked_mul("float conv phase steps (kernel_h * in_c)", g_.kernel_h, g_.in_c);
  const std::size_t tiles = (g_.out_c + tc - 1) / tc;
  packed_w_.assign(checked_mul("float conv packed weights", tiles, steps, kw, tc), 0.f);
  for (std::size_t o = 0; o < static_cast<std::size_t>(g_.out_c); ++o)
    for (int i = 0; i < g_.kernel_h; ++i)
      for (int c = 0; c < g_.in_c; ++c)
        for (int t = 0; t < kw; ++t) {
          const std::size_t s = static_cast<std::size_t>(i) * g_.in_c + c;
          packed_w_[((o / tc * steps + s) * kw + t) * tc + o % tc] =
              weights[(o * g_.kernel_h + i) * kw * g_.in_c + phase_tap_column(kw, t) * g_.in_c + c];
        }
  packed_bias_ = sgemm_pack_bias(bias, g_.out_c, tc);
}

void split_phase_columns(const float* row, int in_w, int channels, int pad_left,
                         std::size_t plane_w, std::size_t q_begin, std::size_t q_end, float* planes) {
  const std::size_t cn = channels;
  for (std::size_t c = 0; c < cn; ++c)
    for (int phase = 0; phase < 2; ++phase) {
      float* dst = planes + (c * 2 + phase) * plane_w;
      // plane[q] = row[2q + phase - pad_left][c]: inside the row for q in [first, last).
      const int lo = pad_left - phase;  // 2q >= lo
      const int hi = in_w - 1 + pad_left - phase;  // 2q <= hi
      const std::size_t first = std::clamp<std::size_t>(lo <= 0 ? 0 : (lo + 1) / 2, q_begin, q_end);
      const std::size_t last =
          row == nullptr || hi < 0 ? first : std::clamp<std::size_t>(hi / 2 + 1, first, q_end);
      std::fill(dst + q_begin, dst + first, 0.f);
      if (last > first) {
        const float* src = row + (2 * first + phase - pad_left) * cn + c;
        for (std::size_t q = first; q < last; ++q, src += 2 * cn) dst[q] = *src;
      }
      std::fill(dst + last, dst + q_end, 0.f);
    }
}

void FloatConv2d::pack_phase_planes(const float* image, int oh0, int oh1, float* planes) const {
  const Conv2dGeometry& g = g_;
  const std::size_t row_floats = static_cast<std::size_t>(g.in_c) * 2 * plane_w_;
  const int rows = (oh1 - oh0 - 1) * g.stride_h + g.kernel_h;
  for (int r = 0; r < rows; ++r) {
    const int ih = oh0 * g.stride_h + r - g.pad_top;
    const float* row = ih < 0 || ih >= g.in_h ? nullptr : image + static_cast<std::size_t>(ih) * g.in_w * g.in_c;
    phase_->split(row, g.in_w, g.in_c, g.pad_left, plane_w_, planes + r * row_floats);
  }
}

void FloatConv2d::run_phase_slots(std::size_t slot_begin, std::size_t slot_end, const float* x,
                                  float* y, void* scratch) const {
  const Conv2dGeometry& g = g_;
  const std::size_t tp = phase_->tile_pixels;
  const std::size_t bands_per_image = slots_ / g.batch;
  const std::size_t steps = static_cast<std::size_t>(g.kernel_h) * g.in_c;
  const std::size_t pair_floats = 2 * plane_w_;  // one (row, c) pair of planes
  const std::size_t ldc = g.out_c;
  for (std::size_t s = slot_begin; s < slot_end; ++s) {
    auto* planes = reinterpret_cast<float*>(static_cast<char*>(scratch) + s * slot_bytes_);
    const std::size_t n = s / bands_per_image;
    const int oh0 = static_cast<int>(s % bands_per_image * band_rows_);
    const int oh1 = std::min(out_h_, oh0 + static_cast<int>(band_rows_));
    pack_phase_planes(x + n * g.in_h * g.in_w * g.in_c, oh0, oh1, planes);
    for (int oh = oh0; oh < oh1; ++oh) {
      const float* x_row = planes + static_cast<std::size_t>(oh - oh0) * g.stride_h * g.in_c * pair_floats;
      float* y_row = y + (n * out_h_ + oh) * out_w_ * ldc;
      for (std::size_t ow0 = 0; ow0 < static_cast<std::size_t>(out_w_); ow0 += tp) {
        const std::size_t pixels = std::min<std::size_t>(tp, out_w_ - ow0);
        phase_kernel_->fn(x_row + ow0, steps, plane_w_, packed_w_.data(), packed_bias_.data(), clamp_.lo,
                   clamp_.hi, y_row + ow0 * ldc, ldc, pixels, ldc);
      }
    }
  }
}

namespace {

// Copies n contiguous floats (row-major A panel: a kernel row's taps are one
// run, 21 floats for the 7x7x3 stem) in blocks of 8. The last block is moved
// back to end exactly at n and overlaps the previous one (same values written
// twice): no scalar tail, no read or write outside [0, n).
void copy_run(float* __restrict dst, const float* __restrict src, std::size_t n) {
  constexpr std::size_t kBlock = 8;
  const auto copy_block = [&](std::size_t at) {
    std::memcpy(dst + at, src + at, kBlock * sizeof(float));  // fixed size: inline vector moves
  };
  if (n < kBlock) {
    for (std::size_t t = 0; t < n; ++t) dst[t] = src[t];
    return;
  }
  for (std::size_t at = 0; at + kBlock < n; at += kBlock) copy_block(at);
  copy_block(n - kBlock);
}

}  // namespace

template <bool kContiguousK>
void FloatConv2d::pack_a_layout(std::size_t row0, int group, const float* x, float* a_panel) const {
  // Local copies: the geometry then stays in registers across the stores and
  // memset calls below instead of being reloaded from *this.
  const Conv2dGeometry g = g_;
  const std::size_t mr = kernel_->mr, k = k_, kp = kp_, rows = rows_;
  const int out_w = out_w_;
  const std::size_t cg = g.in_c_per_group();
  const std::size_t pixels = static_cast<std::size_t>(out_h_) * out_w;
  const std::size_t tap_row = static_cast<std::size_t>(g.kernel_w) * cg;  // k values per kernel row
  // Consecutive k of one row are `step` floats apart in the panel: 1 for a
  // row-major panel (compile-time, so the copies below become vector code).
  const std::size_t step = kContiguousK ? 1 : mr;
  const auto zero = [step](float* __restrict dst, std::size_t n) {
    if (n == 0) return;  // the common case inside the image: no call into memset
    for (std::size_t t = 0; t < n; ++t) dst[t * step] = 0.f;
  };
  const auto copy = [step](float* __restrict dst, const float* __restrict src, std::size_t n) {
    for (std::size_t t = 0; t < n; ++t) dst[t * step] = src[t];
  };
  // Output pixel (n, oh, ow) of row row0 + r, walked on from row0's (no
  // division per row: ARMv7 has no divide instruction).
  std::size_t n = row0 / pixels;
  int oh = static_cast<int>(row0 % pixels / out_w), ow = static_cast<int>(row0 % out_w);
  const auto next_pixel = [&] {
    if (++ow == out_w) {
      ow = 0;
      if (++oh == out_h_) oh = 0, ++n;
    }
  };
  for (std::size_t r = 0; r < mr; ++r, next_pixel()) {
    float* dst = a_panel + kernel_->a_index(r, 0, kp);  // A[r][k] at dst[k * step]
    zero(dst + k * step, kp - k);
    if (row0 + r >= rows) {
      zero(dst, k);
      continue;
    }
    const int ih0 = oh * g.stride_h - g.pad_top;
    const int iw0 = ow * g.stride_w - g.pad_left;
    // Kernel columns j in [j_begin, j_end) read inside the input (iw0 + j*dw in [0, in_w)).
    const int dw = g.dilation_w;
    const int j_begin = iw0 >= 0 ? 0 : std::min(g.kernel_w, (-iw0 + dw - 1) / dw);
    const int j_end = iw0 >= g.in_w ? j_begin
                                     : std::max(j_begin, std::min(g.kernel_w, (g.in_w - 1 - iw0) / dw + 1));
    const float* image = x + n * g.in_h * g.in_w * g.in_c + group * cg;
    const bool contiguous_taps = g.dilation_w == 1 && cg == static_cast<std::size_t>(g.in_c);
    if (contiguous_taps && j_begin == 0 && j_end == g.kernel_w && ih0 >= 0 &&
        ih0 + (g.kernel_h - 1) * g.dilation_h < g.in_h) {
      // The whole patch is inside the image (the common case): each kernel
      // row is one run of tap_row floats, no bounds to check.
      const std::size_t src_step = static_cast<std::size_t>(g.dilation_h) * g.in_w * g.in_c;
      const float* src = image + (static_cast<std::size_t>(ih0) * g.in_w + iw0) * g.in_c;
      for (int i = 0; i < g.kernel_h; ++i, dst += tap_row * step, src += src_step) {
        if constexpr (kContiguousK)
          copy_run(dst, src, tap_row);
        else
          copy(dst, src, tap_row);
      }
      continue;
    }
    for (int i = 0; i < g.kernel_h; ++i, dst += tap_row * step) {
      const int ih = ih0 + i * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) {
        zero(dst, tap_row);
        continue;
      }
      zero(dst, j_begin * cg);
      const float* src = image + (static_cast<std::size_t>(ih) * g.in_w + iw0 + j_begin * dw) * g.in_c;
      float* run = dst + j_begin * cg * step;
      if (contiguous_taps) {
        // The valid taps are contiguous in x.
        if (kContiguousK)
          copy_run(run, src, (j_end - j_begin) * cg);
        else
          copy(run, src, (j_end - j_begin) * cg);
      } else {
        for (int j = j_begin; j < j_end; ++j, src += dw * g.in_c, run += cg * step) copy(run, src, cg);
      }
      zero(dst + j_end * cg * step, (g.kernel_w - j_end) * cg);
    }
  }
}

void FloatConv2d::pack_a_pointwise(std::size_t row0, int group, const float* x, float* a_panel) const {
  // Row m of A is the cg channels of one input pixel: one run each, the pixel
  // walked incrementally (the general path's per-row divisions and bounds
  // cost more than the copy at 64 channels).
  const std::size_t mr = kernel_->mr, k = k_, kp = kp_;
  const std::size_t in_w = g_.in_w, in_c = g_.in_c, out_w = out_w_;
  const std::size_t pixels = static_cast<std::size_t>(out_h_) * out_w_;
  const std::size_t row_step = g_.stride_h * in_w * in_c, col_step = g_.stride_w * in_c;
  const std::size_t image_floats = static_cast<std::size_t>(g_.in_h) * in_w * in_c;
  std::size_t n = row0 / pixels, oh = row0 % pixels / out_w, ow = row0 % out_w;
  const float* src = x + n * image_floats + oh * row_step + ow * col_step + group * k;
  for (std::size_t r = 0; r < mr; ++r) {
    float* dst = a_panel + kernel_->a_index(r, 0, kp);
    std::fill(dst + k, dst + kp, 0.f);
    if (row0 + r >= rows_) {
      std::fill(dst, dst + k, 0.f);
      continue;
    }
    copy_run(dst, src, k);
    src += col_step;
    if (++ow == out_w) {
      ow = 0;
      if (++oh == static_cast<std::size_t>(out_h_)) oh = 0, ++n;
      src = x + n * image_floats + oh * row_step + group * k;
    }
  }
}

void FloatConv2d::pack_a(std::size_t row0, int group, const float* x, float* a_panel) const {
  if (kernel_->a_layout != SgemmALayout::kRowMajor)
    pack_a_layout<false>(row0, group, x, a_panel);
  else if (pointwise_)
    pack_a_pointwise(row0, group, x, a_panel);
  else
    pack_a_layout<true>(row0, group, x, a_panel);
}

void FloatConv2d::run_slots(std::size_t slot_begin, std::size_t slot_end, const float* x,
                            float* y, void* scratch) const {
  if (phase_ != nullptr) {
    run_phase_slots(slot_begin, slot_end, x, y, scratch);
    return;
  }
  const std::size_t mr = kernel_->mr, nr = kernel_->nr;
  const std::size_t og = g_.out_c_per_group();
  const std::size_t ldc = g_.out_c;
  for (std::size_t s = slot_begin; s < slot_end; ++s) {
    char* block = static_cast<char*>(scratch) + s * slot_bytes_;
    const std::size_t rb = s / col_bands_, cb = s % col_bands_;
    const std::size_t p_begin = rb * row_panels_ / row_bands_, p_end = (rb + 1) * row_panels_ / row_bands_;
    const std::size_t q_begin = cb * panels_per_group_ / col_bands_;
    const std::size_t q_end = (cb + 1) * panels_per_group_ / col_bands_;
    for (std::size_t b0 = p_begin; b0 < p_end; b0 += block_panels_) {
      const std::size_t b1 = std::min(p_end, b0 + block_panels_);
      for (int group = 0; group < g_.groups; ++group) {
        // Pack the block's A micro-panels, then sweep each B panel over all of
        // them, so that the B panel stays in L1 while A streams from L1/L2.
        for (std::size_t p = b0; p < b1; ++p)
          pack_a(p * mr, group, x, reinterpret_cast<float*>(block + (p - b0) * panel_bytes_));
        for (std::size_t q = q_begin; q < q_end; ++q) {
          const std::size_t panel = group * panels_per_group_ + q;
          const std::size_t col0 = group * og + q * nr;
          const float* b_panel = packed_w_.data() + panel * kp_ * nr;
          const float* bias_panel = packed_bias_.data() + panel * nr;
          for (std::size_t p = b0; p < b1; ++p) {
            const std::size_t row0 = p * mr;
            kernel_->micro(kp_, reinterpret_cast<const float*>(block + (p - b0) * panel_bytes_), b_panel,
                           bias_panel, clamp_.lo, clamp_.hi, y + row0 * ldc + col0, ldc,
                           std::min(mr, rows_ - row0), std::min(nr, og - q * nr));
          }
        }
      }
    }
  }
}

namespace {
const PhaseConvKernel kIm2colSgemm = {"im2col_sgemm", always_supported, {}, nullptr};
const PhaseConvKernel* const kKernels[] = {&kIm2colSgemm};
}  // namespace

extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
