#include "graph/thread_pool.h"

#include <algorithm>

#include "common/check.h"

namespace irnet {

ThreadPool::ThreadPool(int threads) : threads_(threads) {
  IRNET_CHECK_ARG(threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got ", threads);
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_chunk(const Body& fn, std::size_t n, std::size_t chunks, std::size_t chunk) {
  // Chunk c covers [c*n/chunks, (c+1)*n/chunks): sizes differ by at most one.
  const std::size_t begin = n / chunks * chunk + std::min(chunk, n % chunks);
  const std::size_t end = begin + n / chunks + (chunk < n % chunks ? 1 : 0);
  if (begin < end) fn(begin, end);
}

void ThreadPool::parallel_for(std::size_t n, Body fn) {
  if (n == 0) return;
  const std::size_t chunks = std::min<std::size_t>(n, static_cast<std::size_t>(threads_));
  std::unique_lock<std::mutex> serving(busy_, std::try_to_lock);
  if (chunks == 1 || !serving.owns_lock()) {
    fn(0, n);  // single thread, or the pool is serving another caller
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    job_ = &fn;
    job_n_ = n;
    job_chunks_ = chunks;
    pending_ = static_cast<int>(chunks) - 1;
    ++generation_;
  }
  wake_.notify_all();
  run_chunk(fn, n, chunks, 0);
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int worker_index) {
  std::uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(m_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    const auto chunk = static_cast<std::size_t>(worker_index);
    if (chunk >= job_chunks_) continue;  // fewer chunks than threads this time
    const Body* fn = job_;
    const std::size_t n = job_n_, chunks = job_chunks_;
    lock.unlock();
    run_chunk(*fn, n, chunks, chunk);
    lock.lock();
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace irnet
