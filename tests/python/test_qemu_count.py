"""The qemu instruction-counting plugin (tools/qemu) through benchmarks/qemu_count.py:
exact, repeatable, per-symbol counts of a tiny cross-compiled program."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from qemu_count import QemuCountError, count_instructions  # noqa: E402

# count_loop(n) runs its loop body exactly n times; main takes n from argv.
PROGRAM = r"""
#include <stdlib.h>
__attribute__((noinline)) long count_loop(long n) {
  long acc = 0;
  for (long i = 0; i < n; ++i) __asm__ volatile("" : "+r"(acc) : "r"(i));
  return acc;
}
int main(int argc, char** argv) { return (int)count_loop(atol(argv[1])) & 1; }
"""


@pytest.fixture(scope="module")
def arm64_program(tmp_path_factory):
    cc = "aarch64-linux-gnu-gcc"
    assert shutil.which(cc), f"{cc} is required (Debian gcc-aarch64-linux-gnu)"
    src = tmp_path_factory.mktemp("qemu") / "loop.c"
    src.write_text(PROGRAM)
    binary = src.with_suffix("")
    subprocess.run([cc, "-O1", "-static", "-o", str(binary), str(src)], check=True)
    return binary


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


def test_clean_errors():
    with pytest.raises(QemuCountError, match="unknown arch"):
        count_instructions("/bin/true", [], "mips")
    with pytest.raises(QemuCountError, match="does not exist"):
        count_instructions(ROOT / "build" / "no-such-program", [], "arm64")
