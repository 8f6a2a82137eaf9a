// MaxPool (NHWC): y[n,oh,ow,c] = max over the window's taps inside the input
// (padding never wins; a window with no tap inside gives -inf). The max keeps
// the first of equal values in tap order and skips NaN taps:
//   acc = x > acc ? x : acc, from -inf
// (so -0 and +0 come out as the first one seen, like the reference). The rows
// are the "pool" kernel's (pool/pool_kernel.h).
#include <memory>

#include "core/check.h"
#include "cpu/kernel_config.h"
#include "ops/float_ops.h"
#include "ops/op_util.h"
#include "ops/pool_geometry.h"

namespace irnet {
namespace {

class MaxPoolOp final : public Op {
 public:
  MaxPoolOp(Shape in_shape, PoolGeometry g, const PoolKernel& kernel)
      : in_(std::move(in_shape)), g_(g), kernel_(kernel) {}
  std::vector<TensorDesc> outputs() const override {
    return {{DType::kF32, {in_[0], g_.h.out, g_.w.out, in_[3]}, nullptr}};
  }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* y = static_cast<float*>(ctx.outputs[0]);
    // Work items: output rows (n, oh).
    parallel_chunks(ctx, static_cast<std::size_t>(in_[0] * g_.h.out), 1, [&](std::size_t begin, std::size_t end) {
      kernel_.max_rows(g_, in_, x, y, begin, end);
    });
  }
  std::string kernel_name() const override { return kernel_.name; }

 private:
  Shape in_;
  PoolGeometry g_;
  const PoolKernel& kernel_;
};

}  // namespace

std::unique_ptr<Op> make_max_pool(const NodeView& node) {
  check_arity(node, 1, 1);
  const TensorDesc& x = node.require_input(0, DType::kF32, 4);
  return std::make_unique<MaxPoolOp>(x.shape, read_pool_geometry(node, x.shape, true), *node.kernels().pool);
}

}  // namespace irnet
