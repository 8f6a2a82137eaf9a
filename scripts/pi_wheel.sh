#!/usr/bin/env bash
# Cross-compiles the irnet-infer wheel for Raspberry Pi OS bookworm (Debian 12, CPython 3.11):
#   scripts/pi_wheel.sh arm64 [OUT_DIR]   -> irnet_infer-<version>-cp311-cp311-linux_aarch64.whl
#   scripts/pi_wheel.sh armhf [OUT_DIR]   -> irnet_infer-<version>-cp311-cp311-linux_armv7l.whl
# OUT_DIR defaults to dist/. Prints the wheel's path on stdout (everything else goes to stderr). Uses the project's toolchain files (cmake/toolchains) and the
# target's CPython 3.11 headers from Debian's libpython3.11-dev for that architecture, fetched
# with apt inside the emulated root (scripts/pi_root.sh). The wheel's irnet-run is static.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
arch="${1:?usage: $0 arm64|armhf [OUT_DIR]}"
out_dir="$(realpath -m "${2:-dist}")"
case "$arch" in
  arm64) triplet=aarch64-linux-gnu; toolchain=aarch64-linux-gnu.cmake; platform=linux-aarch64 ;;
  armhf) triplet=arm-linux-gnueabihf; toolchain=arm-linux-gnueabihf.cmake; platform=linux-armv7l ;;
  *) echo "$0: unknown architecture '$arch' (arm64, armhf)" >&2; exit 2 ;;
esac
PY_VERSION=3.11
ext_suffix=".cpython-${PY_VERSION/./}-$triplet.so"
work="$ROOT/build/pi-wheel/$arch"

# The target's Python headers: Debian's generic include/python3.11 with the architecture's own
# pyconfig.h in place of the multiarch wrapper that selects it by compiler macros.
headers="$work/include/python$PY_VERSION"
if [ ! -f "$headers/Python.h" ]; then
  root_dir="$("$ROOT/scripts/pi_root.sh" build "$arch")"
  "$ROOT/scripts/pi_root.sh" run "$arch" -- \
    "apt-get update -qq && cd /tmp && rm -f libpython$PY_VERSION-dev_*.deb && apt-get download -q libpython$PY_VERSION-dev" >&2
  rm -rf "$work/deb" "$work/include"
  mkdir -p "$work"
  dpkg-deb -x "$root_dir"/tmp/libpython$PY_VERSION-dev_*.deb "$work/deb"
  rm -f "$root_dir"/tmp/libpython$PY_VERSION-dev_*.deb
  mkdir -p "$work/include"
  cp -r "$work/deb/usr/include/python$PY_VERSION" "$headers"
  cp "$work/deb/usr/include/$triplet/python$PY_VERSION/pyconfig.h" "$headers/pyconfig.h"
  rm -rf "$work/deb"
fi

[ -x "$ROOT/.venv/bin/python" ] || "$ROOT/scripts/bootstrap.sh" >&2  # scikit-build-core, pybind11, cmake
mkdir -p "$out_dir"
# scikit-build-core takes the wheel's platform tag from _PYTHON_HOST_PLATFORM; pybind11 names the
# module from PYTHON_MODULE_EXTENSION (the host interpreter would give the x86-64 suffix).
_PYTHON_HOST_PLATFORM="$platform" SETUPTOOLS_EXT_SUFFIX="$ext_suffix" \
"$ROOT/.venv/bin/python" -m pip wheel --no-build-isolation --no-deps -q -w "$out_dir" \
  -C build-dir="$work/build" \
  -C cmake.define.CMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/$toolchain" \
  -C cmake.define.Python_INCLUDE_DIR="$headers" \
  -C cmake.define.Python3_INCLUDE_DIR="$headers" \
  -C cmake.define.PYTHON_MODULE_EXTENSION="$ext_suffix" \
  -C cmake.define.PYTHON_MODULE_DEBUG_POSTFIX="" \
  -C cmake.define.PYTHON_IS_DEBUG=OFF \
  -C cmake.define.IRNET_STATIC_RUN=ON \
  "$ROOT" >&2
wheel="$(ls -t "$out_dir"/irnet_infer-*-cp311-cp311-${platform/-/_}.whl | head -n 1)"
# The wheel must hold an extension and an irnet-run of the target architecture.
python3 - "$wheel" "$triplet" <<'EOF'
import sys, zipfile
wheel, triplet = sys.argv[1:]
machine = {"aarch64-linux-gnu": 0xB7, "arm-linux-gnueabihf": 0x28}[triplet]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    engine = [n for n in names if n.startswith("irnet_infer/_engine.") and n.endswith(f"-{triplet}.so")]
    run = [n for n in names if n == "irnet_infer/bin/irnet-run"]
    if not engine or not run:
        sys.exit(f"{wheel}: expected irnet_infer/_engine.*-{triplet}.so and irnet_infer/bin/irnet-run, got {names}")
    for name in engine + run:
        head = z.read(name)[:20]
        if head[:4] != b"\x7fELF" or int.from_bytes(head[18:20], "little") != machine:
            sys.exit(f"{wheel}: {name} is not an ELF file for {triplet}")
EOF
echo "$wheel"
