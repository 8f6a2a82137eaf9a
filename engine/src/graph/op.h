// The interface between the graph runtime and the ops.
//
// The loader turns each .irb node into an Op by calling the factory registered
// for its op name (ops/op_table.cc). The factory reads attributes and input
// descriptions through NodeView, validates them (throwing irnet::Error with the
// node named: NodeView::fail), infers output shapes, and does all per-model
// preparation (weight packing for its kernels, padding corrections, thresholds). run() then
// only computes: no allocation, no validation, no exceptions.
//
// Tensors: rank-4 activations are NHWC. Shapes are logical (see docs/format.md);
// a bits tensor of logical shape [.., C] occupies prod(..) * packed_words(C) words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/types.h"
#include "cpu/kernel_config.h"
#include "irnet/error.h"

namespace irnet {

struct TensorDesc {
  DType dtype = DType::kF32;
  Shape shape;
  const void* data = nullptr;  // constants only: points into the mapped model file
};

// Read access to one node while its op is being built.
class NodeView {
 public:
  virtual ~NodeView() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& op() const = 0;

  // Inputs as declared in the file; nullptr for an absent optional input.
  virtual std::size_t num_inputs() const = 0;
  virtual const TensorDesc* input(std::size_t i) const = 0;
  virtual std::size_t num_outputs() const = 0;
  // The shape the file declares for output i, or nullptr where unknown (test
  // doubles). Factories whose construction cost grows with the output size
  // (BinaryConv2d's padding-correction classes) compare it first, so a corrupt
  // attribute cannot make the loader build a huge op before the graph-level
  // inferred-vs-declared check runs.
  virtual const Shape* declared_output_shape(std::size_t /*i*/) const { return nullptr; }
  // The model's kernels (cpu/kernel_config.h): ops bind theirs from it.
  virtual const KernelConfig& kernels() const = 0;

  // Attributes. The default is returned when the key is absent; a present key
  // with the wrong type or count throws (naming node, op and key).
  virtual bool has_attr(const std::string& key) const = 0;
  virtual std::vector<std::int64_t> ints(const std::string& key,
                                         std::vector<std::int64_t> dflt) const = 0;
  virtual std::vector<float> floats(const std::string& key, std::vector<float> dflt) const = 0;
  virtual std::string str(const std::string& key, std::string dflt) const = 0;
  std::int64_t int_attr(const std::string& key, std::int64_t dflt) const;
  float float_attr(const std::string& key, float dflt) const;

  // Helpers for factories: fetch input i and check its presence/dtype/rank/
  // constness, or throw a kModelFormat error naming the node.
  const TensorDesc& require_input(std::size_t i, DType dtype, int rank = -1) const;
  // A constant input of this dtype and shape; `what` (e.g. "threshold"), when
  // given, is named in the errors beside the input's index.
  const TensorDesc& require_const(std::size_t i, DType dtype, const Shape& shape, const char* what = nullptr) const;
  [[noreturn]] void fail(const std::string& message) const;
};

struct RunContext {
  const void* const* inputs;  // one pointer per declared input (nullptr if absent)
  void* const* outputs;       // one pointer per output
  void* scratch;              // scratch_bytes() bytes, 64-byte aligned, shared by the whole node
  const ParallelFor* parallel_for;  // see core/parallel.h
};

struct OpStats {
  std::int64_t binary_macs = 0;
  std::int64_t float_macs = 0;
  std::int64_t param_bytes = 0;
};

class Op {
 public:
  virtual ~Op() = default;
  // Output descriptions (dtype + shape), one per node output, inferred from the
  // inputs. The loader checks they equal the shapes declared in the file.
  virtual std::vector<TensorDesc> outputs() const = 0;
  virtual std::size_t scratch_bytes() const { return 0; }
  virtual void run(const RunContext& ctx) const = 0;
  virtual OpStats stats() const { return {}; }
  // The kernels in use, e.g. "bgemm_4x8_avx2+bconv_epilogue_avx2" or "sgemm_6x16_avx2".
  virtual std::string kernel_name() const { return "ref"; }
};

using OpFactory = std::unique_ptr<Op> (*)(const NodeView& node);

// The table of every op the runtime knows (ops/op_table.cc). nullptr if unknown.
OpFactory find_op_factory(const std::string& op_name);
// Comma-separated list of known op names, for "unknown op" messages.
std::string known_op_names();

}  // namespace irnet
