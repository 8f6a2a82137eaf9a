#include "graph/thread_pool.h"

#include <algorithm>
#include <chrono>

#include "core/check.h"

namespace irnet {
namespace {

constexpr auto kSpinTime = std::chrono::microseconds(200);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

// Polls done() for up to kSpinTime; true if it became true meanwhile.
template <typename Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::yield();  // more threads than cores: let the busy ones run
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(threads) {
  IRNET_CHECK_ARG(threads >= 1 && threads <= kMaxThreads, "threads must be in [1, ", kMaxThreads, "], got ",
                  threads);
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  try {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
  } catch (const std::exception& e) {
    // The system refused a thread (limits on threads or address space): the
    // workers already started are stopped and joined before the error leaves,
    // since the members they wait on are destroyed with the pool.
    const std::size_t started = workers_.size();
    stop_workers();
    fail(ErrorKind::kInvalidArgument, "cannot start intra-op thread ", started + 2, " of ", threads, ": ",
         e.what());
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_.store(true, std::memory_order_release);
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
    pending_.store(static_cast<int>(chunks) - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunk(fn, n, chunks, 0);
  const auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished)) {
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, finished);
  }
}

void ThreadPool::worker_loop(int worker_index) {
  std::uint64_t seen = 0;
  const auto has_work = [&] {
    return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
  };
  for (;;) {
    spin_until(has_work);
    // The job fields are read under m_: the caller writes them under m_.
    std::unique_lock<std::mutex> lock(m_);
    wake_.wait(lock, has_work);
    if (stop_) return;
    seen = generation_.load(std::memory_order_relaxed);
    const auto chunk = static_cast<std::size_t>(worker_index);
    if (chunk >= job_chunks_) continue;  // fewer chunks than threads this time
    const Body* fn = job_;
    const std::size_t n = job_n_, chunks = job_chunks_;
    lock.unlock();
    run_chunk(*fn, n, chunks, chunk);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Under m_, so a caller that has just found pending_ != 0 is already waiting.
      std::lock_guard<std::mutex> done_lock(m_);
      done_.notify_one();
    }
  }
}

}  // namespace irnet
