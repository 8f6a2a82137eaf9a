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
#include "pool/pool_kernel.h"

namespace irnet {

// Reads kernel, strides, pads, dilations (when `with_dilations`) and ceil_mode
// for input shape x [N, H, W, C], validates them (failing through the node) and
// computes the output sizes.
PoolGeometry read_pool_geometry(const NodeView& node, const Shape& x, bool with_dilations);

}  // namespace irnet
