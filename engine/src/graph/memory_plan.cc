#include "graph/memory_plan.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/checked.h"

namespace irnet {

namespace {

// Size of a buffer in the arena: at least one aligned block.
std::size_t padded_size(const BufferLifetime& b, std::size_t alignment) {
  return checked_round_up("activation memory plan", std::max<std::size_t>(b.bytes, 1), alignment);
}

// The placed buffers, queried by lifetime: which of them are alive at some
// step of [first, last]. Those alive at `first` are found by a stabbing query
// on a segment tree over the steps (each lifetime stored in O(log steps)
// nodes); those born later inside the range, from the placed buffers listed
// by first step. A query costs O(log steps + answers), so planning a chain of
// n nodes takes O(n log n), not O(n^2).
class LiveBuffers {
 public:
  LiveBuffers(int min_step, int max_step)
      : min_step_(min_step), leaves_(static_cast<std::size_t>(max_step - min_step) + 1), tree_(2 * leaves_) {}

  void add(std::size_t id, const BufferLifetime& b) {
    for (std::size_t l = leaf(b.first_step), r = leaf(b.last_step) + 1; l < r; l /= 2, r /= 2) {
      if (l & 1) tree_[l++].push_back(id);
      if (r & 1) tree_[--r].push_back(id);
    }
    born_at_[b.first_step].push_back(id);
  }

  template <typename Fn>
  void for_each_alive(int first, int last, Fn fn) const {
    for (std::size_t node = leaf(first); node >= 1; node /= 2)
      for (std::size_t id : tree_[node]) fn(id);
    for (auto it = born_at_.upper_bound(first); it != born_at_.end() && it->first <= last; ++it)
      for (std::size_t id : it->second) fn(id);
  }

 private:
  std::size_t leaf(int step) const { return leaves_ + static_cast<std::size_t>(step - min_step_); }
  int min_step_;
  std::size_t leaves_;
  std::vector<std::vector<std::size_t>> tree_;
  std::map<int, std::vector<std::size_t>> born_at_;
};

}  // namespace

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, std::size_t alignment) {
  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });

  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  if (buffers.empty()) return plan;
  int min_step = buffers[0].first_step, max_step = buffers[0].last_step;
  for (const BufferLifetime& b : buffers) {
    min_step = std::min(min_step, b.first_step);
    max_step = std::max(max_step, b.last_step);
  }
  LiveBuffers placed(min_step, max_step);
  struct Interval {
    std::size_t begin, end;
  };
  std::vector<Interval> busy;
  for (std::size_t idx : order) {
    const BufferLifetime& buf = buffers[idx];
    const std::size_t size = padded_size(buf, alignment);
    // Byte ranges of placed buffers alive at the same time, sorted by start.
    busy.clear();
    placed.for_each_alive(buf.first_step, buf.last_step, [&](std::size_t other) {
      busy.push_back({plan.offsets[other], plan.offsets[other] + padded_size(buffers[other], alignment)});
    });
    std::sort(busy.begin(), busy.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    // Lowest gap that fits.
    std::size_t offset = 0;
    for (const Interval& iv : busy) {
      if (offset <= iv.begin && size <= iv.begin - offset) break;
      offset = std::max(offset, iv.end);
    }
    plan.offsets[idx] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, checked_add("activation memory plan", offset, size));
    placed.add(idx, buf);
  }
  return plan;
}

}  // namespace irnet
