"""Cortex-A53 cycle *estimate* of a bgemm kernel's inner loop with llvm-mca.

    .venv/bin/python tools/mca/a53_loop.py                     # bgemm_4x4_neon_a64
    .venv/bin/python tools/mca/a53_loop.py --source engine/src/bgemm/arm64/bgemm4x4_column_neon_a64.S \
        --function irnet_bgemm4x4_column_neon_a64 --show

1. compiles (or assembles) the kernel source with the aarch64 cross compiler
   and the flags of the arm64 build (-O3 -mcpu=cortex-a53), disassembles the function,
2. takes its innermost hot loop: of the backward branches with no other branch
   in their body, the one whose body holds the most `cnt` instructions (the
   xor-popcount steady state); in a fully unrolled kernel, the branch-free block
   that repeats most often (the aarch64 bgemm's double step),
3. runs llvm-mca -mcpu=cortex-a53 (LLVM's in-order A53 model) on that body and
   reports cycles per iteration and binary MACs per cycle, where one
   `cnt vX.16b` is 128 binary MACs (one 128-bit xor-popcount) and `cnt vX.8b` 64.

This is a model, not a measurement: no cache misses, no branch mispredictions,
loop overhead included. LLVM has no Cortex-A53 model for AArch32, so the armv7
kernel gets instruction counts (benchmarks/arm_counts.py) but no estimate here.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CXX = "aarch64-linux-gnu-g++"
OBJDUMP = "aarch64-linux-gnu-objdump"
CXXFLAGS = ["-std=c++17", "-O3", "-DNDEBUG", "-mcpu=cortex-a53", "-DIRNET_ARCH_arm64=1",
            f"-I{ROOT / 'engine/src'}", f"-I{ROOT / 'engine/include'}"]

INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S.*)$")
BRANCH = re.compile(r"^(b\.\w+|b|cbn?z|tbn?z)\s+(.*?)([0-9a-f]+) <[^>]*>$")


def disassemble(source: Path, function: str, tmp: Path) -> list[tuple[int, str]]:
    obj = tmp / "kernel.o"
    subprocess.run([CXX, *CXXFLAGS, "-c", str(source), "-o", str(obj)], check=True)
    out = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", f"--disassemble={function}", str(obj)],
                         check=True, capture_output=True, text=True).stdout
    insns = []
    for line in out.splitlines():
        m = INSN.match(line)
        if m:
            insns.append((int(m.group(1), 16), m.group(2).split("//")[0].strip()))
    if not insns:
        sys.exit(f"a53_loop: function {function!r} not found in {source}")
    return insns


def hottest_loop(insns: list[tuple[int, str]], marker: str = "cnt") -> list[str]:
    """Among the innermost loops (a backward branch with no other branch in its
    body), the one with the most `marker` instructions (cnt for xor-popcount,
    fmla for an sgemm); its branch is rewritten to a label so llvm-mca can parse it.
    A fully unrolled kernel has no such loop: its steady state is then the
    branch-free block (up to and including the next branch) that repeats most
    often with the same instructions up to immediates, run as if it looped."""
    index = {addr: i for i, (addr, _) in enumerate(insns)}
    best = None
    for j, (addr, text) in enumerate(insns):
        m = BRANCH.match(text)
        if not m or int(m.group(3), 16) >= addr or int(m.group(3), 16) not in index:
            continue
        i = index[int(m.group(3), 16)]
        if any(BRANCH.match(t) for _, t in insns[i:j]):
            continue
        body = [t for _, t in insns[i:j]] + [f"{m.group(1)} {m.group(2)}loop_top"]
        cnts = sum(t.split()[0] == marker for t in body)
        if best is None or cnts > best[0] or (cnts == best[0] and len(body) < len(best[1])):
            best = (cnts, body)
    if best is None or best[0] == 0:
        best = _most_repeated_block(insns, marker)
    if best is None:
        sys.exit(f"a53_loop: no loop with {marker} instructions in this function")
    return ["loop_top:", *best[1]]


def _most_repeated_block(insns: list[tuple[int, str]], marker: str):
    """(marker count, body) of the most repeated branch-free block holding `marker`."""
    blocks, start = {}, 0
    for j, (_, text) in enumerate(insns):
        m = BRANCH.match(text)
        if not m:
            continue
        body = [t for _, t in insns[start:j]] + [f"{m.group(1)} {m.group(2)}loop_top"]
        start = j + 1
        cnts = sum(t.split()[0] == marker for t in body)
        if cnts:
            shape = tuple(re.sub(r"#-?(0x[0-9a-f]+|\d+)", "#", t) for t in body)
            seen = blocks.setdefault(shape, [0, cnts, body])
            seen[0] += 1
    if not blocks:
        return None
    _, cnts, body = max(blocks.values(), key=lambda b: (b[0], b[1]))
    return cnts, body


def run_mca(loop: list[str], iterations: int, tmp: Path) -> tuple[float, str]:
    path = tmp / "loop.s"
    path.write_text("\n".join(loop) + "\n")
    out = subprocess.run(["llvm-mca", "-mtriple=aarch64-linux-gnu", "-mcpu=cortex-a53",
                          f"-iterations={iterations}", str(path)],
                         check=True, capture_output=True, text=True).stdout
    cycles = int(re.search(r"Total Cycles:\s+(\d+)", out).group(1))
    return cycles / iterations, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path,
                        default=ROOT / "engine/src/bgemm/arm64/bgemm4x4_column_neon_a64.S")
    parser.add_argument("--function", default="irnet_bgemm4x4_column_neon_a64",
                        help="symbol to analyse (mangled for C++ functions)")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--show", action="store_true", help="print the loop and llvm-mca's report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        loop = hottest_loop(disassemble(args.source, args.function, Path(tmp)))
        cycles, report = run_mca(loop, args.iterations, Path(tmp))
    body = loop[1:]
    macs = sum(128 if ".16b" in t else 64 for t in body if t.startswith("cnt"))
    if args.show:
        print("\n".join(loop))
        print(report)
    print(f"{args.function}: inner loop {len(body)} instructions, {macs} binary MACs per iteration")
    print(f"llvm-mca -mcpu=cortex-a53: {cycles:.2f} cycles/iteration -> "
          f"{macs / cycles:.1f} binary MACs/cycle (estimate), {macs / len(body):.1f} MACs/instruction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
