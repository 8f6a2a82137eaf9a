// libFuzzer target for the .irb loader: parse_irb() on arbitrary bytes, then
// Graph construction (op catalog, attribute and shape checks, memory plan)
// -- the plan-only load of irnet::plan_model, which allocates no activation
// memory -- then an independent check of that plan on every graph whatever
// its size (each buffer inside the arena, no two buffers alive at one step
// overlapping), then one execution of every graph small enough to run quickly.
//
// Each input is tried twice: as is, and "sealed" -- header file_size, crc32 and
// end magic rewritten to match the bytes. Without the second pass almost every
// mutation dies at the checksum and the fuzzer never reaches the tables, the
// op attributes or the kernels behind them.
//
// Contract under test (docs/errors.md): whatever the bytes, the engine either
// accepts the model or throws irnet::Error. Anything else -- another exception
// type, a crash, an ASan/UBSan report, a timeout -- is a bug. Inputs are filled
// with a fixed pattern that includes 0, -0, NaN and +-Inf, so the run also
// covers the binarization edge cases.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "format/crc32.h"
#include "format/irb_file.h"
#include "graph/graph.h"
#include "irnet/error.h"

namespace {

// Graphs needing more than this much arena or work are parsed and built but not run:
// the fuzzer looks for memory errors, not for slow-but-valid models.
constexpr std::size_t kMaxRunArenaBytes = std::size_t{8} << 20;
constexpr std::int64_t kMaxRunMacs = std::int64_t{20} << 20;

void fill_input(float* data, std::size_t count) {
  const float pattern[] = {0.5f, -0.0f, 0.0f, -1.25f, std::numeric_limits<float>::quiet_NaN(),
                           3.0f, std::numeric_limits<float>::infinity(), -2.0f,
                           -std::numeric_limits<float>::infinity(), 1e-30f};
  for (std::size_t i = 0; i < count; ++i) data[i] = pattern[i % (sizeof pattern / sizeof *pattern)];
}

[[noreturn]] void plan_bug(const std::string& what) {
  std::fprintf(stderr, "memory plan check failed: %s\n", what.c_str());
  std::abort();
}

// The plan, checked without the planner's code: each activation buffer
// (graph inputs, node outputs) lives from its producer's step (-1 for graph
// inputs) to its last reader's (nodes.size() for graph outputs), each scratch
// at its node's step; all lie inside the arena, and the buffers alive at any
// one step are pairwise disjoint.
void check_plan(const irnet::Graph& graph) {
  struct Buffer {
    std::size_t offset, bytes;
    int first, last;
  };
  const auto& nodes = graph.nodes();
  const auto& tensors = graph.tensors();
  const int end_step = static_cast<int>(nodes.size());
  std::vector<int> buffer_of(tensors.size(), -1);
  std::vector<Buffer> buffers;
  const auto add = [&](std::size_t offset, std::size_t bytes, int step) {
    if (offset > graph.arena_bytes() || bytes > graph.arena_bytes() - offset)
      plan_bug("buffer [" + std::to_string(offset) + ", +" + std::to_string(bytes) + ") outside the arena of " +
               std::to_string(graph.arena_bytes()) + " bytes");
    buffers.push_back({offset, bytes, step, step});
  };
  for (std::uint32_t id : graph.input_ids()) {
    buffer_of[id] = static_cast<int>(buffers.size());
    add(tensors[id].arena_offset, tensors[id].bytes, -1);
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    for (std::uint32_t id : nodes[i].inputs)
      if (id != irnet::kIrbAbsentTensor && buffer_of[id] >= 0) buffers[buffer_of[id]].last = static_cast<int>(i);
    for (std::uint32_t id : nodes[i].outputs) {
      buffer_of[id] = static_cast<int>(buffers.size());
      add(tensors[id].arena_offset, tensors[id].bytes, static_cast<int>(i));
    }
    if (nodes[i].scratch_bytes > 0) add(nodes[i].scratch_offset, nodes[i].scratch_bytes, static_cast<int>(i));
  }
  for (std::uint32_t id : graph.output_ids()) buffers[buffer_of[id]].last = end_step;
  std::vector<const Buffer*> alive;
  for (int step = -1; step <= end_step; ++step) {
    alive.clear();
    for (const Buffer& b : buffers)
      if (b.first <= step && step <= b.last && b.bytes > 0) alive.push_back(&b);
    std::sort(alive.begin(), alive.end(), [](const Buffer* a, const Buffer* b) { return a->offset < b->offset; });
    for (std::size_t k = 1; k < alive.size(); ++k)
      if (alive[k - 1]->offset + alive[k - 1]->bytes > alive[k]->offset)
        plan_bug("buffers at " + std::to_string(alive[k - 1]->offset) + " (+" + std::to_string(alive[k - 1]->bytes) +
                 ") and " + std::to_string(alive[k]->offset) + " overlap at step " + std::to_string(step));
  }
}

void run_once(const irnet::Graph& graph) {
  if (graph.arena_bytes() > kMaxRunArenaBytes) return;
  std::int64_t macs = 0;
  for (const irnet::GraphNode& n : graph.nodes()) {
    const irnet::OpStats s = n.op->stats();
    macs += s.binary_macs / 64 + s.float_macs;
  }
  if (macs > kMaxRunMacs) return;
  irnet::Arena arena(graph);
  for (std::uint32_t id : graph.input_ids()) {
    const irnet::GraphTensor& t = graph.tensors()[id];
    if (t.dtype == irnet::DType::kF32)
      fill_input(reinterpret_cast<float*>(arena.base() + t.arena_offset), t.bytes / sizeof(float));
    else
      std::memset(arena.base() + t.arena_offset, 0xA5, t.bytes);
  }
  const irnet::ParallelFor serial = [](std::size_t n, irnet::ChunkFn fn) { fn(0, n); };
  graph.execute(arena, serial, nullptr);
}

void load_and_run(const std::uint8_t* data, std::size_t size, bool seal) {
  irnet::AlignedBuffer bytes(size, "the fuzz input");
  if (size > 0) std::memcpy(bytes.data(), data, size);
  constexpr std::size_t kTrailer = 8;  // u32 crc32, "IEND"
  if (seal && size >= irnet::kIrbHeaderSize + kTrailer) {
    const std::uint64_t file_size = size;
    std::memcpy(bytes.data() + 16, &file_size, sizeof file_size);  // header.file_size (little-endian host)
    const std::uint32_t crc = irnet::crc32_slicing(bytes.data(), size - kTrailer);
    std::memcpy(bytes.data() + size - kTrailer, &crc, sizeof crc);
    std::memcpy(bytes.data() + size - 4, "IEND", 4);
  }
  try {
    irnet::Graph graph(irnet::parse_irb(std::move(bytes), "fuzz.irb", irnet::crc32_slicing), irnet::selected_kernels());
    check_plan(graph);
    run_once(graph);
  } catch (const irnet::Error&) {
    // The documented way to refuse a bad file.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  load_and_run(data, size, /*seal=*/false);
  load_and_run(data, size, /*seal=*/true);
  return 0;
}
