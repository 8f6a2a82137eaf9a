#include "fconv/conv2d_f32.h"

#include <algorithm>

#include "common/check.h"

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
                         FloatClamp clamp, const SgemmKernel* kernel)
    : g_(g), kernel_(kernel != nullptr ? kernel : &selected_sgemm_kernel()), clamp_(clamp) {
  g_.validate();
  IRNET_CHECK_ARG(weights != nullptr, "float conv: weights are missing");
  IRNET_CHECK_ARG(!(clamp.lo > clamp.hi), "float conv: clamp range [", clamp.lo, ", ", clamp.hi,
                  "] is empty");
  out_h_ = g_.out_h();
  out_w_ = g_.out_w();
  rows_ = static_cast<std::size_t>(g_.batch) * out_h_ * out_w_;
  const std::size_t cg = g_.in_c_per_group(), og = g_.out_c_per_group();
  const std::size_t mr = kernel_->mr, nr = kernel_->nr;
  k_ = static_cast<std::size_t>(g_.kernel_h) * g_.kernel_w * cg;
  panels_per_group_ = (og + nr - 1) / nr;
  row_panels_ = (rows_ + mr - 1) / mr;
  slots_ = std::min(row_panels_, kMaxSlots);
  slot_bytes_ = (k_ * mr * sizeof(float) + 63) / 64 * 64;

  for (int group = 0; group < g_.groups; ++group) {
    const std::vector<float> w = sgemm_pack_b(weights + group * og * k_, k_, k_, og, nr);
    packed_w_.insert(packed_w_.end(), w.begin(), w.end());
    const std::vector<float> b = sgemm_pack_bias(bias != nullptr ? bias + group * og : nullptr, og, nr);
    packed_bias_.insert(packed_bias_.end(), b.begin(), b.end());
  }
}

void FloatConv2d::pack_a(std::size_t row0, int group, const float* x, float* a_panel) const {
  const std::size_t mr = kernel_->mr;
  const std::size_t cg = g_.in_c_per_group();
  const std::size_t pixels = static_cast<std::size_t>(out_h_) * out_w_;
  for (std::size_t r = 0; r < mr; ++r) {
    float* dst = a_panel + r;  // column r of the panel: element k at dst[k * mr]
    const std::size_t m = row0 + r;
    if (m >= rows_) {
      for (std::size_t k = 0; k < k_; ++k) dst[k * mr] = 0.f;
      continue;
    }
    const std::size_t n = m / pixels, pix = m % pixels;
    const int ih0 = static_cast<int>(pix / out_w_) * g_.stride_h - g_.pad_top;
    const int iw0 = static_cast<int>(pix % out_w_) * g_.stride_w - g_.pad_left;
    const float* image = x + n * g_.in_h * g_.in_w * g_.in_c + group * cg;
    for (int i = 0; i < g_.kernel_h; ++i) {
      const int ih = ih0 + i * g_.dilation_h;
      const bool row_inside = ih >= 0 && ih < g_.in_h;
      for (int j = 0; j < g_.kernel_w; ++j, dst += cg * mr) {
        const int iw = iw0 + j * g_.dilation_w;
        if (row_inside && iw >= 0 && iw < g_.in_w) {
          const float* src = image + (static_cast<std::size_t>(ih) * g_.in_w + iw) * g_.in_c;
          for (std::size_t c = 0; c < cg; ++c) dst[c * mr] = src[c];
        } else {
          for (std::size_t c = 0; c < cg; ++c) dst[c * mr] = 0.f;
        }
      }
    }
  }
}

void FloatConv2d::run_slots(std::size_t slot_begin, std::size_t slot_end, const float* x,
                            float* y, void* scratch) const {
  const std::size_t mr = kernel_->mr, nr = kernel_->nr;
  const std::size_t og = g_.out_c_per_group();
  const std::size_t ldc = g_.out_c;
  for (std::size_t s = slot_begin; s < slot_end; ++s) {
    float* a_panel = reinterpret_cast<float*>(static_cast<char*>(scratch) + s * slot_bytes_);
    const std::size_t p_begin = s * row_panels_ / slots_, p_end = (s + 1) * row_panels_ / slots_;
    for (std::size_t p = p_begin; p < p_end; ++p) {
      const std::size_t row0 = p * mr;
      const std::size_t rows = std::min(mr, rows_ - row0);
      for (int group = 0; group < g_.groups; ++group) {
        pack_a(row0, group, x, a_panel);
        for (std::size_t q = 0; q < panels_per_group_; ++q) {
          const std::size_t panel = group * panels_per_group_ + q;
          const std::size_t col0 = group * og + q * nr;
          kernel_->micro(k_, a_panel, packed_w_.data() + panel * k_ * nr,
                         packed_bias_.data() + panel * nr, clamp_.lo, clamp_.hi,
                         y + row0 * ldc + col0, ldc, rows, std::min(nr, og - q * nr));
        }
      }
    }
  }
}

}  // namespace irnet
