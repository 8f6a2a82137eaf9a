"""Before/after of two engine revisions, measured in one run.

    python -m benchmarks.compare_revisions --base REV [--model M.irb] [--rounds 9] [--out report.md]
    python -m benchmarks.compare_revisions --kernels BEFORE AFTER [--model M.irb] [--rounds 9]

Builds `irnet-run` of REV (in a git worktree under build/revisions/) and of the
working tree, then
  * host: runs the two binaries alternately (ABBA order), `rounds` times each,
    on the same model (each invocation: 2 warm-up + `--runs` timed passes, median); the
    report gives the median over rounds of each side's whole-pass and per-layer
    medians and their ratio. Alternating keeps a shared machine's noise fair
    to both; only the ratios are meaningful;
  * aarch64 and armv7: the exact qemu instruction count of one pass of each,
    with the per-part breakdown of benchmarks.arm_table (deterministic: no rounds).
The .irb must load in both revisions (the format version is checked).

With --kernels, the two sides are the working tree's `irnet-run` under two
IRNET_KERNELS settings (e.g. `phase_conv=phase_conv_4x24_avx2` against
`phase_conv=auto`), alternated the same way; host only (no qemu counts).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
from pathlib import Path

from .arm_table import ARCH_LABEL, count_per_pass
from .qemu_count import ROOT, QemuCountError, cross_build

PASS_RE = re.compile(r"latency over \d+ runs .*?: median ([0-9.]+) ms")
LAYER_RE = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([0-9.]+)\s+[0-9.]+%$")


def worktree(rev: str) -> Path:
    """A detached checkout of rev under build/revisions/<sha> (made once)."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    path = ROOT / "build" / "revisions" / sha
    if not (path / "CMakeLists.txt").exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), sha], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def native_build(src: Path, build_dir: Path) -> Path:
    if not (build_dir / "build.ninja").exists():
        subprocess.run(["cmake", "-S", str(src), "-B", str(build_dir), "-G", "Ninja", "-DIRNET_BUILD_TESTS=OFF"],
                       check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j2", "--target", "irnet-run"], check=True,
                   stdout=subprocess.DEVNULL)
    return build_dir / "irnet-run"


def profile_once(binary: Path, model: str, runs: int,
                 kernels: str | None = None) -> tuple[float, dict[str, tuple[str, float]]]:
    """(whole-pass median ms, {layer: (kernel, median ms)}) of one irnet-run invocation,
    under IRNET_KERNELS=kernels when given."""
    env = None if kernels is None else {**os.environ, "IRNET_KERNELS": kernels}
    out = subprocess.run([str(binary), model, "--runs", str(runs), "--warmup", "2", "--profile"], check=True,
                         capture_output=True, text=True, env=env).stdout
    whole = float(PASS_RE.search(out).group(1))
    layers = {}
    for line in out.splitlines():
        m = LAYER_RE.match(line.strip())
        if m:
            layers[f"{m.group(1)} {m.group(2)}"] = (m.group(4), float(m.group(5)))
    return whole, layers


def host_ab(binaries: dict[str, Path], model: str, rounds: int, runs: int,
            irnet_kernels: dict[str, str] | None = None) -> dict:
    """Alternates the sides (binary, and IRNET_KERNELS from `irnet_kernels` if given) round by round."""
    samples = {side: {"pass": [], "layers": {}} for side in binaries}
    kernels = {side: {} for side in binaries}
    sides = list(binaries.items())
    for round_index in range(rounds):
        # ABBA order: neither side always runs first (cache, clock and neighbour effects).
        for side, binary in (sides if round_index % 2 == 0 else sides[::-1]):
            whole, layers = profile_once(binary, model, runs, (irnet_kernels or {}).get(side))
            samples[side]["pass"].append(whole)
            for name, (kernel, ms) in layers.items():
                samples[side]["layers"].setdefault(name, []).append(ms)
                kernels[side][name] = kernel
    med = {side: {"pass": statistics.median(s["pass"]),
                  "layers": {n: statistics.median(v) for n, v in s["layers"].items()}}
           for side, s in samples.items()}
    return {"median": med, "kernels": kernels}


def render(base: str, head: str, host: dict, arm: dict) -> str:
    b, h = host["median"]["base"], host["median"]["head"]
    lines = [f"Before = `{base}`, after = `{head}`; host: median over alternating rounds of each "
             "side's per-invocation medians (single thread).", "",
             "| | before | after | before / after |", "|---|---|---|---|",
             f"| host, whole pass (ms) | {b['pass']:.2f} | {h['pass']:.2f} | {b['pass'] / h['pass']:.2f}× |"]
    for key in ARCH_LABEL.values():
        if key in arm and "skipped" not in arm[key]:
            cb, ch = arm[key]["base"], arm[key]["head"]
            lines.append(f"| {key} instructions per pass | {cb['per_pass'] / 1e6:.2f} M | "
                         f"{ch['per_pass'] / 1e6:.2f} M | {cb['per_pass'] / ch['per_pass']:.2f}× |")
            for row in ch["breakdown"]:
                before = cb["breakdown"].get(row, 0)
                after = ch["breakdown"][row]
                ratio = f"{before / after:.2f}×" if after else "—"
                lines.append(f"| {key}: {row} | {before / 1e6:.2f} M | {after / 1e6:.2f} M | {ratio} |")
        elif key in arm:
            lines.append(f"| {key} | skipped: {arm[key]['skipped']} | | |")
    lines += ["", "Host per layer (ms, medians; kernel after the change):", "",
              "| layer | kernel before | kernel after | before | after | before / after |",
              "|---|---|---|---|---|---|"]
    for name, after in h["layers"].items():
        before = b["layers"].get(name)
        kb, ka = host["kernels"]["base"].get(name, "—"), host["kernels"]["head"][name]
        ratio = f"{before / after:.2f}×" if before and after else "—"
        before_s = f"{before:.3f}" if before is not None else "—"
        lines.append(f"| {name} | {kb} | {ka} | {before_s} | {after:.3f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sides = parser.add_mutually_exclusive_group(required=True)
    sides.add_argument("--base", help="the 'before' git revision")
    sides.add_argument("--kernels", nargs=2, metavar=("BEFORE", "AFTER"),
                       help="two IRNET_KERNELS settings of the working tree's irnet-run (host only)")
    parser.add_argument("--model", default=str(ROOT / "build" / "bench" / "resnet18_irnet.irb"))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--runs", type=int, default=10, help="timed passes per invocation")
    parser.add_argument("--no-arm", action="store_true", help="skip the qemu counts")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    args = parser.parse_args(argv)

    arm: dict = {}
    if args.kernels:
        binary = native_build(ROOT, ROOT / "build" / "ab-native")
        before, after = (f"IRNET_KERNELS={spec}" for spec in args.kernels)
        host = host_ab({"base": binary, "head": binary}, args.model, args.rounds, args.runs,
                       dict(zip(("base", "head"), args.kernels)))
    else:
        base_src = worktree(args.base)
        before = args.base
        after = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], check=True,
                               capture_output=True, text=True).stdout.strip()
        binaries = {"base": native_build(base_src, base_src / "build" / "ab-native"),
                    "head": native_build(ROOT, ROOT / "build" / "ab-native")}
        host = host_ab(binaries, args.model, args.rounds, args.runs)
        if not args.no_arm:
            for arch, label in ARCH_LABEL.items():
                try:
                    arm[label] = {
                        side: count_per_pass(str(cross_build(arch, "irnet-run", src / "build" / f"ab-{arch}", src)),
                                             args.model, arch)
                        for side, src in (("base", base_src), ("head", ROOT))}
                except (QemuCountError, subprocess.CalledProcessError, OSError) as e:
                    arm[label] = {"skipped": str(e)}
    report = render(before, after, host, arm)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
