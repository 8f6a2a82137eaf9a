#!/usr/bin/env bash
# The test command: every test the project has, natively and under qemu.
#   scripts/test.sh            all suites
#   scripts/test.sh native     C++ tests, native build (all x86 kernel variants the CPU has)
#   scripts/test.sh arm64      C++ tests cross-built for aarch64, run under qemu-aarch64
#   scripts/test.sh arm32      C++ tests cross-built for armv7 NEON, run under qemu-arm
#   scripts/test.sh python     pytest (bindings, format, converter vs onnxruntime, demo check)
#   scripts/test.sh asan       C++ tests, native build with AddressSanitizer + UBSan
#   scripts/test.sh fuzz       short libFuzzer pass on the .irb loader + converter mutation fuzz
#                              (FUZZ_SECONDS, default 60; see docs/hardening.md)
#   scripts/test.sh pi         Raspberry Pi OS: cross-built aarch64/armv7l wheels installed runtime-only
#                              in emulated Debian 12 roots, checked against x86 (as root; docs/pi.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/bootstrap.sh"
export PATH="$ROOT/.venv/bin:$PATH"
JOBS="${JOBS:-$(nproc)}"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(native arm64 arm32 python asan fuzz pi)

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

fuzz_suite() {  # libFuzzer on the loader (clang, ASan + UBSan), then the converter loop
  local seconds="${FUZZ_SECONDS:-60}"
  echo "=== fuzz: .irb loader (libFuzzer, ${seconds} s) ==="
  cmake -S tests/fuzz -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
  cmake --build build/fuzz -j "$JOBS" --target irb_loader_fuzzer
  mkdir -p build/fuzz/corpus build/fuzz/artifacts
  # The first directory collects new inputs; the committed seeds are only read. Any crash,
  # sanitizer report, leak, 10 s timeout or 2 GB of RSS makes libFuzzer exit non-zero.
  local log=build/fuzz/irb_loader_fuzzer.log
  if ! build/fuzz/irb_loader_fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1 \
       build/fuzz/corpus tests/fuzz/corpus/irb >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "fuzz: the .irb loader fuzzer failed (log $log, reproducer in build/fuzz/artifacts/)" >&2
    return 1
  fi
  grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec)" "$log"
  echo "=== fuzz: irnet-convert on mutated ONNX ($((seconds / 2)) s) ==="
  python tests/fuzz/convert_fuzz.py --seconds "$((seconds / 2))" --crash-dir build/fuzz/convert-crashes
}

pi_suite() {  # per Raspberry Pi OS architecture, both at once (mostly one emulated process each):
  # cross-build the wheel, then check it in the emulated Debian 12 root (tools/pi_check.py)
  local arch status=0 pids=()
  mkdir -p build/pi-wheel
  for arch in arm64 armhf; do
    ( wheel="$(scripts/pi_wheel.sh "$arch" build/pi-wheel/dist)" &&
      python tools/pi_check.py wheel "$arch" "$wheel" ) >"build/pi-wheel/$arch.log" 2>&1 &
    pids+=($!)
  done
  for arch in arm64 armhf; do
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
    echo "=== Raspberry Pi OS $arch: cross-built wheel, runtime-only install in an emulated Debian 12 root ==="
    cat "build/pi-wheel/$arch.log"
  done
  return "$status"
}

for suite in "${suites[@]}"; do
  case "$suite" in
    native) ctest_suite native; example_check ;;
    arm64)  ctest_suite arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
            irnet_run_cross_check arm64 qemu-aarch64 -L /usr/aarch64-linux-gnu ;;
    arm32)  ctest_suite arm32 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
            irnet_run_cross_check arm32 qemu-arm -L /usr/arm-linux-gnueabihf ;;
    python) echo "=== Python tests ==="; python -m pytest -q tests/python ;;
    asan)   ctest_suite asan -DIRNET_SANITIZE=ON -DIRNET_BUILD_TOOLS=OFF ;;
    fuzz)   fuzz_suite ;;
    pi)     pi_suite ;;
    *) echo "unknown suite '$suite' (native, arm64, arm32, python, asan, fuzz, pi)" >&2; exit 2 ;;
  esac
done
