// A fixed-size thread pool that runs one parallel loop at a time.
//
// parallel_for(n, fn) splits [0, n) into min(n, threads) contiguous chunks of
// near-equal size, runs chunk 0 on the calling thread and the others on the
// workers, and returns when all are done. Results never depend on the thread
// count because ops write disjoint outputs per index (core/parallel.h).
//
// Several callers (e.g. Python threads running one Model) may call
// parallel_for concurrently: the pool serves one loop at a time, and a caller
// that finds it busy runs its whole loop on its own thread instead of waiting.
// No heap allocation happens per call. fn must not throw (op run() never
// does: ops validate everything when they are built).
//
// Waiting spins before it sleeps. A forward pass is a chain of parallel
// loops a few hundred microseconds long with next to nothing in between, and
// waking a worker blocked on a condition variable costs a futex call and,
// on a VM whose other vCPU is idle (halted), a wake-up of that vCPU by the
// hypervisor, which on a 2-vCPU VM cancels all of a second thread's gain
// (ResNet-18, 2 threads: 1.02x). So a worker that finished a chunk polls the
// loop counter for up to kSpinTime before it blocks, and so does the caller
// waiting for the workers; a pool left idle longer blocks on the condition
// variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "irnet/model.h"

namespace irnet {

class ThreadPool {
 public:
  using Body = ChunkFn;

  // threads in [1, kMaxThreads]; threads - 1 workers are started. Throws
  // irnet::Error (kInvalidArgument) when the system cannot start them all.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }
  void parallel_for(std::size_t n, Body fn);

 private:
  void worker_loop(int worker_index);
  void stop_workers();  // wakes every worker and joins it
  static void run_chunk(const Body& fn, std::size_t n, std::size_t chunks, std::size_t chunk);

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the caller whose loop the pool is serving

  std::mutex m_;
  std::condition_variable wake_, done_;
  const Body* job_ = nullptr;  // guarded by m_
  std::size_t job_n_ = 0, job_chunks_ = 0;
  // Written under m_, also polled without it by spinning waiters.
  std::atomic<std::uint64_t> generation_{0};  // incremented per loop
  std::atomic<int> pending_{0};               // worker chunks not yet finished
  std::atomic<bool> stop_{false};
};

}  // namespace irnet
