// One spatial axis of a sliding window (a convolution's or a pool's kernel):
// where window o starts in the input and which of its taps fall inside it.
// Pools (ops/pool_geometry.h) walk windows with it; BConv2d groups output
// positions by their inside taps for its zero-padding correction.
#pragma once

#include <cstdint>

namespace irnet {

struct WindowAxis {
  std::int64_t in = 0, kernel = 1, stride = 1, dilation = 1, pad_begin = 0, pad_end = 0;
  std::int64_t out = 0;

  // First input index of window o (may be negative: in the padding).
  std::int64_t start(std::int64_t o) const { return o * stride - pad_begin; }
  // Taps [first, last) of window o that fall inside the input: tap i reads start + i*dilation.
  std::int64_t first_tap(std::int64_t o) const {
    const std::int64_t s = start(o);
    return s >= 0 ? 0 : (-s + dilation - 1) / dilation;  // smallest i with s + i*d >= 0
  }
  std::int64_t last_tap(std::int64_t o) const {
    const std::int64_t s = start(o);
    if (s >= in) return 0;
    const std::int64_t inside = (in - 1 - s) / dilation + 1;  // taps with s + i*d <= in - 1
    return inside < kernel ? inside : kernel;
  }
};

}  // namespace irnet
