"""Cycles per instruction of the hot aarch64 kernels on llvm-mca's Cortex-A53 model.

Used by the A53 estimate of benchmarks/arm_table.py. Each kernel's innermost
steady-state loop is found by tools/mca/a53_loop.py (the loop richest in its
marker instruction: `cnt` for the xor-popcount bgemm, `fmla` for the float kernels)
and run through llvm-mca. These are model numbers (L1 hits, no stalls from
memory): an ESTIMATE.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools" / "mca"))
import a53_loop  # noqa: E402

# family -> (source, part of the function's symbol name, marker instruction).
# Each family's instructions are charged at its own loop's CPI: the stem's direct
# kernel and the sgemm (1x1 downsample convs, fc, and every conv of the float
# model) have different loops and different CPIs.
KERNELS = {
    "bgemm": (ROOT / "engine/src/bgemm/arm64/bgemm4x4_column_neon_a64.S", "irnet_bgemm4x4_column_neon_a64",
              "cnt"),
    "stem": (ROOT / "engine/src/fconv/arm64/sconv7x2_4x16_neon_a64.S", "irnet_sconv7x2_4x16_neon_a64", "fmla"),
    "sgemm": (ROOT / "engine/src/fconv/arm64/sgemm8x8_neon_a64.S", "irnet_sgemm8x8_neon_a64", "fmla"),
}


def _mangled(source: Path, name_part: str, tmp: Path) -> str:
    """The first function symbol of the compiled source whose name contains name_part."""
    obj = tmp / "k.o"
    subprocess.run([a53_loop.CXX, *a53_loop.CXXFLAGS, "-c", str(source), "-o", str(obj)], check=True)
    syms = subprocess.run(["aarch64-linux-gnu-nm", "--defined-only", str(obj)], check=True,
                          capture_output=True, text=True).stdout.split("\n")
    for line in syms:
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tT" and name_part in fields[2]:
            return fields[2]
    raise RuntimeError(f"no function containing {name_part!r} in {source}")


def loop_cpi(family: str) -> tuple[float, str]:
    """(cycles per instruction of the family's inner loop, description)."""
    source, function, marker = KERNELS[family]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        function = _mangled(source, function, tmp)
        try:
            loop = a53_loop.hottest_loop(a53_loop.disassemble(source, function, tmp), marker=marker)
            cycles, _ = a53_loop.run_mca(loop, 1000, tmp)
        except SystemExit as e:  # a53_loop reports problems by exiting
            raise RuntimeError(str(e)) from None
    n = len(loop) - 1
    return cycles / n, f"{family}: {n}-instruction loop, {cycles:.1f} cycles/iteration"


def kernel_cpis() -> dict[str, tuple[float, str]]:
    if shutil.which("llvm-mca") is None:
        raise RuntimeError("llvm-mca not found (Debian package llvm)")
    return {family: loop_cpi(family) for family in KERNELS}
