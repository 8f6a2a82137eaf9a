// Static activation memory plan: one arena per run, offsets fixed at load.
//
// Each activation buffer is live from the step that produces it to the last
// step that reads it (inclusive). Two buffers may share bytes only if their
// live ranges do not overlap. Placement is greedy by size: buffers are taken
// largest first and each is put at the lowest aligned offset that does not
// collide with an already placed buffer whose live range overlaps. The result
// is deterministic; peak = the arena size.
#pragma once

#include <cstddef>
#include <vector>

namespace irnet {

struct BufferLifetime {
  std::size_t bytes = 0;
  int first_step = 0;  // step that writes it (-1: before the first node, e.g. graph inputs)
  int last_step = 0;   // last step that reads it (>= first_step)
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  // one per buffer, multiples of `alignment`
  std::size_t arena_bytes = 0;       // peak activation memory
};

// Throws irnet::Error(kInvalidArgument) if the total size overflows.
MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment = 64);

}  // namespace irnet
