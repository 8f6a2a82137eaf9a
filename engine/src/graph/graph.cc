#include "graph/graph.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/check.h"
#include "core/checked.h"
#include "graph/memory_plan.h"

namespace irnet {

namespace {

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kInts: return "ints";
    case AttrType::kFloats: return "floats";
    case AttrType::kString: return "string";
  }
  return "unknown";
}

// NodeView over one parsed node: inputs described from the tensor table,
// attributes looked up by key with type checks.
class IrbNodeView final : public NodeView {
 public:
  IrbNodeView(const IrbNode& node, const std::vector<GraphTensor>& tensors, const KernelConfig& kernels)
      : node_(node), tensors_(tensors), kernels_(kernels) {
    descs_.reserve(node.inputs.size());
    for (std::uint32_t id : node.inputs) {
      TensorDesc d;
      if (id != kIrbAbsentTensor) {
        d.dtype = tensors[id].dtype;
        d.shape = tensors[id].shape;
        d.data = tensors[id].constant;
      }
      descs_.push_back(std::move(d));
    }
  }
  const std::string& name() const override { return node_.name; }
  const std::string& op() const override { return node_.op; }
  std::size_t num_inputs() const override { return node_.inputs.size(); }
  const TensorDesc* input(std::size_t i) const override {
    if (i >= descs_.size() || node_.inputs[i] == kIrbAbsentTensor) return nullptr;
    return &descs_[i];
  }
  std::size_t num_outputs() const override { return node_.outputs.size(); }
  const Shape* declared_output_shape(std::size_t i) const override {
    return i < node_.outputs.size() ? &tensors_[node_.outputs[i]].shape : nullptr;
  }
  const KernelConfig& kernels() const override { return kernels_; }

  bool has_attr(const std::string& key) const override { return find(key) != nullptr; }

  std::vector<std::int64_t> ints(const std::string& key, std::vector<std::int64_t> dflt) const override {
    const IrbAttr* a = find(key);
    if (a == nullptr) return dflt;
    expect(*a, AttrType::kInts);
    return a->ints;
  }
  // Float attributes may have been written as integers (e.g. clip [-1, 1]);
  // they are accepted within +-2^24, where every integer is an exact float.
  std::vector<float> floats(const std::string& key, std::vector<float> dflt) const override {
    const IrbAttr* a = find(key);
    if (a == nullptr) return dflt;
    if (a->type == AttrType::kInts) {
      constexpr std::int64_t kExactFloatInt = std::int64_t{1} << 24;
      std::vector<float> out;
      for (std::int64_t v : a->ints) {
        if (v < -kExactFloatInt || v > kExactFloatInt)
          fail(str_cat("attribute '", key, "' value ", v, " is not exactly representable as float"));
        out.push_back(static_cast<float>(v));
      }
      return out;
    }
    expect(*a, AttrType::kFloats);
    return a->floats;
  }
  std::string str(const std::string& key, std::string dflt) const override {
    const IrbAttr* a = find(key);
    if (a == nullptr) return dflt;
    expect(*a, AttrType::kString);
    return a->str;
  }

 private:
  const IrbAttr* find(const std::string& key) const {
    for (const IrbAttr& a : node_.attrs)
      if (a.key == key) return &a;
    return nullptr;
  }
  void expect(const IrbAttr& a, AttrType type) const {
    if (a.type != type)
      fail(str_cat("attribute '", a.key, "' must be ", attr_type_name(type), ", the file has ",
                   attr_type_name(a.type)));
  }
  const IrbNode& node_;
  const std::vector<GraphTensor>& tensors_;
  const KernelConfig& kernels_;
  std::vector<TensorDesc> descs_;
};

// "node 'conv1' (BinaryConv2d): " — every node-level message starts like this.
std::string node_prefix(const std::string& name, const std::string& op) {
  return str_cat("node '", name, "' (", op, "): ");
}

}  // namespace

Graph::Graph(IrbFile file, const KernelConfig& kernels) : file_(std::move(file)), kernels_(kernels) {
  tensors_.reserve(file_.tensors.size());
  for (const IrbTensor& t : file_.tensors) {
    GraphTensor g;
    g.name = t.name;
    g.dtype = t.dtype;
    g.layout = t.layout;
    g.shape = t.shape;
    g.bytes = tensor_bytes(t.dtype, t.shape);  // already checked by the parser
    g.constant = t.data;
    tensors_.push_back(std::move(g));
  }
  check_io();
  build_nodes();
  plan();
}

void Graph::node_error(std::size_t node, const std::string& message) const {
  const IrbNode& n = file_.nodes[node];
  fail(ErrorKind::kModelFormat, file_.source, ": ", node_prefix(n.name, n.op), message);
}

void Graph::check_io() {
  auto tensor = [&](std::uint32_t id) { return str_cat("'", tensors_[id].name, "'"); };
  std::vector<bool> seen(tensors_.size(), false);
  for (std::uint32_t id : file_.inputs) {
    const GraphTensor& t = tensors_[id];
    if (t.constant != nullptr)
      fail(ErrorKind::kModelFormat, file_.source, ": graph input ", tensor(id), " is a constant");
    if (seen[id])
      fail(ErrorKind::kModelFormat, file_.source, ": graph input ", tensor(id), " is listed twice");
    seen[id] = true;
    if (t.dtype != DType::kF32)
      fail(ErrorKind::kModelFormat, file_.source, ": graph input ", tensor(id), " has dtype ",
           dtype_name(t.dtype), "; graph inputs must be f32");
  }
  if (file_.outputs.empty()) fail(ErrorKind::kModelFormat, file_.source, ": the graph has no outputs");
  for (std::uint32_t id : file_.outputs)
    if (tensors_[id].dtype != DType::kF32)
      fail(ErrorKind::kModelFormat, file_.source, ": graph output ", tensor(id), " has dtype ",
           dtype_name(tensors_[id].dtype), "; graph outputs must be f32");
}

void Graph::build_nodes() {
  // defined[t]: t can be read now (constant, graph input or produced earlier).
  std::vector<bool> defined(tensors_.size(), false);
  std::vector<int> producer(tensors_.size(), -1);
  for (std::size_t t = 0; t < tensors_.size(); ++t) defined[t] = tensors_[t].constant != nullptr;
  for (std::uint32_t id : file_.inputs) defined[id] = true;

  nodes_.reserve(file_.nodes.size());
  for (std::size_t i = 0; i < file_.nodes.size(); ++i) {
    const IrbNode& n = file_.nodes[i];
    const OpFactory factory = find_op_factory(n.op);
    if (factory == nullptr)
      fail(ErrorKind::kModelFormat, file_.source, ": unknown op '", n.op, "' in node '", n.name,
           "' (offset ", n.file_offset, "); known ops: ", known_op_names());
    if (n.outputs.empty()) node_error(i, "has no outputs");
    GraphNode g;
    g.name = n.name;
    g.op_name = n.op;
    g.inputs = n.inputs;
    g.outputs = n.outputs;
    for (std::size_t k = 0; k < n.inputs.size(); ++k) {
      const std::uint32_t id = n.inputs[k];
      if (id == kIrbAbsentTensor) continue;
      if (!defined[id])
        node_error(i, str_cat("input ", k, " '", tensors_[id].name,
                              "' is used before it is defined (not a constant, a graph input or "
                              "an output of an earlier node: out of order or a cycle)"));
      if (tensors_[id].constant != nullptr)
        g.param_bytes = static_cast<std::int64_t>(
            checked_add("parameter bytes", static_cast<std::size_t>(g.param_bytes), tensors_[id].bytes));
    }
    for (std::size_t k = 0; k < n.outputs.size(); ++k) {
      const std::uint32_t id = n.outputs[k];
      const GraphTensor& t = tensors_[id];
      if (t.constant != nullptr) node_error(i, str_cat("output ", k, " '", t.name, "' is a constant"));
      if (producer[id] >= 0)
        node_error(i, str_cat("output ", k, " '", t.name, "' is already produced by node '",
                              file_.nodes[static_cast<std::size_t>(producer[id])].name, "'"));
      if (defined[id]) node_error(i, str_cat("output ", k, " '", t.name, "' is a graph input"));
    }

    const IrbNodeView view(n, tensors_, kernels_);
    try {
      g.op = factory(view);
    } catch (const Error& e) {
      // Factories name the node through NodeView::fail; other errors (e.g. a
      // kernel's parameter check) get the node prefix here.
      const std::string what = e.what();
      const std::string prefix = node_prefix(n.name, n.op);
      fail(ErrorKind::kModelFormat, file_.source, ": ",
           what.rfind(prefix, 0) == 0 ? what : prefix + what);
    }
    const std::vector<TensorDesc> inferred = g.op->outputs();
    if (inferred.size() != n.outputs.size())
      node_error(i, str_cat("the op produces ", inferred.size(), " outputs, the file declares ",
                            n.outputs.size()));
    for (std::size_t k = 0; k < inferred.size(); ++k) {
      const GraphTensor& t = tensors_[n.outputs[k]];
      if (inferred[k].dtype != t.dtype || inferred[k].shape != t.shape)
        node_error(i, str_cat("output ", k, " '", t.name, "' is declared ", dtype_name(t.dtype), " ",
                              shape_str(t.shape), " but the inputs give ", dtype_name(inferred[k].dtype),
                              " ", shape_str(inferred[k].shape)));
      defined[n.outputs[k]] = true;
      producer[n.outputs[k]] = static_cast<int>(i);
    }
    g.scratch_bytes = g.op->scratch_bytes();
    max_scratch_bytes_ = std::max(max_scratch_bytes_, g.scratch_bytes);
    nodes_.push_back(std::move(g));
  }
  for (std::uint32_t id : file_.outputs)
    if (!defined[id] || tensors_[id].constant != nullptr)
      fail(ErrorKind::kModelFormat, file_.source, ": graph output '", tensors_[id].name,
           "' is not produced by any node nor a graph input");
}

void Graph::plan() {
  // Buffers: every activation that is a graph input or a node output, then
  // every node's scratch. Steps: -1 = graph inputs written, i = node i runs,
  // nodes.size() = graph outputs read.
  const int end_step = static_cast<int>(nodes_.size());
  std::vector<BufferLifetime> buffers;
  std::vector<std::uint32_t> buffer_tensor;  // buffer index -> tensor id
  std::vector<int> tensor_buffer(tensors_.size(), -1);
  auto add_tensor = [&](std::uint32_t id, int first) {
    tensor_buffer[id] = static_cast<int>(buffers.size());
    buffers.push_back({tensors_[id].bytes, first, first});
    buffer_tensor.push_back(id);
  };
  for (std::uint32_t id : file_.inputs) add_tensor(id, -1);
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (std::uint32_t id : nodes_[i].outputs) add_tensor(id, static_cast<int>(i));
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (std::uint32_t id : nodes_[i].inputs)
      if (id != kIrbAbsentTensor && tensor_buffer[id] >= 0) {
        BufferLifetime& b = buffers[static_cast<std::size_t>(tensor_buffer[id])];
        b.last_step = std::max(b.last_step, static_cast<int>(i));
      }
  for (std::uint32_t id : file_.outputs)
    buffers[static_cast<std::size_t>(tensor_buffer[id])].last_step = end_step;
  const std::size_t n_tensor_buffers = buffers.size();
  std::vector<std::size_t> scratch_buffer(nodes_.size(), 0);
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].scratch_bytes > 0) {
      scratch_buffer[i] = buffers.size();
      buffers.push_back({nodes_[i].scratch_bytes, static_cast<int>(i), static_cast<int>(i)});
    }

  const MemoryPlan plan = plan_memory(buffers, kBufferAlign);
  arena_bytes_ = plan.arena_bytes;
  for (std::size_t b = 0; b < n_tensor_buffers; ++b) tensors_[buffer_tensor[b]].arena_offset = plan.offsets[b];
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].scratch_bytes > 0) nodes_[i].scratch_offset = plan.offsets[scratch_buffer[i]];

  std::size_t in_total = 0, out_total = 0;
  for (const GraphNode& n : nodes_) {
    input_start_.push_back(in_total);
    output_start_.push_back(out_total);
    in_total = checked_add("node input count", in_total, n.inputs.size());
    out_total = checked_add("node output count", out_total, n.outputs.size());
  }
  input_start_.push_back(in_total);
  output_start_.push_back(out_total);
}

Arena::Arena(const Graph& graph) : buffer_(graph.arena_bytes(), "the model's activation memory") {
  // Commit the pages now (one fault per page, or per 2 MB huge page) rather
  // than inside the first run's ops.
  std::memset(buffer_.data(), 0, buffer_.size());
  const std::vector<GraphTensor>& tensors = graph.tensors();
  auto address = [&](std::uint32_t id) -> void* {
    const GraphTensor& t = tensors[id];
    if (t.constant != nullptr) return const_cast<void*>(t.constant);
    return buffer_.data() + t.arena_offset;
  };
  input_ptrs_.reserve(graph.input_start_.back());
  output_ptrs_.reserve(graph.output_start_.back());
  for (const GraphNode& n : graph.nodes()) {
    for (std::uint32_t id : n.inputs) input_ptrs_.push_back(id == kIrbAbsentTensor ? nullptr : address(id));
    for (std::uint32_t id : n.outputs) output_ptrs_.push_back(address(id));
    scratch_ptrs_.push_back(n.scratch_bytes > 0 ? buffer_.data() + n.scratch_offset : nullptr);
  }
}

void Graph::execute(Arena& arena, const ParallelFor& parallel_for, double* layer_seconds) const {
  using Clock = std::chrono::steady_clock;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    RunContext ctx{arena.input_ptrs_.data() + input_start_[i], arena.output_ptrs_.data() + output_start_[i],
                   arena.scratch_ptrs_[i], &parallel_for};
    if (layer_seconds == nullptr) {
      nodes_[i].op->run(ctx);
    } else {
      const Clock::time_point start = Clock::now();
      nodes_[i].op->run(ctx);
      layer_seconds[i] = std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
}

}  // namespace irnet
