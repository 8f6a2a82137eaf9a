// Factories of the float and data-movement ops (registered in ops/op_table.cc).
// Semantics of each op: docs/format.md (the op catalog) and docs/ops.md.
#pragma once

#include <memory>

#include "graph/op.h"

namespace irnet {

std::unique_ptr<Op> make_conv2d(const NodeView& node);
std::unique_ptr<Op> make_gemm(const NodeView& node);
std::unique_ptr<Op> make_channel_affine(const NodeView& node);
std::unique_ptr<Op> make_clip(const NodeView& node);
std::unique_ptr<Op> make_relu(const NodeView& node);
std::unique_ptr<Op> make_prelu(const NodeView& node);
std::unique_ptr<Op> make_add(const NodeView& node);
std::unique_ptr<Op> make_max_pool(const NodeView& node);
std::unique_ptr<Op> make_average_pool(const NodeView& node);
std::unique_ptr<Op> make_global_average_pool(const NodeView& node);
std::unique_ptr<Op> make_reshape(const NodeView& node);
std::unique_ptr<Op> make_transpose(const NodeView& node);
std::unique_ptr<Op> make_slice(const NodeView& node);
std::unique_ptr<Op> make_pad(const NodeView& node);
std::unique_ptr<Op> make_concat(const NodeView& node);
std::unique_ptr<Op> make_softmax(const NodeView& node);
std::unique_ptr<Op> make_log_softmax(const NodeView& node);

}  // namespace irnet
