// Conv2dGeometry — the shape of a 2-D convolution, shared by the binary and
// the float convolutions. Tensors are NHWC; weights are [out_c][kh][kw][in_c/groups].
//
// Output size follows ONNX/PyTorch:
//   out_h = (in_h + pad_top + pad_bottom - dilation_h*(kernel_h-1) - 1) / stride_h + 1
#pragma once

#include <cstdint>

namespace irnet {

struct Conv2dGeometry {
  int batch = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_c = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;

  int out_h() const;
  int out_w() const;
  int in_c_per_group() const { return in_c / groups; }
  int out_c_per_group() const { return out_c / groups; }
  // Throws irnet::Error (kInvalidArgument) naming the offending field when the
  // geometry is not computable: non-positive sizes, stride/dilation < 1,
  // negative padding, channels not divisible by groups, a dilated kernel larger
  // than the padded input, or sizes whose products overflow.
  void validate() const;
};

}  // namespace irnet
