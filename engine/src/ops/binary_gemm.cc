// BinaryGemm: y[N, M] from x bits [N, K] and w bits [M, K], computed as a 1x1
// binary convolution on a 1x1 image with in_c = K (see ops/binary_ops.h).
#include "core/check.h"
#include "ops/binary_ops.h"

namespace irnet {

std::unique_ptr<Op> make_binary_gemm(const NodeView& node) {
  const TensorDesc& x = node.require_input(0, DType::kBits, 2);
  const TensorDesc& w = node.require_input(1, DType::kBits, 2);
  if (w.data == nullptr) node.fail("input 1 (weights) must be a constant");
  if (w.shape[1] != x.shape[1])
    node.fail(str_cat("x has K = ", x.shape[1], " but w has K = ", w.shape[1]));
  Conv2dGeometry g;
  g.batch = static_cast<int>(x.shape[0]);
  g.in_h = g.in_w = 1;
  g.in_c = static_cast<int>(x.shape[1]);
  g.out_c = static_cast<int>(w.shape[0]);
  g.validate();
  return make_binary_conv_op(node, g, PadValue::kZero, {x.shape[0], w.shape[0]}, false);
}

}  // namespace irnet
