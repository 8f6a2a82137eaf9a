// The op-name -> factory table the loader uses (graph/op.h). An explicit table,
// not static self-registration: the engine is a static library, and a linker
// drops object files nothing references.

#include "graph/op.h"
#include "ops/binary_ops.h"
#include "ops/float_ops.h"

namespace irnet {
namespace {

struct OpEntry {
  const char* name;
  OpFactory factory;
};

// Keep sorted by name (known_op_names() lists them in this order).
constexpr OpEntry kOps[] = {
    {"Add", &make_add},
    {"AveragePool", &make_average_pool},
    {"BinaryConv2d", &make_binary_conv2d},
    {"BinaryGemm", &make_binary_gemm},
    {"ChannelAffine", &make_channel_affine},
    {"Clip", &make_clip},
    {"Concat", &make_concat},
    {"Conv2d", &make_conv2d},
    {"Gemm", &make_gemm},
    {"GlobalAveragePool", &make_global_average_pool},
    {"LogSoftmax", &make_log_softmax},
    {"MaxPool", &make_max_pool},
    {"PRelu", &make_prelu},
    {"Pad", &make_pad},
    {"Relu", &make_relu},
    {"Reshape", &make_reshape},
    {"SignPack", &make_sign_pack},
    {"Slice", &make_slice},
    {"Softmax", &make_softmax},
    {"Transpose", &make_transpose},
};

}  // namespace

OpFactory find_op_factory(const std::string& op_name) {
  for (const OpEntry& e : kOps)
    if (op_name == e.name) return e.factory;
  return nullptr;
}

std::string known_op_names() {
  std::string names;
  for (const OpEntry& e : kOps) names += (names.empty() ? "" : ", ") + std::string(e.name);
  return names;
}

}  // namespace irnet
