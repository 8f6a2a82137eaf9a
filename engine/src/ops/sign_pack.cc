// SignPack: f32 -> bits along the last axis (bit 1 <=> x < 0; bitpack/bitpack.h).
#include <algorithm>

#include "core/check.h"
#include "irnet/kernels.h"
#include "ops/binary_ops.h"

namespace irnet {

namespace {

constexpr std::size_t kMinRowsPerTask = 64;

class SignPackOp final : public Op {
 public:
  explicit SignPackOp(Shape shape) : shape_(std::move(shape)), kernel_(selected_kernel("bitpack")) {
    channels_ = static_cast<std::size_t>(shape_.back());
    rows_ = 1;
    for (std::size_t i = 0; i + 1 < shape_.size(); ++i) rows_ *= static_cast<std::size_t>(shape_[i]);
  }
  std::vector<TensorDesc> outputs() const override { return {{DType::kBits, shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    const auto* x = static_cast<const float*>(ctx.inputs[0]);
    auto* out = static_cast<BitWord*>(ctx.outputs[0]);
    const std::size_t tasks = (rows_ + kMinRowsPerTask - 1) / kMinRowsPerTask;
    (*ctx.parallel_for)(tasks, [&](std::size_t begin, std::size_t end) {
      const std::size_t row_begin = begin * kMinRowsPerTask;
      const std::size_t row_end = std::min(rows_, end * kMinRowsPerTask);
      pack_signs(x + row_begin * channels_, row_end - row_begin, channels_,
                 out + row_begin * packed_words(channels_));
    });
  }
  std::string kernel_name() const override { return kernel_; }

 private:
  Shape shape_;
  std::string kernel_;
  std::size_t rows_ = 1, channels_ = 1;
};

}  // namespace

std::unique_ptr<Op> make_sign_pack(const NodeView& node) {
  const TensorDesc& x = node.require_input(0, DType::kF32);
  if (x.shape.empty()) node.fail("input 0 must have rank >= 1 (the packed axis is the last)");
  if (node.num_inputs() != 1) node.fail(str_cat("takes 1 input, has ", node.num_inputs()));
  return std::make_unique<SignPackOp>(x.shape);
}

}  // namespace irnet
