// bench_load: where the time of "load a model, run it once" goes.
//
//   bench_load model.irb [--repeat R]
//
// Times, in one process, the stages of Model::load (file read, crc32 over the
// file, container + graph-section parse, graph build = op construction and
// memory plan) by running each stage on its own, then a whole Model::load
// followed by the first, second and third run on a zero input. Run it in
// several fresh processes (the first-run figures include page faults that
// only a fresh process pays) and compare medians.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "format/crc32.h"
#include "format/irb_file.h"
#include "graph/graph.h"
#include "irnet/irnet.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

irnet::AlignedBuffer read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in.tellg();
  irnet::AlignedBuffer buf(static_cast<std::size_t>(size), "bench_load");
  in.seekg(0);
  in.read(reinterpret_cast<char*>(buf.data()), size);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_load model.irb\n");
    return 2;
  }
  const std::string path = argv[1];

  // The whole public path first, as a fresh process sees it.
  Clock::time_point t = Clock::now();
  const irnet::Model model = irnet::Model::load(path, 1);
  const double load_ms = ms_since(t);
  std::vector<std::vector<float>> in_data;
  std::vector<irnet::InputTensor> ins;
  for (const auto& info : model.inputs()) in_data.emplace_back(info.element_count(), 0.f);
  for (std::size_t i = 0; i < in_data.size(); ++i) ins.push_back({in_data[i].data(), model.inputs()[i].shape});
  std::vector<std::vector<float>> out_data;
  std::vector<float*> outs;
  for (const auto& info : model.outputs()) out_data.emplace_back(info.element_count());
  for (auto& v : out_data) outs.push_back(v.data());
  double run_ms[3];
  for (double& r : run_ms) {
    t = Clock::now();
    model.run(ins, outs);
    r = ms_since(t);
  }

  // The stages of load on their own (file now in the page cache, code warm).
  t = Clock::now();
  irnet::AlignedBuffer bytes = read_bytes(path);
  const double read_ms = ms_since(t);
  t = Clock::now();
  const irnet::KernelConfig kernels = irnet::selected_kernels();
  volatile std::uint32_t crc = kernels.crc32->crc(bytes.data(), bytes.size());
  (void)crc;
  const double crc_ms = ms_since(t);
  t = Clock::now();
  irnet::IrbFile file = irnet::parse_irb(std::move(bytes), path, kernels.crc32->crc);
  const double parse_ms = ms_since(t) - crc_ms;
  t = Clock::now();
  const irnet::Graph graph(std::move(file), kernels);
  const double graph_ms = ms_since(t);
  t = Clock::now();
  irnet::Arena arena(graph);
  const double arena_ms = ms_since(t);

  std::printf("load %.3f ms, run1 %.3f ms, run2 %.3f ms, run3 %.3f ms | read %.3f, crc32 %.3f, parse %.3f, "
              "graph %.3f, arena %.3f ms\n",
              load_ms, run_ms[0], run_ms[1], run_ms[2], read_ms, crc_ms, parse_ms, graph_ms, arena_ms);
  return 0;
}
