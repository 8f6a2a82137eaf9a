"""The qemu instruction-counting plugin (tools/qemu) through benchmarks/qemu_count.py:
exact, repeatable, per-symbol and per-thread counts of a tiny cross-compiled program."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from qemu_count import QemuCountError, count_instructions  # noqa: E402

# count_loop(n) runs its loop body exactly n times. `loop N [T]`: the main thread
# runs count_loop(N) and starts T - 1 threads (default none), thread k running
# count_loop((k + 1) * N), and joins them. All start their loops after a barrier,
# so all T are alive at once (qemu-user reuses the vCPU index of an exited thread).
PROGRAM = r"""
#include <pthread.h>
#include <stdlib.h>
__attribute__((noinline)) long count_loop(long n) {
  long acc = 0;
  for (long i = 0; i < n; ++i) __asm__ volatile("" : "+r"(acc) : "r"(i));
  return acc;
}
static long base;
static pthread_barrier_t started;
static void* worker(void* k) {
  pthread_barrier_wait(&started);
  return (void*)count_loop(base * ((long)(size_t)k + 1));
}
int main(int argc, char** argv) {
  base = atol(argv[1]);
  long threads = argc > 2 ? atol(argv[2]) : 1;
  pthread_t t[16];
  if (threads < 1 || threads > 16) return 2;
  pthread_barrier_init(&started, 0, (unsigned)threads);
  for (long k = 1; k < threads; ++k)
    if (pthread_create(&t[k], 0, worker, (void*)(size_t)k) != 0) return 3;
  pthread_barrier_wait(&started);
  long acc = count_loop(base);
  for (long k = 1; k < threads; ++k) {
    void* r;
    pthread_join(t[k], &r);
    acc += (long)r;
  }
  return (int)acc & 1;
}
"""


def cross_compile(tmp_path_factory, cc: str, package: str, name: str, source: str, flags: list[str]) -> Path:
    """`source` built with the cross compiler `cc` (Debian `package`) into a fresh directory."""
    assert shutil.which(cc), f"{cc} is required (Debian {package})"
    src = tmp_path_factory.mktemp("qemu") / f"{name}.c"
    src.write_text(source)
    binary = src.with_suffix("")
    subprocess.run([cc, "-O1", *flags, "-o", str(binary), str(src)], check=True)
    return binary


@pytest.fixture(scope="module")
def arm64_program(tmp_path_factory):
    return cross_compile(tmp_path_factory, "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "loop", PROGRAM,
                         ["-static", "-pthread"])


def test_counts_are_exact_and_repeatable(arm64_program):
    a = count_instructions(arm64_program, ["1000"], "arm64", symbols=True)
    b = count_instructions(arm64_program, ["1000"], "arm64", symbols=True)
    assert a.total == b.total and a.per_symbol == b.per_symbol
    assert a.total > 1000


def test_per_symbol_count_grows_linearly_with_the_loop(arm64_program):
    counts = [count_instructions(arm64_program, [str(n)], "arm64", symbols=True)
              for n in (1000, 2000, 3000)]
    loop = [c.per_symbol["count_loop"] for c in counts]
    per_iteration = loop[1] - loop[0]
    assert per_iteration == loop[2] - loop[1]          # exactly linear
    assert per_iteration % 1000 == 0 and 2 <= per_iteration // 1000 <= 8
    # Every executed instruction is attributed to exactly one symbol (or [other]).
    assert sum(counts[0].per_symbol.values()) == counts[0].total


def test_per_thread_counts_are_exact(arm64_program):
    """Four guest threads with 1x, 2x, 3x, 4x the loop work: each thread's count of
    count_loop is exactly that thread's work, the same in every run, and the
    per-thread and per-symbol counts add up to the total."""
    base = 20000
    runs = [count_instructions(arm64_program, [base, 4], "arm64", symbols=True, threads=True)
            for _ in range(2)]
    single = count_instructions(arm64_program, [base], "arm64", symbols=True)
    one_loop = single.per_symbol["count_loop"]               # count_loop(base), main thread alone
    for r in runs:
        assert sorted(r.per_thread) == [0, 1, 2, 3]          # vCPU k = the k-th thread started
        assert sum(r.per_thread.values()) == r.total
        assert sum(r.per_symbol.values()) == r.total
        for thread, symbols in r.per_thread_symbol.items():
            assert sum(symbols.values()) == r.per_thread[thread]
        loops = [r.per_thread_symbol[k]["count_loop"] for k in range(4)]
        assert loops[0] == one_loop
        per_base = loops[1] - loops[0]                       # the instructions of `base` iterations
        assert per_base > 2 * base
        assert loops == [one_loop + k * per_base for k in range(4)]
        assert r.per_symbol["count_loop"] == sum(loops)
    # The same in both runs (the barrier's and exit's counts may differ: they can contend).
    assert runs[0].per_symbol["count_loop"] == runs[1].per_symbol["count_loop"]


def test_multithreaded_guest_needs_per_thread_counting(arm64_program):
    # The inline counters are not atomic: a second guest thread makes them unreliable.
    with pytest.raises(QemuCountError, match="ran 2 threads: count it with threads=on"):
        count_instructions(arm64_program, [1000, 2], "arm64")
    single = count_instructions(arm64_program, [1000], "arm64", threads=True)
    assert list(single.per_thread) == [0] and single.per_thread[0] == single.total


def test_clean_errors():
    with pytest.raises(QemuCountError, match="unknown arch"):
        count_instructions("/bin/true", [], "mips")
    with pytest.raises(QemuCountError, match="does not exist"):
        count_instructions(ROOT / "build" / "no-such-program", [], "arm64")


# `calls N`: calls libc's labs N times through the PLT (dynamically linked, so
# labs runs in the sysroot's libc.so.6, outside the binary's symbols).
LIBRARY_PROGRAM = r"""
#include <stdlib.h>
int main(int argc, char** argv) {
  long n = atol(argv[1]), acc = 0;
  long (*volatile fn)(long) = labs;
  for (long i = 0; i < n; ++i) acc += fn(-i);
  return (int)(acc & 1);
}
"""


@pytest.fixture(scope="module")
def arm32_library_program(tmp_path_factory):
    return cross_compile(tmp_path_factory, "arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf", "calls",
                         LIBRARY_PROGRAM, [])


def test_library_instructions_are_named(arm32_library_program):
    """libraries=True names the "[other]" instructions by library function, adding
    up to "[other]": labs's count is exactly linear in the calls."""
    runs = [count_instructions(arm32_library_program, [n], "arm32", symbols=True, libraries=True)
            for n in (1000, 2000, 3000)]
    for r in runs:
        assert sum(r.per_library_symbol.values()) == r.per_symbol["[other]"]
        assert any("ld-linux-armhf.so.3" in name for name in r.per_library_symbol)  # the loader
    labs = [r.per_library_symbol["labs [libc.so.6]"] for r in runs]
    per_call, remainder = divmod(labs[1] - labs[0], 1000)
    assert remainder == 0 and labs[2] - labs[1] == labs[1] - labs[0] and 1 <= per_call <= 8
    with pytest.raises(QemuCountError, match="libraries=True needs symbols=True and threads=False"):
        count_instructions(arm32_library_program, [1], "arm32", symbols=True, threads=True, libraries=True)
