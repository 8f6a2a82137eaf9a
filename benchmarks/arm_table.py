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
    ("binary: bgemm edge tiles", re.compile(r"Neon(A64|A32)Kernel::tile|bgemm1x4_edge_tile")),  # CPI of the rest
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


def count_per_pass(binary: str, irb: str, arch: str, top: int = 12) -> dict:
    """Exact instructions of one forward pass (2 passes minus 1 pass), per function too
    (the `top` largest in "top_symbols")."""
    runs, seconds = {}, {}
    for passes in (1, 2):
        start = time.perf_counter()
        runs[passes] = count_instructions(binary, [irb, "--runs", str(passes), "--warmup", "0"], arch,
                                          symbols=True, libraries=True)
        seconds[passes] = time.perf_counter() - start
    one, two = runs[1], runs[2]

    def named(run):  # OUTSIDE_BINARY by library function (libc's memset, libgcc's helpers, the PLT)
        return {**{name: n for name, n in run.per_symbol.items() if name != OUTSIDE_BINARY},
                **run.per_library_symbol}

    before = named(one)
    per_symbol = {name: n - before.get(name, 0) for name, n in named(two).items()}
    per_symbol = {k: v for k, v in per_symbol.items() if v > 0}
    per_symbol = dict(zip(demangle(list(per_symbol)), per_symbol.values()))
    ranked = sorted(per_symbol.items(), key=lambda kv: -kv[1])
    return {"per_pass": two.total - one.total,
            "emulated_ms": (seconds[2] - seconds[1]) * 1e3,
            "top_symbols": ranked[:top],
            "breakdown": breakdown(per_symbol)}


# The thread pool's own functions: waking workers, spinning and blocking while waiting.
POOL = re.compile(r"ThreadPool::|spin_until")
OUTSIDE_BINARY = "[other]"  # code without symbols: libc (futex, sched_yield, clock reads, memcpy), the loader


def _pass_counts(one, two) -> dict[int, dict[str, int]]:
    """Per guest thread and symbol: the instructions of the second pass (2-pass run minus 1-pass run)."""
    out = {}
    for thread, symbols in two.per_thread_symbol.items():
        before = one.per_thread_symbol.get(thread, {})
        delta = {name: n - before.get(name, 0) for name, n in symbols.items()}
        out[thread] = {name: n for name, n in delta.items() if n}
    return out


def balance_report(threaded: dict[int, dict[str, int]], single: dict[str, int]) -> dict:
    """How a pass at several threads splits, from its per-thread per-symbol counts
    (`threaded`) and the same pass's per-symbol counts at 1 thread (`single`).

    Layer work of a thread: its instructions in the engine's functions other than
    the thread pool's (POOL) and outside the binary's symbols (libc). Balance: the
    largest thread's layer work over the mean. Outside layer work: everything the
    threads run beyond the 1-thread pass, in parts: the pool's functions (waking
    the workers, spinning and blocking while waiting), libc (futex, sched_yield,
    clock reads; minus the 1-thread pass's own libc share), and the layer
    functions' own extra instructions from running a layer in more pieces
    (splitting)."""
    def work(symbols):
        return sum(n for name, n in symbols.items() if name != OUTSIDE_BINARY and not POOL.search(name))

    per_thread = {t: sum(symbols.values()) for t, symbols in sorted(threaded.items())}
    layer_work = {t: work(symbols) for t, symbols in sorted(threaded.items())}
    single_total = sum(single.values())
    pool = sum(n for symbols in threaded.values() for name, n in symbols.items() if POOL.search(name))
    libc = sum(symbols.get(OUTSIDE_BINARY, 0) for symbols in threaded.values()) - single.get(OUTSIDE_BINARY, 0)
    splitting = sum(layer_work.values()) - work(single)
    outside = sum(per_thread.values()) - single_total
    mean = sum(layer_work.values()) / len(layer_work)
    return {"threads": len(threaded), "per_thread": per_thread, "layer_work": layer_work,
            "balance": max(layer_work.values()) / mean, "single_thread_pass": single_total,
            "outside_layer_work": outside, "outside_share": outside / single_total,
            "outside_parts": {"thread pool (wake, spin, block)": pool, "libc (futex, yield, clock)": libc,
                              "splitting (layer functions)": splitting}}


def output_lines(stdout: str) -> list[str]:
    """irnet-run's output checksum and top-5 lines."""
    return [line for line in stdout.splitlines() if line.startswith(("output ", "  sample "))]


def thread_balance(binary: str, irb: str, arch: str, threads: int = 4) -> dict:
    """balance_report of one pass at `threads` threads (counted per guest thread)
    against the same pass at 1 thread; outputs compared as irnet-run prints them."""
    def runs(n_threads, per_thread):
        return {passes: count_instructions(binary, [irb, "--runs", str(passes), "--warmup", "0", "--threads",
                                                    str(n_threads)], arch, symbols=True, threads=per_thread)
                for passes in (1, 2)}

    multi, one = runs(threads, True), runs(1, False)
    single = {name: n - one[1].per_symbol.get(name, 0) for name, n in one[2].per_symbol.items()}
    threaded_counts = _pass_counts(multi[1], multi[2])
    # POOL and BREAKDOWN match demangled names.
    names = sorted(set(single).union(*threaded_counts.values()))
    readable = dict(zip(names, demangle(names)))

    def demangled(counts):
        out = {}
        for name, n in counts.items():
            out[readable[name]] = out.get(readable[name], 0) + n
        return out

    single = demangled(single)
    threaded_counts = {t: demangled(symbols) for t, symbols in threaded_counts.items()}
    report = balance_report(threaded_counts, {k: v for k, v in single.items() if v})
    report["outputs_match_1_thread"] = output_lines(multi[2].stdout) == output_lines(one[2].stdout)
    per_symbol = {}
    for symbols in threaded_counts.values():
        for name, n in symbols.items():
            per_symbol[name] = per_symbol.get(name, 0) + n
    extra = {name: n - single.get(name, 0) for name, n in per_symbol.items()}
    largest = sorted(extra.items(), key=lambda kv: -abs(kv[1]))[:6]
    report["largest_differences"] = largest
    report["parts_per_thread"] = {}
    for t in sorted(threaded_counts):
        for part, n in breakdown(threaded_counts[t]).items():
            report["parts_per_thread"].setdefault(part, []).append(n)
    biggest = sorted(per_symbol, key=lambda name: -per_symbol[name])[:6]
    report["largest_functions"] = [(name, [threaded_counts[t].get(name, 0) for t in sorted(threaded_counts)])
                                   for name in biggest]
    return report


def measure_balance(files, threads: int = 4) -> dict:
    """thread_balance on aarch64 for each model of `files` (by key), or {"skipped": reason}."""
    try:
        binary = cross_build("arm64", "irnet-run", ROOT / "build" / "arm64")
        return {key: thread_balance(str(binary), f.irb, "arm64", threads) for key, f in files.items()}
    except (QemuCountError, subprocess.CalledProcessError, OSError) as e:
        return {"skipped": str(e)}


# Breakdown rows whose instructions run at a kernel's llvm-mca CPI (mca_kernels.KERNELS).
KERNEL_ROWS = {"binary: bgemm kernel": "bgemm", "float: stem kernel": "stem", "float: sgemm kernel": "sgemm"}


def a53_estimate_ms(counts: dict, cpis: dict) -> float:
    """Kernel instructions at their llvm-mca CPI, everything else at REST_CPI."""
    kernels = {row: counts["breakdown"][row] for row in KERNEL_ROWS}
    rest = counts["per_pass"] - sum(kernels.values())
    cycles = sum(n * cpis[KERNEL_ROWS[row]][0] for row, n in kernels.items()) + rest * REST_CPI
    return cycles / A53_HZ * 1e3


def measure(files, arches=("arm64", "arm32")):
    """Returns (qemu results by arch label, A53 estimates by model key, method text)."""

    qemu: dict = {}
    for arch in arches:
        label = ARCH_LABEL[arch]
        try:
            binary = cross_build(arch, "irnet-run", ROOT / "build" / arch)
            qemu[label] = {key: count_per_pass(binary, f.irb, arch) for key, f in files.items()}
        except (QemuCountError, subprocess.CalledProcessError, OSError) as e:
            qemu[label] = {"skipped": str(e)}
    estimates, method = {}, "skipped"
    try:
        cpis = kernel_cpis()
        if "skipped" not in qemu.get("aarch64", {"skipped": "not counted"}):
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
    parser.add_argument("--top", type=int, default=12, metavar="N", help="how many of the hottest functions "
                        "to list (default 12)")
    args = parser.parse_args(argv)
    binary = cross_build(args.arch, "irnet-run", args.build_dir or ROOT / "build" / args.arch)
    counts = count_per_pass(str(binary), args.irb, args.arch, args.top)
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
