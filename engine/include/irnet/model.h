// irnet/model.h — load an .irb model and run it.
//
//   irnet::Model model = irnet::Model::load("resnet20.irb", /*threads=*/2);
//   const irnet::TensorInfo& in = model.inputs()[0];     // name, NCHW shape, "f32"
//   std::vector<float> x(in.element_count()), y(model.outputs()[0].element_count());
//   model.run({{x.data(), in.shape}}, {y.data()});
//
// Shapes are NCHW as in the source ONNX model (the engine works in NHWC
// internally and transposes at the graph boundary). The batch size is the one
// stored in the file; a different batch needs a re-converted model.
//
// Thread safety: a loaded Model is immutable; any number of threads may call
// run() concurrently. Each call takes an activation arena from a pool (a new
// one is allocated only when all are in use), so after the first call a
// single caller never allocates. The intra-op thread pool serves one call at
// a time; a concurrent call that finds it busy computes on its own thread.
// All errors are irnet::Error (irnet/error.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace irnet {

// The most intra-op threads a Model may use. Threads beyond the CPU's cores
// only add overhead; the bound keeps a mistaken argument (threads=100000)
// from trying to start that many threads.
constexpr int kMaxThreads = 256;

struct TensorInfo {
  std::string name;
  std::vector<std::int64_t> shape;  // NCHW for image tensors
  std::string dtype;                // "f32"
  std::size_t element_count() const;
};

struct LayerInfo {
  std::string name;    // node name (from the ONNX model)
  std::string op;      // .irb op, e.g. "BinaryConv2d"
  std::string kernel;  // the kernel variants the layer runs, e.g. "bgemm_4x8_avx2+bconv_epilogue_avx2"
  std::vector<std::int64_t> output_shape;  // first output, in the API's layout (NCHW for images)
  std::int64_t binary_macs = 0;
  std::int64_t float_macs = 0;
  std::int64_t param_bytes = 0;  // bytes of the node's constant inputs in the file
  std::size_t scratch_bytes = 0;  // the layer's working memory inside the arena
};

struct ModelSummary {
  std::vector<LayerInfo> layers;
  std::int64_t binary_macs = 0, float_macs = 0, param_bytes = 0;
  std::size_t peak_activation_bytes = 0;  // the arena one run() uses
  std::size_t scratch_bytes = 0;          // largest per-node scratch (part of the arena)
  int threads = 1;
  // (family, variant) of every kernel family: the variants chosen when the
  // model was loaded (irnet/kernels.h), e.g. ("bgemm", "bgemm_4x8_avx2").
  std::vector<std::pair<std::string, std::string>> kernels;
  std::string to_string() const;  // a table, one line per layer (full names, NCHW shapes), the totals and the kernels
};

struct InputTensor {
  const float* data;
  std::vector<std::int64_t> shape;  // must equal inputs()[i].shape
};

// Reads, validates and plans a model as Model::load does (every check, every
// layer built, the activation memory planned) but allocates no activation
// memory and starts no threads: the summary of what a load would allocate.
// For inspecting big or untrusted models, and for fuzzing the planner on
// geometries too big to run (docs/hardening.md).
ModelSummary plan_model(const std::string& path);

class Model {
 public:
  // Reads and validates the file (irnet::Error kIo / kModelFormat) and builds
  // every layer. threads in [1, kMaxThreads] (kInvalidArgument otherwise; also
  // when the system cannot start that many threads).
  static Model load(const std::string& path, int threads = 1);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  const std::vector<std::pair<std::string, std::string>>& metadata() const;
  int threads() const;

  // Runs the network. One InputTensor per input (shape checked, data
  // non-null), one output buffer per output with room for its element_count()
  // floats. If layer_seconds is non-null it receives one wall time per layer
  // (same order as summary().layers).
  void run(const std::vector<InputTensor>& inputs, const std::vector<float*>& outputs,
           std::vector<double>* layer_seconds = nullptr) const;

  ModelSummary summary() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace irnet
