"""Exact guest instructions per binary MAC of the ARM bgemm kernels, under qemu.

For each ResNet-18 body layer (3x3, stride 1, pad 1: 56x56x64, 28x28x128,
14x14x256, 7x7x512) it runs benchmarks/cpp/count_bconv (cross-built for
aarch64 and armv7) with 1 and 3 passes under qemu + tools/qemu/insn_count and
takes (count(3) - count(1)) / 2: the exact instructions of one pass, without
process start-up, weight setup and layer construction. Per-symbol counts split
a pass into the bgemm kernel, im2col and the epilogue.

    .venv/bin/python benchmarks/arm_counts.py                 # both arches
    .venv/bin/python benchmarks/arm_counts.py --arch arm64 --kernel bgemm_4x4_scalar

Prints a markdown table (docs/arm.md records the results). Reference point:
daBNN's aarch64 kernel needs 5.15 M instructions for 56x56x64 (22.5 binary
MACs per instruction; BRIEF section 5).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qemu_count import ROOT, TOOLCHAINS, QemuCountError, count_instructions, cross_build  # noqa: E402

LAYERS = [(56, 64), (28, 128), (14, 256), (7, 512)]
# Symbol classes: the bgemm entry point and every Kernel::tile<MR, NR> instantiation.
CLASSES = {
    "bgemm": re.compile(r"bgemm|Kernel\d*tile"),
    "im2col": re.compile(r"im2col"),
    "epilogue": re.compile(r"epilogue", re.IGNORECASE),
}
DABNN_MACS_PER_INSN_56x64 = 22.5


def per_pass(binary: Path, arch: str, size: int, channels: int, env: dict) -> dict:
    one = count_instructions(binary, [size, channels, 1], arch, symbols=True, env=env)
    three = count_instructions(binary, [size, channels, 3], arch, symbols=True, env=env)
    out = {"layer": (three.total - one.total) / 2, "kernel_name": one.stdout.split()[1]}
    for name, pattern in CLASSES.items():
        match = lambda s, p=pattern: bool(p.search(s))  # noqa: E731
        out[name] = (three.matching(match) - one.matching(match)) / 2
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(TOOLCHAINS), action="append",
                        help="arm64 and/or arm32 (default both)")
    parser.add_argument("--kernel", help="force a bgemm variant (IRNET_KERNELS=bgemm=...)")
    parser.add_argument("--build-root", type=Path, default=ROOT / "build",
                        help="build directories are <root>/neon-<arch>")
    args = parser.parse_args()
    env = {"IRNET_KERNELS": f"bgemm={args.kernel}"} if args.kernel else {}
    print("| arch | layer | kernel | binary MACs | bgemm insns | MACs/insn (bgemm) "
          "| im2col | epilogue | layer insns | MACs/insn (layer) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    try:
        for arch in args.arch or ["arm64", "arm32"]:
            binary = cross_build(arch, "count_bconv", args.build_root / f"neon-{arch}")
            for size, channels in LAYERS:
                macs = size * size * channels * 9 * channels
                r = per_pass(binary, arch, size, channels, env)
                print(f"| {arch} | {size}x{size}x{channels} | {r['kernel_name']} | {macs / 1e6:.1f} M "
                      f"| {r['bgemm'] / 1e6:.3f} M | {macs / r['bgemm']:.1f} "
                      f"| {r['im2col'] / 1e6:.3f} M | {r['epilogue'] / 1e6:.3f} M "
                      f"| {r['layer'] / 1e6:.3f} M | {macs / r['layer']:.1f} |", flush=True)
    except (QemuCountError, subprocess.CalledProcessError) as e:
        print(f"arm_counts: {e}", file=sys.stderr)
        return 1
    print(f"\ndaBNN (aarch64, 56x56x64): 5.15 M kernel instructions, "
          f"{DABNN_MACS_PER_INSN_56x64} binary MACs per instruction.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
