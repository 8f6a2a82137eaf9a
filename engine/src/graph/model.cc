// irnet::Model: the public API over Graph (graph/graph.h).
#include "irnet/model.h"

#include <cstring>
#include <iomanip>
#include <mutex>
#include <sstream>

#include "core/check.h"
#include "core/checked.h"
#include "graph/boundary_layout.h"
#include "graph/graph.h"
#include "graph/thread_pool.h"

namespace irnet {

namespace {

TensorInfo user_info(const GraphTensor& t) {
  TensorInfo info;
  info.name = t.name;
  info.dtype = dtype_name(t.dtype);
  info.shape = t.shape;
  if (t.layout == TensorLayout::kNhwc) info.shape = {t.shape[0], t.shape[3], t.shape[1], t.shape[2]};
  return info;
}

}  // namespace

std::size_t TensorInfo::element_count() const {
  std::size_t n = 1;
  for (std::int64_t d : shape) n = checked_mul("element count", n, d);
  return n;
}

struct Model::Impl {
  explicit Impl(IrbFile file, int threads)
      : pool(threads), graph(std::move(file)),
        parallel_for([this](std::size_t n, ChunkFn fn) { pool.parallel_for(n, fn); }) {
    for (std::uint32_t id : graph.input_ids()) inputs.push_back(user_info(graph.tensors()[id]));
    for (std::uint32_t id : graph.output_ids()) outputs.push_back(user_info(graph.tensors()[id]));
    // The first run's arena is made (and its pages committed) at load, so a
    // first run costs what later runs cost.
    free_arenas.push_back(std::make_unique<Arena>(graph));
  }

  // Arenas are pooled: a run takes a free one (or makes one) and gives it back.
  std::unique_ptr<Arena> acquire() const {
    {
      std::lock_guard<std::mutex> lock(arenas_mutex);
      if (!free_arenas.empty()) {
        std::unique_ptr<Arena> a = std::move(free_arenas.back());
        free_arenas.pop_back();
        return a;
      }
    }
    return std::make_unique<Arena>(graph);
  }
  void release(std::unique_ptr<Arena> a) const {
    std::lock_guard<std::mutex> lock(arenas_mutex);
    free_arenas.push_back(std::move(a));
  }

  ThreadPool pool;
  Graph graph;
  ParallelFor parallel_for;
  std::vector<TensorInfo> inputs, outputs;
  mutable std::mutex arenas_mutex;
  mutable std::vector<std::unique_ptr<Arena>> free_arenas;
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& path, int threads) {
  IRNET_CHECK_ARG(threads >= 1 && threads <= kMaxThreads, "threads must be in [1, ", kMaxThreads, "], got ",
                  threads);
  return Model(std::make_unique<Impl>(read_irb_file(path), threads));
}

const std::vector<TensorInfo>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return impl_->outputs; }
const std::vector<std::pair<std::string, std::string>>& Model::metadata() const {
  return impl_->graph.file().metadata;
}
int Model::threads() const { return impl_->pool.threads(); }

void Model::run(const std::vector<InputTensor>& inputs, const std::vector<float*>& outputs,
                std::vector<double>* layer_seconds) const {
  const Impl& m = *impl_;
  const Graph& g = m.graph;
  IRNET_CHECK_ARG(inputs.size() == m.inputs.size(), "the model has ", m.inputs.size(),
                  " inputs, run() got ", inputs.size());
  IRNET_CHECK_ARG(outputs.size() == m.outputs.size(), "the model has ", m.outputs.size(),
                  " outputs, run() got ", outputs.size(), " output buffers");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    IRNET_CHECK_ARG(inputs[i].data != nullptr, "input ", i, " '", m.inputs[i].name, "' is null");
    IRNET_CHECK_ARG(inputs[i].shape == m.inputs[i].shape, "input ", i, " '", m.inputs[i].name,
                    "' must have shape ", shape_str(m.inputs[i].shape), ", got ",
                    shape_str(inputs[i].shape));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i)
    IRNET_CHECK_ARG(outputs[i] != nullptr, "output buffer ", i, " '", m.outputs[i].name, "' is null");
  if (layer_seconds != nullptr && layer_seconds->size() != g.nodes().size())
    layer_seconds->assign(g.nodes().size(), 0.0);

  std::unique_ptr<Arena> arena = m.acquire();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const GraphTensor& t = g.tensors()[g.input_ids()[i]];
    auto* dst = reinterpret_cast<float*>(arena->base() + t.arena_offset);
    if (t.layout == TensorLayout::kNhwc) nchw_to_nhwc(inputs[i].data, dst, t.shape);
    else std::memcpy(dst, inputs[i].data, t.bytes);
  }
  g.execute(*arena, m.parallel_for, layer_seconds ? layer_seconds->data() : nullptr);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const GraphTensor& t = g.tensors()[g.output_ids()[i]];
    const auto* src = reinterpret_cast<const float*>(arena->base() + t.arena_offset);
    if (t.layout == TensorLayout::kNhwc) nhwc_to_nchw(src, outputs[i], t.shape);
    else std::memcpy(outputs[i], src, t.bytes);
  }
  m.release(std::move(arena));
}

namespace {

ModelSummary summarize(const Graph& g, int threads) {
  ModelSummary s;
  for (const GraphNode& n : g.nodes()) {
    LayerInfo l;
    l.name = n.name;
    l.op = n.op_name;
    l.kernel = n.op->kernel_name();
    l.output_shape = g.tensors()[n.outputs[0]].shape;
    const OpStats st = n.op->stats();
    l.binary_macs = st.binary_macs;
    l.float_macs = st.float_macs;
    l.param_bytes = n.param_bytes;
    l.scratch_bytes = n.scratch_bytes;
    s.binary_macs += l.binary_macs;
    s.float_macs += l.float_macs;
    s.param_bytes += l.param_bytes;
    s.layers.push_back(std::move(l));
  }
  s.peak_activation_bytes = g.arena_bytes();
  s.scratch_bytes = g.max_scratch_bytes();
  s.threads = threads;
  return s;
}

}  // namespace

ModelSummary Model::summary() const { return summarize(impl_->graph, impl_->pool.threads()); }

ModelSummary plan_model(const std::string& path) { return summarize(Graph(read_irb_file(path)), 1); }

std::string ModelSummary::to_string() const {
  std::ostringstream os;
  os << std::left << std::setw(28) << "layer" << std::setw(19) << "op" << std::setw(22) << "output (stored)"
     << std::right << std::setw(14) << "binary MACs" << std::setw(13) << "float MACs" << std::setw(12)
     << "params B" << std::setw(11) << "scratch B" << "  kernel\n";
  for (const LayerInfo& l : layers) {
    std::string name = l.name.size() > 27 ? l.name.substr(0, 24) + "..." : l.name;
    os << std::left << std::setw(28) << name << std::setw(18) << l.op << " " << std::setw(22)
       << shape_str(l.output_shape) << std::right << std::setw(14) << l.binary_macs << std::setw(13)
       << l.float_macs << std::setw(12) << l.param_bytes << std::setw(11) << l.scratch_bytes << "  " << l.kernel
       << "\n";
  }
  os << "total: " << layers.size() << " layers, " << binary_macs << " binary MACs, " << float_macs
     << " float MACs, " << param_bytes << " parameter bytes\n"
     << "peak activation memory: " << peak_activation_bytes << " bytes (largest scratch "
     << scratch_bytes << "), threads: " << threads << "\n";
  return os.str();
}

}  // namespace irnet
