#!/usr/bin/env bash
# The test command: every test the project has, natively and under qemu.
#   scripts/test.sh            all suites
#   scripts/test.sh native     C++ tests, native build (all x86 kernel variants the CPU has)
#   scripts/test.sh arm64      C++ tests cross-built for aarch64, run under qemu-aarch64
#   scripts/test.sh arm32      C++ tests cross-built for armv7 NEON, run under qemu-arm
#   scripts/test.sh python     pytest (bindings, format, converter vs onnxruntime, demo check)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
export PATH="$ROOT/.venv/bin:$PATH"
JOBS="${JOBS:-$(nproc)}"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(native arm64 arm32 python)

ctest_suite() {  # name, extra cmake args...
  local name="$1"; shift
  echo "=== C++ tests: $name ==="
  cmake -S . -B "build/$name" -G Ninja -DIRNET_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "build/$name" -j "$JOBS"
  ctest --test-dir "build/$name" --output-on-failure -j "$JOBS"
}

example_check() {  # a find_package(irnet) consumer builds and runs against the installed tree
  echo "=== C++ example (examples/cpp) against the installed irnet ==="
  cmake --install build/native --prefix build/native-install >/dev/null
  cmake -S examples/cpp -B build/native-example -G Ninja -DCMAKE_PREFIX_PATH="$ROOT/build/native-install" >/dev/null
  cmake --build build/native-example -j "$JOBS"
  python -m irnet_infer.convert models/irnet_digits.onnx -o build/native-example/digits.irb >/dev/null
  build/native-example/irnet_classify build/native-example/digits.irb 2 | tail -n 3
}

irnet_run_cross_check() {  # name, emulator...: the cross-built irnet-run agrees with the native engine
  local name="$1"; shift
  echo "=== irnet-run ($name, under $1) vs the native engine ==="
  python tests/python/test_runtime.py --cross "$* build/$name/irnet-run"
}

for suite in "${suites[@]}"; do
  case "$suite" in
    native) ctest_suite native; example_check ;;
    arm64)  ctest_suite arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
            irnet_run_cross_check arm64 qemu-aarch64 -L /usr/aarch64-linux-gnu ;;
    arm32)  ctest_suite arm32 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
            irnet_run_cross_check arm32 qemu-arm -L /usr/arm-linux-gnueabihf ;;
    python) echo "=== Python tests ==="; python -m pytest -q tests/python ;;
    *) echo "unknown suite '$suite' (native, arm64, arm32, python)" >&2; exit 2 ;;
  esac
done
