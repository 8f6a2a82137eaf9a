"""Exact guest instruction counts of a cross-built program under qemu-user.

    from qemu_count import count_instructions
    r = count_instructions("build/neon-arm64/count_bconv", ["56", "64", "1"], "arm64",
                           symbols=True)
    r.total, r.per_symbol["_ZN5irnet..."]

    r = count_instructions("build/arm64/irnet-run", [...], "arm64", threads=True)
    r.per_thread[1], r.per_thread_symbol[1]["..."]     # guest thread 1 (0 = main)

Uses the TCG plugin tools/qemu/insn_count.c (built on demand with the host C
compiler into build/qemu-plugin/). Each executed guest instruction is counted
once, so counts are exact and identical from run to run for a deterministic,
single-threaded program. A multi-threaded program must be counted with
threads=True (per guest thread; slower, a callback per instruction): without
it the plugin's counts are racy and this raises. Raises QemuCountError with the
reason when qemu, the sysroot, the compiler or the plugin is missing, or when
the program fails.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE_DIR = ROOT / "tools" / "qemu"
PLUGIN_BUILD_DIR = ROOT / "build" / "qemu-plugin"
PLUGIN_PATH = PLUGIN_BUILD_DIR / "libinsn_count.so"

# arch -> (qemu executable, sysroot passed with -L)
ARCHES = {
    "arm64": ("qemu-aarch64", "/usr/aarch64-linux-gnu"),
    "arm32": ("qemu-arm", "/usr/arm-linux-gnueabihf"),
}


# arch -> CMake toolchain file of the cross build that qemu then runs
TOOLCHAINS = {
    "arm64": ROOT / "cmake/toolchains/aarch64-linux-gnu.cmake",
    "arm32": ROOT / "cmake/toolchains/arm-linux-gnueabihf.cmake",
}


class QemuCountError(RuntimeError):
    pass


def cross_build(arch: str, target: str, build_dir: Path, source_dir: Path = ROOT) -> Path:
    """Configures build_dir once for `arch` (sources: source_dir, by default this
    checkout) and builds `target` in it; returns the binary.
    Raises subprocess.CalledProcessError when configuring or building fails."""
    if not (build_dir / "build.ninja").exists():
        subprocess.run(["cmake", "-S", str(source_dir), "-B", str(build_dir), "-G", "Ninja",
                        f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAINS[arch]}"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(build_dir), "-j2", "--target", target], check=True,
                   stdout=subprocess.DEVNULL)
    return build_dir / target


@dataclasses.dataclass
class CountResult:
    total: int
    per_symbol: dict[str, int]  # empty unless symbols=True
    stdout: str
    per_thread: dict[int, int] = dataclasses.field(default_factory=dict)  # vCPU index -> count (threads=True)
    per_thread_symbol: dict[int, dict[str, int]] = dataclasses.field(default_factory=dict)  # both True

    def matching(self, predicate) -> int:
        """Sum of the counts of the symbols whose name satisfies predicate(name)."""
        return sum(c for name, c in self.per_symbol.items() if predicate(name))


def build_plugin() -> Path:
    """Builds the plugin if it is missing or older than its sources; returns its path."""
    sources = [PLUGIN_SOURCE_DIR / "insn_count.c", PLUGIN_SOURCE_DIR / "qemu_plugin_api.h"]
    if PLUGIN_PATH.exists() and all(PLUGIN_PATH.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return PLUGIN_PATH
    if shutil.which("make") is None or shutil.which(os.environ.get("CC", "cc")) is None:
        raise QemuCountError("building the qemu plugin needs `make` and a host C compiler (cc)")
    proc = subprocess.run(["make", "-C", str(PLUGIN_SOURCE_DIR), f"BUILD={PLUGIN_BUILD_DIR}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise QemuCountError(f"building the qemu plugin failed:\n{proc.stdout}{proc.stderr}")
    return PLUGIN_PATH


def parse_report(text: str) -> CountResult:
    """The plugin's report as a CountResult (stdout left empty)."""
    total = None
    result = CountResult(0, {}, "")
    for line in text.splitlines():
        fields = line.split(" ", 3)
        if fields[0] == "total" and len(fields) == 2:
            total = int(fields[1])
        elif fields[0] == "error":
            raise QemuCountError(f"the counts are not valid: {line[len('error '):]}")
        elif fields[0] == "thread" and len(fields) == 3:
            result.per_thread[int(fields[1])] = int(fields[2])
        elif fields[0] == "symbol" and len(fields) >= 3:
            result.per_symbol[line.split(" ", 2)[2]] = int(fields[1])
        elif fields[0] == "thread_symbol" and len(fields) == 4:
            result.per_thread_symbol.setdefault(int(fields[1]), {})[fields[3]] = int(fields[2])
        else:
            raise QemuCountError(f"unexpected line in the plugin report: {line!r}")
    if total is None:
        raise QemuCountError("the plugin report has no total (did qemu load the plugin?)")
    result.total = total
    return result


def count_instructions(binary, args=(), arch="arm64", symbols=False, env=None,
                       threads=False) -> CountResult:
    """Runs `binary args...` under qemu for `arch` ("arm64" or "arm32") and
    returns the number of guest instructions it executed (per symbol too if
    `symbols`, per guest thread too if `threads`). `env` adds environment
    variables for the guest."""
    if arch not in ARCHES:
        raise QemuCountError(f"unknown arch {arch!r}; expected one of {sorted(ARCHES)}")
    qemu, sysroot = ARCHES[arch]
    if shutil.which(qemu) is None:
        raise QemuCountError(f"{qemu} not found (Debian package qemu-user)")
    if not Path(sysroot).is_dir():
        raise QemuCountError(f"sysroot {sysroot} not found (Debian cross g++ packages)")
    binary = Path(binary)
    if not binary.is_file():
        raise QemuCountError(f"program {binary} does not exist (build it first)")
    plugin = build_plugin()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "counts.txt"
        plugin_arg = (f"{plugin},out={report},symbols={'on' if symbols else 'off'},"
                      f"threads={'on' if threads else 'off'}")
        cmd = [qemu, "-L", sysroot, "-plugin", plugin_arg, str(binary), *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, **(env or {})})
        if proc.returncode != 0:
            raise QemuCountError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr}")
        if not report.exists():
            raise QemuCountError(f"qemu wrote no plugin report; stderr:\n{proc.stderr}")
        result = parse_report(report.read_text())
    result.stdout = proc.stdout
    return result
