// The parallel loop an op's run() is given (RunContext::parallel_for,
// graph/op.h) and the thread pool implements (graph/thread_pool.h).
//
// parallel_for(n, fn) splits [0, n) into chunks and runs fn(begin, end) on each;
// it returns when all chunks are done. Chunking never changes results: ops
// must write disjoint outputs per index and never reduce across chunks.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>

namespace irnet {

// The chunk body: a non-owning reference to any callable void(size_t begin,
// size_t end). Unlike std::function it never allocates, so a lambda with many
// captures costs nothing per call (run() must not allocate).
class ChunkFn {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, ChunkFn>>>
  ChunkFn(F&& fn)  // NOLINT: implicit on purpose, callers pass lambdas
      : callable_(const_cast<void*>(static_cast<const void*>(std::addressof(fn)))),
        invoke_([](void* callable, std::size_t begin, std::size_t end) {
          (*static_cast<std::remove_reference_t<F>*>(callable))(begin, end);
        }) {}
  void operator()(std::size_t begin, std::size_t end) const { invoke_(callable_, begin, end); }

 private:
  void* callable_;
  void (*invoke_)(void*, std::size_t, std::size_t);
};

using ParallelFor = std::function<void(std::size_t n, ChunkFn fn)>;

}  // namespace irnet
