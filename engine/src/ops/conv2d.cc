// Conv2d (float, NHWC) and Gemm (float fully-connected): both run FloatConv2d,
// Gemm as a 1x1 convolution over a batch of 1x1 images with in_c = K.
#include <memory>

#include "core/check.h"
#include "fconv/conv2d_f32.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

class FloatConvOp final : public Op {
 public:
  FloatConvOp(const Conv2dGeometry& g, const float* w, const float* bias, FloatClamp clamp,
              Shape out_shape)
      : conv_(g, w, bias, clamp), out_shape_(std::move(out_shape)) {}

  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, out_shape_, nullptr}}; }
  std::size_t scratch_bytes() const override { return conv_.scratch_bytes(); }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    (*ctx.parallel_for)(conv_.num_slots(), [&](std::size_t begin, std::size_t end) {
      conv_.run_slots(begin, end, x, y, ctx.scratch);
    });
  }
  OpStats stats() const override {
    const Conv2dGeometry& g = conv_.geometry();
    OpStats s;
    const std::int64_t weights = static_cast<std::int64_t>(g.out_c) * g.kernel_h * g.kernel_w *
                                 g.in_c_per_group();
    s.float_macs = static_cast<std::int64_t>(g.batch) * g.out_h() * g.out_w() * weights;
    s.param_bytes = (weights + g.out_c) * 4;
    return s;
  }
  std::string kernel_name() const override { return conv_.kernel_name(); }

 private:
  FloatConv2d conv_;
  Shape out_shape_;
};

// The optional bias input: absent, or a constant f32 [out_c].
const float* read_bias(const NodeView& node, std::size_t index, std::int64_t out_c) {
  if (node.num_inputs() <= index || node.input(index) == nullptr) return nullptr;
  return static_cast<const float*>(node.require_const(index, DType::kF32, {out_c}).data);
}

std::unique_ptr<Op> build(const NodeView& node, const Conv2dGeometry& g, const float* w,
                          const float* bias, FloatClamp clamp, Shape out_shape) {
  try {
    return std::make_unique<FloatConvOp>(g, w, bias, clamp, std::move(out_shape));
  } catch (const Error& e) {
    node.fail(e.what());  // the geometry's message, with the node named
  }
}

}  // namespace

std::unique_ptr<Op> make_conv2d(const NodeView& node) {
  check_arity(node, 2, 3);
  const TensorDesc& x = node.require_input(0, DType::kF32, 4);
  const TensorDesc& w = node.require_input(1, DType::kF32, 4);
  if (w.data == nullptr) node.fail("input 1 (weights) must be a constant");
  const std::vector<std::int64_t> kernel = read_ints(node, "kernel", {w.shape[1], w.shape[2]}, 2, 1);
  const std::vector<std::int64_t> strides = read_ints(node, "strides", {1, 1}, 2, 1);
  const std::vector<std::int64_t> dilations = read_ints(node, "dilations", {1, 1}, 2, 1);
  const std::vector<std::int64_t> pads = read_ints(node, "pads", {0, 0, 0, 0}, 4, 0);
  const std::int64_t groups = node.int_attr("groups", 1);
  if (groups < 1 || x.shape[3] % groups != 0)
    node.fail(str_cat("groups = ", groups, " must be >= 1 and divide the ", x.shape[3], " input channels"));
  const Shape expected_w = {w.shape[0], kernel[0], kernel[1], x.shape[3] / groups};
  if (w.shape != expected_w)
    node.fail(str_cat("weights must have shape [out_c, kh, kw, in_c/groups] = ", shape_str(expected_w),
                      ", got ", shape_str(w.shape)));
  Conv2dGeometry g;
  g.batch = checked_int(node, x.shape[0], "batch");
  g.in_h = checked_int(node, x.shape[1], "input height");
  g.in_w = checked_int(node, x.shape[2], "input width");
  g.in_c = checked_int(node, x.shape[3], "input channels");
  g.out_c = checked_int(node, w.shape[0], "output channels");
  g.kernel_h = checked_int(node, kernel[0], "kernel height");
  g.kernel_w = checked_int(node, kernel[1], "kernel width");
  g.stride_h = checked_int(node, strides[0], "stride");
  g.stride_w = checked_int(node, strides[1], "stride");
  g.dilation_h = checked_int(node, dilations[0], "dilation");
  g.dilation_w = checked_int(node, dilations[1], "dilation");
  g.pad_top = checked_int(node, pads[0], "pad");
  g.pad_left = checked_int(node, pads[1], "pad");
  g.pad_bottom = checked_int(node, pads[2], "pad");
  g.pad_right = checked_int(node, pads[3], "pad");
  g.groups = checked_int(node, groups, "groups");
  try {
    g.validate();
  } catch (const Error& e) {
    node.fail(e.what());
  }
  const float* bias = read_bias(node, 2, w.shape[0]);
  return build(node, g, static_cast<const float*>(w.data), bias, read_activation(node),
               {x.shape[0], g.out_h(), g.out_w(), w.shape[0]});
}

std::unique_ptr<Op> make_gemm(const NodeView& node) {
  check_arity(node, 2, 3);
  const TensorDesc& x = node.require_input(0, DType::kF32, 2);
  const TensorDesc& w = node.require_input(1, DType::kF32, 2);
  if (w.data == nullptr) node.fail("input 1 (weights [M, K]) must be a constant");
  if (w.shape[1] != x.shape[1])
    node.fail(str_cat("weights ", shape_str(w.shape), " must be [M, K] with K = ", x.shape[1],
                      " (x is ", shape_str(x.shape), ")"));
  Conv2dGeometry g;
  g.batch = checked_int(node, x.shape[0], "batch");
  g.in_h = g.in_w = 1;
  g.in_c = checked_int(node, x.shape[1], "K");
  g.out_c = checked_int(node, w.shape[0], "M");
  const float* bias = read_bias(node, 2, w.shape[0]);
  return build(node, g, static_cast<const float*>(w.data), bias, read_activation(node),
               {x.shape[0], w.shape[0]});
}

}  // namespace irnet
