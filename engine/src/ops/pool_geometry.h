// The window geometry shared by MaxPool and AveragePool (NHWC, per spatial axis).
//
// Output size, as PyTorch and onnxruntime compute it:
//   extent = dilation*(kernel-1) + 1
//   out    = floor((in + pad_begin + pad_end - extent) / stride) + 1     (ceil_mode 0)
//   out    = ceil ((in + pad_begin + pad_end - extent) / stride) + 1     (ceil_mode 1)
// and with ceil_mode a last window that would start inside the end padding
// ((out-1)*stride >= in + pad_begin) is dropped. Pads must be smaller than the
// window extent, so every window starts or ends inside the input.
#pragma once

#include <cstdint>

#include "graph/op.h"

namespace irnet {

struct PoolAxis {
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

struct PoolGeometry {
  PoolAxis h, w;
};

// Reads kernel, strides, pads, dilations (when `with_dilations`) and ceil_mode
// for input shape x [N, H, W, C], validates them (failing through the node) and
// computes the output sizes.
PoolGeometry read_pool_geometry(const NodeView& node, const Shape& x, bool with_dilations);

}  // namespace irnet
