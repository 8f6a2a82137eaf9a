// Softmax and LogSoftmax along one axis (ONNX opset >= 13 semantics):
//   m = max_i x_i,  s = sum_i exp(x_i - m)
//   Softmax:    y_i = exp(x_i - m) / s
//   LogSoftmax: y_i = (x_i - m) - log(s)
// Subtracting the max keeps exp() from overflowing; the two ops share this file
// because they share everything but the last line.
#include <cmath>
#include <memory>

#include "core/check.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"

namespace irnet {
namespace {

class SoftmaxOp final : public Op {
 public:
  SoftmaxOp(Shape shape, int axis, bool log) : shape_(std::move(shape)), log_(log) {
    for (int k = 0; k < static_cast<int>(shape_.size()); ++k) {
      const auto d = static_cast<std::size_t>(shape_[k]);
      if (k < axis) outer_ *= d;
      else if (k == axis) n_ = d;
      else inner_ *= d;
    }
  }
  std::vector<TensorDesc> outputs() const override { return {{DType::kF32, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    // Work items: the outer*inner independent vectors of n values (stride inner).
    parallel_chunks(ctx, outer_ * inner_, 64, [&](std::size_t begin, std::size_t end) {
      for (std::size_t v = begin; v < end; ++v) {
        const std::size_t base = (v / inner_) * n_ * inner_ + v % inner_;
        const float* xv = x + base;
        float* yv = y + base;
        float m = xv[0];
        for (std::size_t i = 1; i < n_; ++i) m = xv[i * inner_] > m ? xv[i * inner_] : m;
        float s = 0.f;
        for (std::size_t i = 0; i < n_; ++i) s += std::exp(xv[i * inner_] - m);
        if (log_) {
          const float log_s = std::log(s);
          for (std::size_t i = 0; i < n_; ++i) yv[i * inner_] = (xv[i * inner_] - m) - log_s;
        } else {
          for (std::size_t i = 0; i < n_; ++i) yv[i * inner_] = std::exp(xv[i * inner_] - m) / s;
        }
      }
    });
  }

 private:
  Shape shape_;
  bool log_;
  std::size_t outer_ = 1, n_ = 1, inner_ = 1;
};

std::unique_ptr<Op> make(const NodeView& node, bool log) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32);
  if (x.shape.empty()) node.fail("input 0 must have rank >= 1");
  const int axis = normalize_axis(node, node.int_attr("axis", -1), x.shape.size(), "axis");
  return std::make_unique<SoftmaxOp>(x.shape, axis, log);
}

}  // namespace

std::unique_ptr<Op> make_softmax(const NodeView& node) { return make(node, false); }
std::unique_ptr<Op> make_log_softmax(const NodeView& node) { return make(node, true); }

}  // namespace irnet
