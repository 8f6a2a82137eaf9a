#include "graph/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/check.h"

namespace irnet {

namespace {

std::size_t align_up(std::size_t v, std::size_t alignment) {
  if (v > std::numeric_limits<std::size_t>::max() - (alignment - 1))
    fail(ErrorKind::kInvalidArgument, "activation memory plan overflows size_t");
  return (v + alignment - 1) / alignment * alignment;
}

bool lifetimes_overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment) {
  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });

  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  std::vector<std::size_t> placed;  // indices, in placement order
  struct Interval {
    std::size_t begin, end;
  };
  std::vector<Interval> busy;
  for (std::size_t idx : order) {
    const BufferLifetime& buf = buffers[idx];
    const std::size_t size = align_up(std::max<std::size_t>(buf.bytes, 1), alignment);
    // Byte ranges of placed buffers alive at the same time, sorted by start.
    busy.clear();
    for (std::size_t other : placed)
      if (lifetimes_overlap(buf, buffers[other]))
        busy.push_back({plan.offsets[other],
                        plan.offsets[other] + align_up(std::max<std::size_t>(buffers[other].bytes, 1), alignment)});
    std::sort(busy.begin(), busy.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    // Lowest gap that fits.
    std::size_t offset = 0;
    for (const Interval& iv : busy) {
      if (offset + size <= iv.begin) break;
      offset = std::max(offset, iv.end);
    }
    if (offset > std::numeric_limits<std::size_t>::max() - size)
      fail(ErrorKind::kInvalidArgument, "activation memory plan overflows size_t");
    plan.offsets[idx] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(idx);
  }
  return plan;
}

}  // namespace irnet
