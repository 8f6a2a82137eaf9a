#include "common/conv_geometry.h"

#include <cstdint>

#include "core/check.h"

namespace irnet {
namespace {

// Padded extent minus the dilated kernel extent, in 64-bit so that no sum of
// int fields can overflow. The output size is span / stride + 1 when span >= 0.
std::int64_t conv_span(int in, int pad_a, int pad_b, int kernel, int dilation) {
  return std::int64_t(in) + pad_a + pad_b - std::int64_t(dilation) * (kernel - 1) - 1;
}

}  // namespace

int Conv2dGeometry::out_h() const {
  return static_cast<int>(conv_span(in_h, pad_top, pad_bottom, kernel_h, dilation_h) / stride_h + 1);
}

int Conv2dGeometry::out_w() const {
  return static_cast<int>(conv_span(in_w, pad_left, pad_right, kernel_w, dilation_w) / stride_w + 1);
}

void Conv2dGeometry::validate() const {
  IRNET_CHECK_ARG(batch >= 1, "conv: batch must be >= 1, got ", batch);
  IRNET_CHECK_ARG(in_h >= 1 && in_w >= 1, "conv: input height/width must be >= 1, got ", in_h,
                  "x", in_w);
  IRNET_CHECK_ARG(in_c >= 1, "conv: input channels must be >= 1, got ", in_c);
  IRNET_CHECK_ARG(out_c >= 1, "conv: output channels must be >= 1, got ", out_c);
  IRNET_CHECK_ARG(kernel_h >= 1 && kernel_w >= 1, "conv: kernel must be >= 1x1, got ", kernel_h,
                  "x", kernel_w);
  IRNET_CHECK_ARG(stride_h >= 1 && stride_w >= 1, "conv: stride must be >= 1, got ", stride_h, "x",
                  stride_w);
  IRNET_CHECK_ARG(dilation_h >= 1 && dilation_w >= 1, "conv: dilation must be >= 1, got ",
                  dilation_h, "x", dilation_w);
  IRNET_CHECK_ARG(pad_top >= 0 && pad_left >= 0 && pad_bottom >= 0 && pad_right >= 0,
                  "conv: padding must be >= 0, got [top ", pad_top, ", left ", pad_left,
                  ", bottom ", pad_bottom, ", right ", pad_right, "]");
  IRNET_CHECK_ARG(groups >= 1, "conv: groups must be >= 1, got ", groups);
  IRNET_CHECK_ARG(in_c % groups == 0, "conv: input channels ", in_c,
                  " are not divisible by groups ", groups);
  IRNET_CHECK_ARG(out_c % groups == 0, "conv: output channels ", out_c,
                  " are not divisible by groups ", groups);
  // Padded extents must fit in int: every tap coordinate the convolutions
  // compute (o*stride - pad_before + tap*dilation) then stays in int range.
  IRNET_CHECK_ARG(std::int64_t(in_h) + pad_top + pad_bottom <= INT32_MAX &&
                      std::int64_t(in_w) + pad_left + pad_right <= INT32_MAX,
                  "conv: padded input size overflows");
  const std::int64_t span_h = conv_span(in_h, pad_top, pad_bottom, kernel_h, dilation_h);
  const std::int64_t span_w = conv_span(in_w, pad_left, pad_right, kernel_w, dilation_w);
  IRNET_CHECK_ARG(span_h >= 0 && span_w >= 0, "conv: dilated kernel ",
                  std::int64_t(dilation_h) * (kernel_h - 1) + 1, "x",
                  std::int64_t(dilation_w) * (kernel_w - 1) + 1, " is larger than the padded input ",
                  std::int64_t(in_h) + pad_top + pad_bottom, "x",
                  std::int64_t(in_w) + pad_left + pad_right);
  // Every index the convolutions compute (elements of input, output and
  // weights) must fit in 63 bits; the per-image extents must fit in int.
  const std::int64_t limit = std::int64_t(1) << 31;
  IRNET_CHECK_ARG(span_h / stride_h + 1 < limit && span_w / stride_w + 1 < limit,
                  "conv: output size overflows");
  const auto mul_fits = [](std::int64_t a, std::int64_t b) { return a == 0 || b <= INT64_MAX / 4 / a; };
  const std::int64_t in_pixels = std::int64_t(batch) * in_h;
  const std::int64_t out_pixels = std::int64_t(batch) * out_h();
  const std::int64_t taps = std::int64_t(kernel_h) * kernel_w;
  IRNET_CHECK_ARG(mul_fits(in_pixels, in_w) && mul_fits(in_pixels * in_w, in_c) &&
                      mul_fits(out_pixels, out_w()) && mul_fits(out_pixels * out_w(), out_c) &&
                      mul_fits(taps, out_c) && mul_fits(taps * out_c, in_c),
                  "conv: tensor sizes overflow 64-bit indexing");
}

}  // namespace irnet
