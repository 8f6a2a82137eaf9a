// ThreadPool: every index of every loop runs exactly once, for any thread
// count and loop size, whether the workers are spinning (loops back to back)
// or asleep (loops far apart), with concurrent callers, and on destruction.
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "check.h"
#include "graph/thread_pool.h"
#include "irnet/error.h"

namespace {

// Runs parallel_for(n) and checks each index was visited exactly once.
bool covers_each_index_once(irnet::ThreadPool& pool, std::size_t n) {
  std::vector<std::atomic<int>> hits(n);
  pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
  });
  for (std::size_t i = 0; i < n; ++i)
    if (hits[i].load() != 1) return false;
  return true;
}

}  // namespace

TEST(every_index_once_for_each_thread_count_and_size) {
  for (int threads : {1, 2, 3, 5}) {
    irnet::ThreadPool pool(threads);
    for (std::size_t n : {0, 1, 2, 3, 4, 5, 7, 64, 1001}) {
      CHECK(covers_each_index_once(pool, n));
    }
  }
}

TEST(back_to_back_loops_while_workers_spin) {
  irnet::ThreadPool pool(3);
  std::atomic<long> total{0};
  for (int loop = 0; loop < 20000; ++loop)
    pool.parallel_for(3 + loop % 5, [&](std::size_t b, std::size_t e) { total += long(e - b); });
  long expected = 0;
  for (int loop = 0; loop < 20000; ++loop) expected += 3 + loop % 5;
  CHECK_EQ(total.load(), expected);
}

TEST(loops_far_apart_wake_sleeping_workers) {
  irnet::ThreadPool pool(2);
  for (int loop = 0; loop < 5; ++loop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // longer than the spin
    CHECK(covers_each_index_once(pool, 100));
  }
}

TEST(concurrent_callers_each_get_their_whole_loop) {
  irnet::ThreadPool pool(2);
  std::atomic<bool> ok{true};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&] {
      for (int loop = 0; loop < 2000; ++loop)
        if (!covers_each_index_once(pool, 17)) ok = false;
    });
  for (std::thread& t : callers) t.join();
  CHECK(ok.load());
}

TEST(destroyed_right_after_a_loop_and_when_idle) {
  for (int i = 0; i < 200; ++i) {
    irnet::ThreadPool pool(4);
    if (i % 2) CHECK(covers_each_index_once(pool, 9));
  }
}

int main() { return irnet_test::run_all(); }

TEST(thread_count_is_bounded) {
  // Thread counts are bounded: 1024 would start 1023 workers.
  CHECK_THROWS(irnet::ThreadPool(irnet::kMaxThreads + 1), "threads must be in [1, 256], got 257");
  CHECK_THROWS(irnet::ThreadPool(0), "threads must be in [1, 256], got 0");
  irnet::ThreadPool pool(irnet::kMaxThreads);  // started and joined; no loop (slow under qemu)
  CHECK_EQ(pool.threads(), irnet::kMaxThreads);
}

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(a_thread_the_system_refuses_is_an_error_not_a_hang) {
  // Under a 1 GiB address-space limit the system refuses worker stacks after
  // ~120 threads; the pool must join the workers it started before it
  // destroys its condition variables (else pthread_cond_destroy hangs).
  // In a child process (the limit must not reach the other tests), whose
  // alarm turns a hang into a failure. The address-space limit is not
  // emulated under qemu-user: there the threads start and that passes too.
  // (Sanitizer builds reserve terabytes of shadow memory: not run there.)
  const pid_t child = fork();
  if (child == 0) {
    alarm(60);
    const rlimit limit{rlim_t{1} << 30, rlim_t{1} << 30};
    setrlimit(RLIMIT_AS, &limit);
    int status = 0;
    try {
      irnet::ThreadPool pool(200);
      status = pool.threads() == 200 ? 0 : 3;
    } catch (const irnet::Error& e) {
      status = std::string(e.what()).find("cannot start intra-op thread") != std::string::npos ? 0 : 4;
    } catch (...) {
      status = 5;
    }
    _exit(status);
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  if (WIFSIGNALED(status)) irnet_test::report(__FILE__, __LINE__, std::string("child killed by ") + strsignal(WTERMSIG(status)));
  CHECK_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}
#endif
