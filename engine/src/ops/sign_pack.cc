// SignPack: f32 -> bits along the last axis (bit 1 <=> x < 0; bitpack/bitpack.h),
// or with a constant per-channel threshold t: bit 1 <=> fl(x + t_c) < 0.
#include <algorithm>
#include <vector>

#include "core/check.h"
#include "cpu/kernel_config.h"
#include "ops/binary_ops.h"

namespace irnet {

namespace {

constexpr std::size_t kMinRowsPerTask = 64;

class SignPackOp final : public Op {
 public:
  SignPackOp(Shape shape, std::vector<float> threshold, const BitpackKernel& kernel)
      : shape_(std::move(shape)), threshold_(std::move(threshold)), kernel_(kernel) {
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
      const float* rows_x = x + row_begin * channels_;
      BitWord* rows_out = out + row_begin * packed_words(channels_);
      if (threshold_.empty())
        kernel_.pack(rows_x, row_end - row_begin, channels_, rows_out);
      else
        kernel_.pack_threshold(rows_x, row_end - row_begin, channels_, threshold_.data(), rows_out);
    });
  }
  std::string kernel_name() const override { return kernel_.name; }

 private:
  Shape shape_;
  std::vector<float> threshold_;  // [channels], or empty: no threshold
  const BitpackKernel& kernel_;
  std::size_t rows_ = 1, channels_ = 1;
};

}  // namespace

std::unique_ptr<Op> make_sign_pack(const NodeView& node) {
  const TensorDesc& x = node.require_input(0, DType::kF32);
  if (x.shape.empty()) node.fail("input 0 must have rank >= 1 (the packed axis is the last)");
  if (node.num_inputs() > 2) node.fail(str_cat("takes 1 or 2 inputs, has ", node.num_inputs()));
  std::vector<float> threshold;
  if (node.num_inputs() == 2 && node.input(1) != nullptr) {
    const auto* t = static_cast<const float*>(node.require_const(1, DType::kF32, {x.shape.back()}).data);
    threshold.assign(t, t + x.shape.back());
  }
  return std::make_unique<SignPackOp>(x.shape, std::move(threshold), *node.kernels().bitpack);
}

}  // namespace irnet
