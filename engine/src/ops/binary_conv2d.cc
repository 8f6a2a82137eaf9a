// BinaryConv2d: the graph op around BConv2d. See ops/binary_ops.h.
#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/checked.h"
#include "ops/binary_ops.h"

namespace irnet {

namespace {

// Output rows (pixels) are split into tasks, each with its own scratch slot
// (BConv2d needs scratch for at most one of its internal row blocks), so any
// grouping of tasks onto threads computes the same thing. Rows are counted in
// tiles of kRowTile, the activation rows of every bgemm kernel's register
// tile; only the layer's last tile can be partial. The task count is a power
// of two up to kMaxTasks with at least kMinTilesPerTask tiles per task, and
// task t covers tiles [t * tiles / tasks, (t + 1) * tiles / tasks): task sizes
// differ by at most one tile, and ThreadPool's contiguous split of the tasks
// over k threads (k a power of two up to kMaxTasks) gives each thread a share
// within one tile of the mean. A 7 x 7 layer's 49 rows run on 4 threads as
// 12 + 12 + 12 + 13 (tasks of at least 32 rows would leave two threads idle).
constexpr std::size_t kRowTile = 4;
constexpr std::size_t kMinTilesPerTask = 3;
constexpr std::size_t kMaxTasks = 16;
constexpr std::size_t kSlotAlign = 64;

class BinaryConvOp final : public Op {
 public:
  BinaryConvOp(const Conv2dGeometry& g, PadValue pad, BConv2dOutput out, const BitWord* weights,
               const KernelConfig& kernels, Shape out_shape)
      : mode_(out.mode), has_residual_(out.has_residual),
        conv_(g, pad, std::move(out), weights, kernels), out_shape_(std::move(out_shape)) {
    rows_ = conv_.output_rows();
    tiles_ = (rows_ + kRowTile - 1) / kRowTile;
    tasks_ = kMaxTasks;
    while (tasks_ > 1 && tiles_ < tasks_ * kMinTilesPerTask) tasks_ /= 2;
    const std::size_t max_task_rows = (tiles_ + tasks_ - 1) / tasks_ * kRowTile;
    slot_bytes_ = checked_round_up("binary conv slot bytes", conv_.scratch_bytes(max_task_rows), kSlotAlign);
    scratch_bytes_ = checked_mul("binary conv scratch bytes (tasks * slot bytes)", tasks_, slot_bytes_);
  }

  std::vector<TensorDesc> outputs() const override {
    switch (mode_) {
      case BConv2dOutput::kInt32: return {{DType::kI32, out_shape_, nullptr}};
      case BConv2dOutput::kFloat: return {{DType::kF32, out_shape_, nullptr}};
      case BConv2dOutput::kBits: return {{DType::kBits, out_shape_, nullptr}};
      case BConv2dOutput::kFloatAndBits:
        return {{DType::kF32, out_shape_, nullptr}, {DType::kBits, out_shape_, nullptr}};
    }
    return {};
  }

  std::size_t scratch_bytes() const override { return scratch_bytes_; }

  void run(const RunContext& ctx) const override {
    const auto* input = static_cast<const BitWord*>(ctx.inputs[0]);
    const auto* residual = has_residual_ ? static_cast<const float*>(ctx.inputs[5]) : nullptr;
    std::int32_t* out_i32 = nullptr;
    float* out_f32 = nullptr;
    BitWord* out_bits = nullptr;
    switch (mode_) {
      case BConv2dOutput::kInt32: out_i32 = static_cast<std::int32_t*>(ctx.outputs[0]); break;
      case BConv2dOutput::kFloat: out_f32 = static_cast<float*>(ctx.outputs[0]); break;
      case BConv2dOutput::kBits: out_bits = static_cast<BitWord*>(ctx.outputs[0]); break;
      case BConv2dOutput::kFloatAndBits:
        out_f32 = static_cast<float*>(ctx.outputs[0]);
        out_bits = static_cast<BitWord*>(ctx.outputs[1]);
        break;
    }
    auto* scratch = static_cast<std::uint8_t*>(ctx.scratch);
    (*ctx.parallel_for)(tasks_, [&](std::size_t begin, std::size_t end) {
      for (std::size_t t = begin; t < end; ++t)
        conv_.run_rows(first_row(t), first_row(t + 1), input, residual, out_i32, out_f32, out_bits,
                       scratch + t * slot_bytes_);
    });
  }

  OpStats stats() const override {
    const Conv2dGeometry& g = conv_.geometry();
    OpStats s;
    s.binary_macs = static_cast<std::int64_t>(rows_) * g.out_c * g.kernel_h * g.kernel_w * g.in_c_per_group();
    return s;
  }

  std::string kernel_name() const override { return conv_.kernel_name(); }

 private:
  BConv2dOutput::Mode mode_;
  bool has_residual_;
  BConv2d conv_;
  Shape out_shape_;
  // The first output row of task t (t = tasks_: the end of the layer).
  std::size_t first_row(std::size_t t) const { return std::min(rows_, t * tiles_ / tasks_ * kRowTile); }

  std::size_t rows_ = 0, tiles_ = 0, tasks_ = 1, slot_bytes_ = 0, scratch_bytes_ = 0;
};

BConv2dOutput::Mode parse_mode(const NodeView& node) {
  const std::string mode = node.str("mode", "float");
  if (mode == "float") return BConv2dOutput::kFloat;
  if (mode == "bits") return BConv2dOutput::kBits;
  if (mode == "float+bits") return BConv2dOutput::kFloatAndBits;
  if (mode == "int32") return BConv2dOutput::kInt32;
  node.fail("mode '" + mode + "' is not one of float, bits, float+bits, int32");
}

// Attribute `key` as exactly `count` ints in [lo, hi], converted to int.
std::vector<int> int_list(const NodeView& node, const std::string& key, std::vector<std::int64_t> dflt,
                          std::size_t count, std::int64_t lo, std::int64_t hi) {
  const std::vector<std::int64_t> v = node.ints(key, std::move(dflt));
  if (v.size() != count) node.fail(str_cat("attribute '", key, "' must have ", count, " values, has ", v.size()));
  std::vector<int> out;
  for (std::int64_t x : v) {
    if (x < lo || x > hi) node.fail(str_cat("attribute '", key, "' value ", x, " is not in [", lo, ", ", hi, "]"));
    out.push_back(static_cast<int>(x));
  }
  return out;
}

}  // namespace

std::unique_ptr<Op> make_binary_conv_op(const NodeView& node, const Conv2dGeometry& g, PadValue pad,
                                        const Shape& out_shape, bool residual_allowed) {
  const std::int64_t out_c = g.out_c;
  BConv2dOutput out;
  out.mode = parse_mode(node);
  const std::size_t max_inputs = residual_allowed ? 10 : 5;
  if (node.num_inputs() > max_inputs)
    node.fail(str_cat("has ", node.num_inputs(), " inputs, at most ", max_inputs, " allowed"));
  auto optional_const = [&](std::size_t i, DType dtype, const char* what = nullptr) -> const void* {
    if (node.num_inputs() <= i || node.input(i) == nullptr) return nullptr;
    return node.require_const(i, dtype, {out_c}, what).data;
  };
  if (const auto* shift = static_cast<const std::int32_t*>(optional_const(2, DType::kI32))) {
    out.shift.assign(shift, shift + out_c);
    for (std::int64_t o = 0; o < out_c; ++o)
      if (out.shift[o] < 0 || out.shift[o] > 126)
        node.fail(str_cat("shift[", o, "] = ", out.shift[o], " is not in [0, 126]"));
  }
  if (const auto* scale = static_cast<const float*>(optional_const(3, DType::kF32))) {
    out.scale.assign(scale, scale + out_c);
    for (std::int64_t o = 0; o < out_c; ++o)
      if (!std::isfinite(out.scale[o])) node.fail(str_cat("scale[", o, "] is not finite"));
  }
  if (const auto* bias = static_cast<const float*>(optional_const(4, DType::kF32))) {
    out.bias.assign(bias, bias + out_c);
    for (std::int64_t o = 0; o < out_c; ++o)
      if (!std::isfinite(out.bias[o])) node.fail(str_cat("bias[", o, "] is not finite"));
  }
  if (node.num_inputs() > 5 && node.input(5) != nullptr) {
    const TensorDesc& r = node.require_input(5, DType::kF32);
    // The output's shape, or with C_r channels where out_c = r * C_r, r >= 2 (repeated).
    Shape repeated = out_shape;
    const std::int64_t res_c = r.shape.empty() ? 0 : r.shape.back();
    repeated.back() = res_c;
    const bool repeats = r.shape == repeated && res_c >= 1 && res_c < out_c && out_c % res_c == 0;
    if (r.shape != out_shape && !repeats)
      node.fail(str_cat("input 5 (residual) has shape ", shape_str(r.shape), "; it must be the output shape ",
                        shape_str(out_shape), ", or that shape with a channel count dividing ", out_c,
                        " (the residual repeated along channels)"));
    if (out.mode == BConv2dOutput::kInt32) node.fail("mode int32 cannot add a residual");
    out.has_residual = true;
    if (repeats) out.residual_channels = static_cast<int>(res_c);
  }
  // Inputs 6..9: the activation stage and the bit threshold, f32 constants [out_c].
  const auto channel_floats = [&](std::size_t i, const char* what) {
    std::vector<float> v;
    const auto* data = static_cast<const float*>(optional_const(i, DType::kF32, what));
    if (data == nullptr) return v;
    v.assign(data, data + out_c);
    for (std::int64_t o = 0; o < out_c; ++o)
      if (!std::isfinite(v[o])) node.fail(str_cat("input ", i, " (", what, ") value [", o, "] is not finite"));
    return v;
  };
  out.act_shift_in = channel_floats(6, "act_shift_in");
  out.act_slope = channel_floats(7, "act_slope");
  out.act_shift_out = channel_floats(8, "act_shift_out");
  out.threshold = channel_floats(9, "threshold");
  if (out.act_slope.empty() && !out.act_shift_in.empty())
    node.fail("input 6 (act_shift_in) needs input 7 (act_slope)");
  if (out.act_slope.empty() && !out.act_shift_out.empty())
    node.fail("input 8 (act_shift_out) needs input 7 (act_slope)");
  if (!out.act_slope.empty() && out.mode == BConv2dOutput::kInt32)
    node.fail("mode int32 cannot take input 7 (act_slope)");
  if (!out.threshold.empty() && out.mode != BConv2dOutput::kBits && out.mode != BConv2dOutput::kFloatAndBits)
    node.fail("input 9 (threshold) needs mode bits or float+bits");
  if (node.has_attr("clip")) {
    const std::vector<float> clip = node.floats("clip", {});
    if (clip.size() != 2 || !(clip[0] <= clip[1]))
      node.fail("attribute 'clip' must be [lo, hi] with lo <= hi");
    if (out.mode == BConv2dOutput::kInt32) node.fail("mode int32 cannot clip");
    out.has_clamp = true;
    out.clamp_lo = clip[0];
    out.clamp_hi = clip[1];
  }
  const auto* weights = static_cast<const BitWord*>(node.input(1)->data);
  return std::make_unique<BinaryConvOp>(g, pad, std::move(out), weights, node.kernels(), out_shape);
}

std::unique_ptr<Op> make_binary_conv2d(const NodeView& node) {
  const TensorDesc& x = node.require_input(0, DType::kBits, 4);
  const TensorDesc& w = node.require_input(1, DType::kBits, 4);
  if (w.data == nullptr) node.fail("input 1 (weights) must be a constant");
  constexpr std::int64_t kMaxInt = 1 << 30;
  Conv2dGeometry g;
  g.batch = static_cast<int>(x.shape[0]);
  g.in_h = static_cast<int>(x.shape[1]);
  g.in_w = static_cast<int>(x.shape[2]);
  g.in_c = static_cast<int>(x.shape[3]);
  g.out_c = static_cast<int>(w.shape[0]);
  const std::vector<int> kernel = int_list(node, "kernel", {w.shape[1], w.shape[2]}, 2, 1, kMaxInt);
  const std::vector<int> strides = int_list(node, "strides", {1, 1}, 2, 1, kMaxInt);
  const std::vector<int> dilations = int_list(node, "dilations", {1, 1}, 2, 1, kMaxInt);
  const std::vector<int> pads = int_list(node, "pads", {0, 0, 0, 0}, 4, 0, kMaxInt);
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  g.stride_h = strides[0];
  g.stride_w = strides[1];
  g.dilation_h = dilations[0];
  g.dilation_w = dilations[1];
  g.pad_top = pads[0];
  g.pad_left = pads[1];
  g.pad_bottom = pads[2];
  g.pad_right = pads[3];
  g.groups = int_list(node, "groups", {1}, 1, 1, kMaxInt)[0];
  const int pad_value = int_list(node, "pad_value", {0}, 1, -1, 1)[0];
  g.validate();
  const Shape expected_w = {g.out_c, g.kernel_h, g.kernel_w, g.in_c_per_group()};
  if (w.shape != expected_w)
    node.fail(str_cat("weights have shape ", shape_str(w.shape), ", the attributes and input need ",
                      shape_str(expected_w)));
  const Shape out_shape = {g.batch, g.out_h(), g.out_w(), g.out_c};
  // Before BConv2d sizes its per-position tables by the output plane: a corrupt
  // pad or stride must not cost time and memory proportional to a bogus output.
  const Shape* declared = node.declared_output_shape(0);
  if (declared != nullptr && *declared != out_shape)
    node.fail(str_cat("output 0 is declared ", shape_str(*declared), " but the input and attributes give ",
                      shape_str(out_shape)));
  return make_binary_conv_op(node, g, static_cast<PadValue>(pad_value), out_shape, true);
}

}  // namespace irnet
