"""Exact guest instruction counts of a cross-built program under qemu-user.

    from qemu_count import count_instructions
    r = count_instructions("build/neon-arm64/count_bconv", ["56", "64", "1"], "arm64",
                           symbols=True)
    r.total, r.per_symbol["_ZN5irnet..."]

    r = count_instructions("build/arm64/irnet-run", [...], "arm64", threads=True)
    r.per_thread[1], r.per_thread_symbol[1]["..."]     # guest thread 1 (0 = main)

    r = count_instructions(..., symbols=True, libraries=True)
    r.per_library_symbol["__aeabi_idivmod [libgcc_s.so.1]"]   # "[other]" by name

Uses the TCG plugin tools/qemu/insn_count.c (built on demand with the host C
compiler into build/qemu-plugin/). Each executed guest instruction is counted
once, so counts are exact and identical from run to run for a deterministic,
single-threaded program. With libraries=True the instructions outside the
binary's symbols ("[other]") are also named, by the shared library (or the
binary's PLT) they ran in and its own symbol tables (ElfNames). A
multi-threaded program must be counted with threads=True (per guest thread; slower, a callback per instruction): without
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
import bisect
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE_DIR = ROOT / "tools" / "qemu"
PLUGIN_BUILD_DIR = ROOT / "build" / "qemu-plugin"
PLUGIN_PATH = PLUGIN_BUILD_DIR / "libinsn_count.so"

# ELF constants read by ElfNames
PT_LOAD = 1
SHT_SYMTAB, SHT_DYNSYM = 2, 11
STT_FUNC, STT_GNU_IFUNC = 2, 10

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
    # "[other]" split by (file, offset in it) and by name (libraries=True)
    per_location: dict[tuple[str, int], int] = dataclasses.field(default_factory=dict)
    per_library_symbol: dict[str, int] = dataclasses.field(default_factory=dict)

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


class ElfNames:
    """Names of code locations (offsets in an ELF file) from the file's own symbol
    tables: the "[other]" instructions of a libraries=True count, which ran in a
    shared library (libc, libgcc's division helpers, the loader) or the binary's
    PLT. Reads 32- and 64-bit little-endian ELF with the standard library only:
    the PT_LOAD segments map a file offset to an address, .symtab and .dynsym
    give the functions (the ARM Thumb bit cleared), the section headers name
    what no sized symbol covers ("[irnet-run .plt]").

        ElfNames("/usr/arm-linux-gnueabihf/lib/libgcc_s.so.1").name_of(offset)
        # -> "__aeabi_idivmod [libgcc_s.so.1]"
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = self.path.name
        data = self.path.read_bytes()
        if data[:4] != b"\x7fELF" or data[5] != 1:
            raise ValueError(f"{path}: not a little-endian ELF file")
        wide = data[4] == 2
        if wide:
            (phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from(
                "<QQIHHHHHH", data, 0x20)
        else:
            (phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, shstrndx) = struct.unpack_from(
                "<IIIHHHHHH", data, 0x1C)
        # (file offset, size in the file, address) of each loaded segment
        self.segments = []
        for i in range(phnum):
            at = phoff + i * phentsize
            if wide:
                p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, at)
            else:
                p_type, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIIII", data, at)
            if p_type == PT_LOAD:
                self.segments.append((p_offset, p_filesz, p_vaddr))
        sections = []  # (name offset, type, address, offset, size, link, entsize)
        for i in range(shnum):
            at = shoff + i * shentsize
            if wide:
                name, kind, _, addr, offset, size, link, _, _, entsize = struct.unpack_from("<IIQQQQIIQQ", data, at)
            else:
                name, kind, _, addr, offset, size, link, _, _, entsize = struct.unpack_from("<IIIIIIIIII", data, at)
            sections.append((name, kind, addr, offset, size, link, entsize))

        def string(table_offset: int, at: int) -> str:
            end = data.index(b"\0", table_offset + at)
            return data[table_offset + at:end].decode(errors="replace")

        names_at = sections[shstrndx][3] if shstrndx < len(sections) else None
        self.sections = sorted((addr, addr + size, string(names_at, name)) for name, kind, addr, _, size, _, _ in
                               sections if addr and size and names_at is not None)
        symbols = {}
        for _, kind, _, offset, size, link, entsize in sections:
            if kind not in (SHT_SYMTAB, SHT_DYNSYM) or not entsize:
                continue
            strings = sections[link][3]
            for at in range(offset, offset + size, entsize):
                if wide:
                    name, info, _, _, value, sym_size = struct.unpack_from("<IBBHQQ", data, at)
                else:
                    name, value, sym_size, info = struct.unpack_from("<IIIB", data, at)
                if info & 0xF in (STT_FUNC, STT_GNU_IFUNC) and value and sym_size and name:
                    start = value & ~1  # ARM: bit 0 marks Thumb code
                    symbols.setdefault((start, start + sym_size), string(strings, name))
        self.symbols = sorted((start, end, name) for (start, end), name in symbols.items())
        self._starts = [start for start, _, _ in self.symbols]

    def address_of(self, file_offset: int) -> int | None:
        for offset, size, vaddr in self.segments:
            if offset <= file_offset < offset + size:
                return vaddr + file_offset - offset
        return None

    def name_of(self, file_offset: int) -> str:
        """The function (or else the section) at file_offset, with the file's name."""
        address = self.address_of(file_offset)
        if address is None:
            return f"[{self.label}]"
        i = bisect.bisect_right(self._starts, address) - 1
        # A few symbols back: sized symbols can overlap (an alias with a longer body).
        for start, end, name in reversed(self.symbols[max(0, i - 7):i + 1]):
            if start <= address < end:
                return f"{name} [{self.label}]"
        for start, end, name in self.sections:
            if start <= address < end:
                return f"[{self.label} {name}]"
        return f"[{self.label}]"


def name_locations(locations: dict[tuple[str, int], int]) -> dict[str, int]:
    """{(path, file offset): count} -> {function name [file]: count}."""
    files: dict[str, ElfNames | None] = {}
    named: dict[str, int] = {}
    for (path, offset), count in locations.items():
        if path not in files:
            try:
                files[path] = ElfNames(path)
            except (OSError, ValueError, struct.error):
                files[path] = None
        elf = files[path]
        name = elf.name_of(offset) if elf is not None else f"[{Path(path).name}]"
        named[name] = named.get(name, 0) + count
    return named


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
        elif fields[0] == "location" and len(fields) == 4:
            key = (fields[3], int(fields[2], 16))
            result.per_location[key] = result.per_location.get(key, 0) + int(fields[1])
        else:
            raise QemuCountError(f"unexpected line in the plugin report: {line!r}")
    if total is None:
        raise QemuCountError("the plugin report has no total (did qemu load the plugin?)")
    result.total = total
    return result


def count_instructions(binary, args=(), arch="arm64", symbols=False, env=None,
                       threads=False, libraries=False) -> CountResult:
    """Runs `binary args...` under qemu for `arch` ("arm64" or "arm32") and
    returns the number of guest instructions it executed (per symbol too if
    `symbols`, per guest thread too if `threads`, "[other]" by library function
    too if `libraries`: needs symbols and not threads). `env` adds environment
    variables for the guest."""
    if libraries and (threads or not symbols):
        raise QemuCountError("libraries=True needs symbols=True and threads=False")
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
                      f"threads={'on' if threads else 'off'},libraries={'on' if libraries else 'off'}")
        cmd = [qemu, "-L", sysroot, "-plugin", plugin_arg, str(binary), *map(str, args)]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, **(env or {})})
        if proc.returncode != 0:
            raise QemuCountError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr}")
        if not report.exists():
            raise QemuCountError(f"qemu wrote no plugin report; stderr:\n{proc.stderr}")
        result = parse_report(report.read_text())
    result.stdout = proc.stdout
    result.per_library_symbol = name_locations(result.per_location)
    return result
