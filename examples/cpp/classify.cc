// irnet_classify: load a model, run it on a constant input, print the summary
// and the best class of each sample. Shows the whole public API in ~40 lines.
//
//   irnet_classify model.irb [threads]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <irnet/irnet.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.irb [threads]\n", argv[0]);
    return 2;
  }
  try {
    const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    const irnet::Model model = irnet::Model::load(argv[1], threads);
    std::printf("%s", model.summary().to_string().c_str());

    std::vector<std::vector<float>> inputs;
    std::vector<irnet::InputTensor> views;
    for (const irnet::TensorInfo& in : model.inputs()) {
      inputs.emplace_back(in.element_count(), 0.5f);  // NCHW, all 0.5
      views.push_back({inputs.back().data(), in.shape});
    }
    const irnet::TensorInfo& out = model.outputs()[0];
    std::vector<std::vector<float>> outputs;
    std::vector<float*> out_ptrs;
    for (const irnet::TensorInfo& o : model.outputs()) {
      outputs.emplace_back(o.element_count());
      out_ptrs.push_back(outputs.back().data());
    }
    model.run(views, out_ptrs);

    const std::size_t batch = static_cast<std::size_t>(out.shape[0]);
    const std::size_t per_sample = out.element_count() / batch;
    for (std::size_t b = 0; b < batch; ++b) {
      const float* row = outputs[0].data() + b * per_sample;
      const std::size_t best = static_cast<std::size_t>(std::max_element(row, row + per_sample) - row);
      std::printf("sample %zu: class %zu (score %g)\n", b, best, row[best]);
    }
  } catch (const irnet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
