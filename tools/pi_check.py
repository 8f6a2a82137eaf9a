"""The Raspberry Pi OS install paths, checked in emulated Debian 12 roots (scripts/pi_root.sh).

    python tools/pi_check.py wheel ARCH WHEEL   the runtime-only install of a prebuilt wheel
    python tools/pi_check.py source ARCH        native `pip install .` from the tracked files
    python tools/pi_check.py logits MODEL.irb OUT.npy   (run inside a root by the two above)

ARCH is arm64 (64-bit Raspberry Pi OS) or armhf (32-bit). Both install checks follow the
README's Raspberry Pi section: Debian's python3-numpy (1.24) and python3-venv, a venv with
--system-site-packages, then the wheel (or the source tree) with pip forbidden to build numpy
or onnx from source (--only-binary, and pip's output is checked for either being fetched).
In the venv they then run the bundled digits model converted on this (x86) machine and compare
with the x86 run (identical predictions, logits within 1e-5), run the Python tests that need
neither onnx, onnxruntime nor torch (PI_TESTS), irnet-run and the harness's --irb mode, and
check that irnet-convert says how to install onnx. Each step's wall time is printed.

`scripts/test.sh pi` runs the wheel check for both architectures. The source check builds the
engine under emulation (tens of minutes) in a separate root with g++, cmake and python3-dev.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PI_TESTS = ["test_irb.py", "test_model.py", "test_runtime.py", "test_runtime_only.py"]
# What a Pi user installs with apt to build from source (README, Raspberry Pi section).
SOURCE_BUILD_PACKAGES = "g++ cmake ninja-build python3-dev"
LOGIT_TOLERANCE = 1e-5
CHECK_DIR = "/opt/irnet-check"  # inside the root
# pip fetching or building one of these means the Pi would compile it (no armv7l wheels on PyPI).
FORBIDDEN_FETCH = re.compile(r"^\s*(Collecting|Downloading|Building wheel for|Running setup\.py install for)"
                             r" (numpy|onnx|onnxruntime)\b", re.I | re.M)


class CheckFailed(Exception):
    pass


def digits_logits(irb_path: str) -> np.ndarray:
    """Logits of the engine on the bundled digits test split, one image per run."""
    from tools import digits_demo
    from tools.irnet_torch.data import load_test_split, preprocess

    raw, _ = load_test_split(digits_demo.TEST_SPLIT)
    return digits_demo.run_engine(irb_path, preprocess(raw)).logits


def compare_logits(reference: np.ndarray, emulated: np.ndarray, arch: str) -> str:
    """Raises CheckFailed unless predictions are identical and logits within LOGIT_TOLERANCE."""
    if reference.shape != emulated.shape:
        raise CheckFailed(f"{arch}: logits shape {emulated.shape}, x86 {reference.shape}")
    differ = int((reference.argmax(1) != emulated.argmax(1)).sum())
    worst = float(np.abs(reference.astype(np.float64) - emulated).max())
    summary = (f"{arch}: {len(reference)} digits, {differ} predictions differ from x86, "
               f"max |logit difference| {worst:.3g}")
    if differ or not worst <= LOGIT_TOLERANCE:
        raise CheckFailed(summary + f" (allowed: 0 and {LOGIT_TOLERANCE:g})")
    return summary


class Root:
    """One emulated root: scripts/pi_root.sh builds it (once) and runs commands in it."""

    def __init__(self, arch: str, directory: str | None):
        self.arch = arch
        self.args = [arch] + ([directory] if directory else [])
        self.path = subprocess.run([os.path.join(ROOT, "scripts", "pi_root.sh"), "build", *self.args],
                                   check=True, capture_output=True, text=True).stdout.strip()

    def host_path(self, inside: str) -> str:
        return os.path.join(self.path, inside.lstrip("/"))

    def run(self, step: str, command: str, timings: dict) -> str:
        """Runs a shell command in the root; returns its output; times it as `step`."""
        start = time.monotonic()
        proc = subprocess.run([os.path.join(ROOT, "scripts", "pi_root.sh"), "run", *self.args, "--",
                               f"set -eu; cd {CHECK_DIR}; {command}"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timings[step] = time.monotonic() - start
        print(f"[pi {self.arch}] {step}: {timings[step]:.0f} s", flush=True)
        if proc.returncode != 0:
            raise CheckFailed(f"{self.arch}: {step} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
        return proc.stdout


def copy_tracked_tree(destination: str) -> None:
    """The repository's tracked files as they are in the worktree (a clean clone with the
    uncommitted edits), without build outputs or the .venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    os.makedirs(destination)
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            target = os.path.join(destination, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)


def host_reference(work: str) -> tuple[str, np.ndarray]:
    """The digits model converted here and its x86 logits."""
    from irnet_infer.convert import convert
    irb = os.path.join(work, "irnet_digits.irb")
    convert(os.path.join(ROOT, "models", "irnet_digits.onnx"), irb)
    return irb, digits_logits(irb)


def check(arch: str, wheel: str | None, root_dir: str | None) -> dict:
    timings: dict = {}
    start = time.monotonic()
    root = Root(arch, root_dir)
    timings["root (build or reuse)"] = time.monotonic() - start
    check_dir = root.host_path(CHECK_DIR)
    shutil.rmtree(check_dir, ignore_errors=True)
    copy_tracked_tree(os.path.join(check_dir, "src"))
    irb, reference = host_reference(check_dir)

    if wheel is None:
        root.run("apt install " + SOURCE_BUILD_PACKAGES,
                 "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                 + SOURCE_BUILD_PACKAGES, timings)
        target, only_binary = "./src", "--only-binary=numpy,onnx,onnxruntime"
    else:
        shutil.copy2(wheel, check_dir)
        target, only_binary = "./" + os.path.basename(wheel), "--only-binary=:all:"
    root.run("venv", "python3 -m venv --system-site-packages venv", timings)
    install = ("pip install" if wheel is None else "pip install (wheel)")
    log = root.run(install, f"venv/bin/pip install --no-cache-dir {only_binary} {shlex.quote(target)} "
                            "'pytest>=7' 2>&1", timings)
    fetched = FORBIDDEN_FETCH.findall(log)
    if fetched:
        raise CheckFailed(f"{arch}: pip fetched or built {sorted({f[1] for f in fetched})}:\n{log[-3000:]}")
    versions = root.run("runtime imports", "venv/bin/python -c \"import sys, numpy, irnet_infer; "
                        "print(numpy.__version__, numpy.__file__, irnet_infer.__file__, "
                        "[m for m in ('onnx', 'onnxruntime', 'torch') if m in sys.modules])\"; "
                        "if venv/bin/python -c 'import onnx' 2>/dev/null; then echo onnx-installed; fi", timings)
    print(f"[pi {arch}] numpy, irnet_infer: {versions.strip()}")
    numpy_version, numpy_file = versions.split()[:2]
    if not numpy_file.startswith("/usr/lib/python3/dist-packages/") or "onnx-installed" in versions:
        raise CheckFailed(f"{arch}: expected Debian's numpy and no onnx in the venv, got: {versions}")

    root.run("digits model", "cd src && ../venv/bin/python tools/pi_check.py logits ../irnet_digits.irb "
                             "../logits.npy", timings)
    result = {"arch": arch, "numpy": numpy_version,
              "digits": compare_logits(reference, np.load(os.path.join(check_dir, "logits.npy")), arch)}
    print(f"[pi {arch}] {result['digits']}")
    tests = " ".join(f"tests/python/{t}" for t in PI_TESTS)
    out = root.run("pytest", f"cd src && ../venv/bin/python -m pytest -q -p no:cacheprovider {tests}", timings)
    result["pytest"] = out.strip().splitlines()[-1]
    print(f"[pi {arch}] pytest: {result['pytest']}")
    out = root.run("irnet-run", "venv/bin/irnet-run irnet_digits.irb --runs 3", timings)
    print(f"[pi {arch}] irnet-run: " + " | ".join(l for l in out.splitlines() if "latency" in l))
    out = root.run("irnet-convert without onnx",
                   "if venv/bin/irnet-convert src/models/irnet_digits.onnx x.irb 2>err.txt; then "
                   "echo converted; fi; cat err.txt; test ! -e x.irb", timings)
    if "converted" in out or "pip install 'irnet-infer[convert]'" not in out:
        raise CheckFailed(f"{arch}: irnet-convert without onnx should fail naming the extra, got: {out}")
    root.run("table5 --irb", "cd src && ../venv/bin/python -m benchmarks.table5 --irb ../irnet_digits.irb "
                             "--runs 3 --work-dir ../bench", timings)
    result["timings_s"] = {k: round(v, 1) for k, v in timings.items()}
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python tools/pi_check.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("wheel", help="runtime-only install of a prebuilt wheel")
    w.add_argument("arch", choices=["arm64", "armhf"])
    w.add_argument("wheel")
    s = sub.add_parser("source", help="native `pip install .` in the root (slow under emulation)")
    s.add_argument("arch", choices=["arm64", "armhf"])
    for p in (w, s):
        p.add_argument("--root", help="root directory (default: scripts/pi_root.sh's; the source "
                       "check defaults to a separate <arch>-build root)")
    lg = sub.add_parser("logits", help="(inside a root) digits logits of MODEL.irb to OUT.npy")
    lg.add_argument("irb")
    lg.add_argument("out")
    args = ap.parse_args(argv)
    if args.mode == "logits":
        np.save(args.out, digits_logits(args.irb))
        return 0
    root_dir = args.root
    if args.mode == "source" and root_dir is None:
        root_dir = os.path.join(os.environ.get("IRNET_PI_ROOTS", "/var/cache/irnet-pi-roots"), f"{args.arch}-build")
    try:
        result = check(args.arch, getattr(args, "wheel", None), root_dir)
    except CheckFailed as e:
        print(f"[pi {args.arch}] FAILED: {e}", file=sys.stderr)
        return 1
    print(f"[pi {args.arch}] passed: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
