"""Exact guest instructions per binary MAC of the ARM bgemm kernels, under qemu.

For each binary layer of a model (--model resnet18: the ResNet-18 body layers,
3x3, stride 1, pad 1: 56x56x64, 28x28x128, 14x14x256, 7x7x512; --model
reactnet-a: ReActNet-A's distinct binary layers, 3x3 stride 1 / 2 and 1x1,
the channel-doubling 1x1 as one Cin -> 2 Cin conv) it runs
benchmarks/cpp/count_bconv (cross-built for aarch64 and armv7) with 1 and 3
passes under qemu + tools/qemu/insn_count and takes (count(3) - count(1)) / 2:
the exact instructions of one pass, without process start-up, weight setup and
layer construction. Per-symbol counts split a pass into the bgemm kernel, its
intrinsics edge / short-K tiles, im2col and the epilogue. For ReActNet-A a
last row per arch sums the layers, each times the number of blocks that run it.

    .venv/bin/python benchmarks/arm_counts.py                 # both arches
    .venv/bin/python benchmarks/arm_counts.py --arch arm64 --kernel bgemm_4x4_scalar
    .venv/bin/python benchmarks/arm_counts.py --model reactnet-a --arch arm64

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

# (input size, in channels, out channels, kernel, stride, how many times the model runs it)
MODEL_LAYERS = {
    "resnet18": [(56, 64, 64, 3, 1, 4), (28, 128, 128, 3, 1, 3), (14, 256, 256, 3, 1, 3),
                 (7, 512, 512, 3, 1, 3)],
    "reactnet-a": [
        (112, 32, 32, 3, 1, 1), (112, 32, 64, 1, 1, 1),
        (112, 64, 64, 3, 2, 1), (56, 64, 128, 1, 1, 1),
        (56, 128, 128, 3, 1, 1), (56, 128, 128, 1, 1, 1),
        (56, 128, 128, 3, 2, 1), (28, 128, 256, 1, 1, 1),
        (28, 256, 256, 3, 1, 1), (28, 256, 256, 1, 1, 1),
        (28, 256, 256, 3, 2, 1), (14, 256, 512, 1, 1, 1),
        (14, 512, 512, 3, 1, 5), (14, 512, 512, 1, 1, 5),
        (14, 512, 512, 3, 2, 1), (7, 512, 1024, 1, 1, 1),
        (7, 1024, 1024, 3, 1, 1), (7, 1024, 1024, 1, 1, 1),
    ],
}
# Symbol classes: the bgemm entry point and every Kernel::tile<MR, NR> instantiation
# (edge: the intrinsics tiles alone, a part of bgemm).
CLASSES = {
    "bgemm": re.compile(r"bgemm|Kernel\d*tile"),
    "edge": re.compile(r"Kernel\d*tile"),
    "im2col": re.compile(r"im2col"),
    "epilogue": re.compile(r"epilogue", re.IGNORECASE),
}
DABNN_MACS_PER_INSN_56x64 = 22.5


def per_pass(binary: Path, arch: str, layer: tuple, env: dict) -> dict:
    size, cin, cout, kernel, stride = layer

    def run(passes: int):
        return count_instructions(binary, [size, cin, passes, cout, kernel, stride], arch, symbols=True, env=env)

    one, three = run(1), run(3)
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
    parser.add_argument("--model", choices=sorted(MODEL_LAYERS), default="resnet18",
                        help="whose binary layers (default resnet18)")
    parser.add_argument("--build-root", type=Path, default=ROOT / "build",
                        help="build directories are <root>/neon-<arch>")
    args = parser.parse_args()
    env = {"IRNET_KERNELS": f"bgemm={args.kernel}"} if args.kernel else {}
    print("| arch | layer | times | kernel | binary MACs | bgemm insns | of which edge tiles | MACs/insn (bgemm) "
          "| im2col | epilogue | layer insns | MACs/insn (layer) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")

    def row(arch: str, name: str, times, kernel: str, macs: float, r: dict) -> None:
        print(f"| {arch} | {name} | {times} | {kernel} | {macs / 1e6:.1f} M "
              f"| {r['bgemm'] / 1e6:.3f} M | {r['edge'] / 1e6:.3f} M | {macs / r['bgemm']:.1f} "
              f"| {r['im2col'] / 1e6:.3f} M | {r['epilogue'] / 1e6:.3f} M "
              f"| {r['layer'] / 1e6:.3f} M | {macs / r['layer']:.1f} |", flush=True)

    try:
        for arch in args.arch or ["arm64", "arm32"]:
            binary = cross_build(arch, "count_bconv", args.build_root / f"neon-{arch}")
            total_macs, total = 0.0, dict.fromkeys(["layer", *CLASSES], 0.0)
            for size, cin, cout, kernel, stride, times in MODEL_LAYERS[args.model]:
                out = (size + 2 * (kernel // 2) - kernel) // stride + 1
                macs = out * out * cout * kernel * kernel * cin
                r = per_pass(binary, arch, (size, cin, cout, kernel, stride), env)
                name = f"{size}x{size}x{cin}->{cout} {kernel}x{kernel}/{stride}"
                row(arch, name, times, r["kernel_name"], macs, r)
                total_macs += times * macs
                for key in total:
                    total[key] += times * r[key]
            if args.model != "resnet18":
                row(arch, f"**{args.model} binary layers**", "", "", total_macs, total)
    except (QemuCountError, subprocess.CalledProcessError) as e:
        print(f"arm_counts: {e}", file=sys.stderr)
        return 1
    print(f"\ndaBNN (aarch64, 56x56x64): 5.15 M kernel instructions, "
          f"{DABNN_MACS_PER_INSN_56x64} binary MACs per instruction.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
