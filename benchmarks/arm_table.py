"""The ARM columns of Table 5: exact qemu instruction counts and a Cortex-A53 estimate.

Instruction counts: irnet-run, cross-built for aarch64 and armv7, runs each
model under qemu with the counting plugin (tools/qemu) for 1 and for 2 timed
passes (no warm-up); the difference is exactly one forward pass, without
process start-up, model load and printing. Per-function counts come from the
same two runs.

Cortex-A53 @ 1.2 GHz estimate (an ESTIMATE, not a measurement):
    cycles = sum over functions of  instructions(f) x CPI(f)
with CPI(f) from llvm-mca -mcpu=cortex-a53 on the inner loop of the hot
kernels (the bgemm, the stem's direct kernel and the sgemm; tools/mca), and, for every other
instruction, CPI = 1.85, the effective CPI the A53 achieved on daBNN's whole
forward pass (BRIEF section 5: 170 M instructions in ~314 M cycles). llvm-mca
assumes L1 hits, so the kernels' share is optimistic; the allowance for the
rest is taken from real hardware and is pessimistic for straight-line NEON code.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time

from .mca_kernels import kernel_cpis
from .qemu_count import ROOT, QemuCountError, count_instructions, cross_build

ARCH_LABEL = {"arm64": "aarch64", "arm32": "armv7"}
A53_HZ = 1.2e9
REST_CPI = 314.0 / 170.0  # daBNN on the Pi 3B: cycles / instructions (BRIEF section 5)


# Where a pass's instructions go, by (demangled) function name; first match wins.
BREAKDOWN = [
    ("binary: bgemm edge tiles", re.compile(r"Neon(A64|A32)Kernel::tile")),  # intrinsics, CPI of the rest
    ("binary: bgemm kernel", re.compile(r"bgemm")),
    ("binary: im2col", re.compile(r"BConv2d::im2col|im2col_rows")),
    ("binary: epilogue", re.compile(r"BConv2d::epilogue|bconv_epilogue|EpilogueFloatRows|epilogue_residuals")),
    ("sign packing", re.compile(r"pack_signs|pack_rows_by_word|pack_tail_word")),
    ("float: stem kernel", re.compile(r"sconv")),
    ("float: sgemm kernel", re.compile(r"sgemm")),
    ("float: im2col / packing", re.compile(r"FloatConv2d|split_phase")),
]


def demangle(names: list[str]) -> list[str]:
    """C++ symbol names made readable with c++filt (binutils); unchanged if it is missing."""
    if not names or shutil.which("c++filt") is None:
        return names
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout
    lines = out.split("\n")
    return lines[:len(names)] if len(lines) >= len(names) else names


def breakdown(per_symbol: dict[str, int]) -> dict[str, int]:
    classes = {label: 0 for label, _ in BREAKDOWN}
    classes["other (pools, adds, layout, runtime)"] = 0
    for name, count in per_symbol.items():
        label = next((label for label, pattern in BREAKDOWN if pattern.search(name)),
                     "other (pools, adds, layout, runtime)")
        classes[label] += count
    return classes


def count_per_pass(binary: str, irb: str, arch: str) -> dict:
    """Exact instructions of one forward pass (2 passes minus 1 pass), per function too."""
    runs, seconds = {}, {}
    for passes in (1, 2):
        start = time.perf_counter()
        runs[passes] = count_instructions(binary, [irb, "--runs", str(passes), "--warmup", "0"], arch,
                                          symbols=True)
        seconds[passes] = time.perf_counter() - start
    one, two = runs[1], runs[2]
    per_symbol = {name: two.per_symbol.get(name, 0) - one.per_symbol.get(name, 0)
                  for name in two.per_symbol}
    per_symbol = {k: v for k, v in per_symbol.items() if v > 0}
    per_symbol = dict(zip(demangle(list(per_symbol)), per_symbol.values()))
    top = sorted(per_symbol.items(), key=lambda kv: -kv[1])
    return {"per_pass": two.total - one.total,
            "emulated_ms": (seconds[2] - seconds[1]) * 1e3,
            "top_symbols": top[:12],
            "breakdown": breakdown(per_symbol)}


# Breakdown rows whose instructions run at a kernel's llvm-mca CPI (mca_kernels.KERNELS).
KERNEL_ROWS = {"binary: bgemm kernel": "bgemm", "float: stem kernel": "stem", "float: sgemm kernel": "sgemm"}


def a53_estimate_ms(counts: dict, cpis: dict) -> float:
    """Kernel instructions at their llvm-mca CPI, everything else at REST_CPI."""
    kernels = {row: counts["breakdown"][row] for row in KERNEL_ROWS}
    rest = counts["per_pass"] - sum(kernels.values())
    cycles = sum(n * cpis[KERNEL_ROWS[row]][0] for row, n in kernels.items()) + rest * REST_CPI
    return cycles / A53_HZ * 1e3


def measure(files, work_dir: str):
    """Returns (qemu results by arch label, A53 estimates by model key, method text)."""

    qemu: dict = {}
    for arch in ("arm64", "arm32"):
        label = ARCH_LABEL[arch]
        try:
            binary = cross_build(arch, "irnet-run", ROOT / "build" / arch)
            qemu[label] = {key: count_per_pass(binary, f.irb, arch) for key, f in files.items()}
        except (QemuCountError, subprocess.CalledProcessError, OSError) as e:
            qemu[label] = {"skipped": str(e)}
    estimates, method = {}, "skipped"
    try:
        cpis = kernel_cpis()
        if "skipped" not in qemu["aarch64"]:
            estimates = {key: a53_estimate_ms(c, cpis) for key, c in qemu["aarch64"].items()}
        used = "; ".join(f"{family} CPI {cpi:.3f} ({detail})" for family, (cpi, detail) in cpis.items())
        method = ("Cortex-A53 @ 1.2 GHz " + __doc__.split("Cortex-A53 @ 1.2 GHz ")[1].strip() +
                  f"\n\nUsed: {used}; everything else CPI {REST_CPI:.2f}.")
    except Exception as e:  # llvm-mca missing or the kernel loop not found: a skipped column
        method = f"skipped: {e}"
    return qemu, estimates, method


def main(argv=None) -> int:
    """Per-pass counts of one model (and on arm64 the A53 estimate):
    `python -m benchmarks.arm_table model.irb [--arch arm64]`."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Exact qemu instructions of one forward pass of an .irb, "
                                                 "with the per-part breakdown and the hottest functions.")
    parser.add_argument("irb")
    parser.add_argument("--arch", choices=sorted(ARCH_LABEL), default="arm64")
    parser.add_argument("--build-dir", type=Path, help="cross build directory (default build/<arch>)")
    args = parser.parse_args(argv)
    binary = cross_build(args.arch, "irnet-run", args.build_dir or ROOT / "build" / args.arch)
    counts = count_per_pass(str(binary), args.irb, args.arch)
    print(f"{ARCH_LABEL[args.arch]}: {counts['per_pass'] / 1e6:.2f} M instructions per pass")
    for label, n in counts["breakdown"].items():
        print(f"  {label:40s} {n / 1e6:8.2f} M")
    print("hottest functions:")
    for name, n in counts["top_symbols"]:
        print(f"  {n / 1e6:8.2f} M  {name[:100]}")
    if args.arch == "arm64":
        try:
            cpis = kernel_cpis()
        except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
            print(f"Cortex-A53 estimate skipped: {e}")
        else:
            print(f"Cortex-A53 @ 1.2 GHz ESTIMATE: {a53_estimate_ms(counts, cpis):.1f} ms "
                  f"(rest at CPI {REST_CPI:.2f})")
            for family, (cpi, detail) in cpis.items():
                print(f"  CPI {cpi:.3f}  {detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
