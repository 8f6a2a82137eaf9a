// Factories of the binary ops (registered in ops/op_table.cc).
//
//   BinaryConv2d  wraps BConv2d (bconv/bconv2d.h): packed NHWC in, fused
//                 shift/scale/bias/residual/clip epilogue, float/bits/int32 out.
//   BinaryGemm    the same layer seen as a 1x1 convolution on a 1x1 image with
//                 in_c = K: x [N, K] bits times w [M, K] bits -> [N, M].
//   SignPack      f32 -> bits along the last axis (bitpack/bitpack.h).
#pragma once

#include <memory>

#include "bconv/bconv2d.h"
#include "graph/op.h"

namespace irnet {

std::unique_ptr<Op> make_binary_conv2d(const NodeView& node);
std::unique_ptr<Op> make_binary_gemm(const NodeView& node);
std::unique_ptr<Op> make_sign_pack(const NodeView& node);

// Shared by BinaryConv2d and BinaryGemm: reads the epilogue inputs
// (shift 2, scale 3, bias 4, residual 5 if allowed) and the mode/clip
// attributes, and builds the op for geometry `g` whose first output has the
// logical shape `out_shape` (its memory layout is NHWC either way).
std::unique_ptr<Op> make_binary_conv_op(const NodeView& node, const Conv2dGeometry& g,
                                        PadValue pad, const Shape& out_shape,
                                        bool residual_allowed);

}  // namespace irnet
