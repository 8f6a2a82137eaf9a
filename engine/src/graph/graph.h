// The executable graph: built once from a parsed .irb file, then run many times.
//
// Building validates what the container parser cannot (format/irb_file.h):
// every op is known, every input is a constant, a graph input or the output
// of an earlier node (so there are no cycles), no tensor is produced twice,
// and each op's inferred outputs equal the declared dtypes and shapes. It then
// plans the activation memory (graph/memory_plan.h): every activation and
// every node's scratch gets a fixed offset in one arena.
//
// An Arena is one run's memory: the activation buffer (its pages committed
// when it is made) plus the per-node input/output pointer tables into it,
// filled once when the arena is made, so execute() only calls the ops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/irb_file.h"
#include "graph/op.h"

namespace irnet {

struct GraphTensor {
  std::string name;
  DType dtype = DType::kF32;
  TensorLayout layout = TensorLayout::kPlain;
  Shape shape;
  std::size_t bytes = 0;
  const void* constant = nullptr;  // constants: the data in the file buffer
  std::size_t arena_offset = 0;    // activations: where the buffer lives in the arena
};

struct GraphNode {
  std::string name;
  std::string op_name;
  std::unique_ptr<Op> op;
  std::vector<std::uint32_t> inputs;   // kIrbAbsentTensor for an absent input
  std::vector<std::uint32_t> outputs;
  std::size_t scratch_offset = 0;  // in the arena; meaningful if scratch_bytes > 0
  std::size_t scratch_bytes = 0;
  std::int64_t param_bytes = 0;    // constant inputs, bytes in the file
};

class Graph;

class Arena {
 public:
  explicit Arena(const Graph& graph);
  std::uint8_t* base() { return buffer_.data(); }

 private:
  friend class Graph;
  AlignedBuffer buffer_;
  std::vector<const void*> input_ptrs_;  // all nodes' inputs, concatenated
  std::vector<void*> output_ptrs_;
  std::vector<void*> scratch_ptrs_;
};

class Graph {
 public:
  // Builds every node's op with `kernels` (the model's kernel configuration).
  Graph(IrbFile file, const KernelConfig& kernels);

  const IrbFile& file() const { return file_; }
  const KernelConfig& kernels() const { return kernels_; }
  const std::vector<GraphTensor>& tensors() const { return tensors_; }
  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const std::vector<std::uint32_t>& input_ids() const { return file_.inputs; }
  const std::vector<std::uint32_t>& output_ids() const { return file_.outputs; }
  std::size_t arena_bytes() const { return arena_bytes_; }
  std::size_t max_scratch_bytes() const { return max_scratch_bytes_; }

  // Runs every node in order. layer_seconds: nullptr, or one slot per node.
  void execute(Arena& arena, const ParallelFor& parallel_for, double* layer_seconds) const;

 private:
  friend class Arena;
  [[noreturn]] void node_error(std::size_t node, const std::string& message) const;
  void build_nodes();
  void check_io();
  void plan();

  IrbFile file_;
  KernelConfig kernels_;
  std::vector<GraphTensor> tensors_;
  std::vector<GraphNode> nodes_;
  std::vector<std::size_t> input_start_, output_start_;  // into the Arena pointer tables
  std::size_t arena_bytes_ = 0;
  std::size_t max_scratch_bytes_ = 0;
};

}  // namespace irnet
