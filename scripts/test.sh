#!/usr/bin/env bash
# The test command: every test the project has, natively and under qemu.
#   scripts/test.sh            all suites (fresh only when CI=true)
#   scripts/test.sh native     C++ tests, native build (all x86 kernel variants the CPU has)
#   scripts/test.sh arm64      C++ tests cross-built for aarch64, run under qemu-aarch64
#   scripts/test.sh arm32      C++ tests cross-built for armv7 NEON, run under qemu-arm
#   scripts/test.sh python     pytest (bindings, format, converter vs onnxruntime, demo check)
#   scripts/test.sh asan       C++ tests, native build with AddressSanitizer + UBSan
#   scripts/test.sh fuzz       short libFuzzer pass on the .irb loader + converter mutation fuzz
#                              (FUZZ_SECONDS, default 60; see docs/hardening.md)
#   scripts/test.sh pi         Raspberry Pi OS: cross-built aarch64/armv7l wheels installed runtime-only
#                              in emulated Debian 12 roots, checked against x86 (as root; docs/pi.md)
#   scripts/test.sh fresh      scripts/fresh_check.sh: the demo and every suite's tool check in a
#                              new Debian 12 root (as root; by default only when CI=true)
#   scripts/test.sh tools      only the tool check of every suite
# The tools of every requested suite are checked before the first suite starts.
# CI=true implies IRNET_REQUIRE_TORCH=1: the train extra (torch) is installed and the tests
# marked `torch` must run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${CI:-}" = true ]; then export IRNET_REQUIRE_TORCH="${IRNET_REQUIRE_TORCH:-1}"; fi
"$ROOT/scripts/bootstrap.sh"
export PATH="$ROOT/.venv/bin:$PATH"
JOBS="${JOBS:-$(nproc)}"
ALL_SUITES=(native arm64 arm32 python asan fuzz pi fresh)
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  suites=(native arm64 arm32 python asan fuzz pi)
  if [ "${CI:-}" = true ]; then suites+=(fresh); fi
fi

suite_tools() {  # suite -> "tool Debian-package" pairs, one per line ("venv": pip, in .venv); bootstrap installs them
  case "$1" in
    native) printf '%s\n' "c++ g++" "cmake cmake" "ninja ninja-build" ;;
    arm64)  printf '%s\n' "cmake cmake" "ninja ninja-build" "aarch64-linux-gnu-g++ g++-aarch64-linux-gnu" \
                          "qemu-aarch64 qemu-user" ;;
    arm32)  printf '%s\n' "cmake cmake" "ninja ninja-build" "arm-linux-gnueabihf-g++ g++-arm-linux-gnueabihf" \
                          "qemu-arm qemu-user" ;;
    python) printf '%s\n' "pytest venv" "make make" "cc gcc" "aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu" \
                          "qemu-aarch64 qemu-user" ;;
    asan)   printf '%s\n' "c++ g++" "cmake cmake" "ninja ninja-build" ;;
    fuzz)   printf '%s\n' "cmake cmake" "ninja ninja-build" "clang clang" "clang++ clang" \
                          "libFuzzer libclang-rt-14-dev" ;;
    fresh)  printf '%s\n' "debootstrap debootstrap" "git git" "chroot coreutils" ;;
    pi)     printf '%s\n' "debootstrap debootstrap" "qemu-aarch64-static qemu-user-static" \
                          "qemu-arm-static qemu-user-static" "aarch64-linux-gnu-g++ g++-aarch64-linux-gnu" \
                          "arm-linux-gnueabihf-g++ g++-arm-linux-gnueabihf" ;;
  esac
}

have_tool() {  # libFuzzer: clang++ links a fuzz target with the fuzz suite's sanitizers
  if [ "$1" != libFuzzer ]; then command -v "$1" >/dev/null 2>&1; return; fi
  local dir; dir="$(mktemp -d)"
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$dir/target.cc"
  local ok=0
  clang++ -fsanitize=fuzzer,address,undefined "$dir/target.cc" -o "$dir/target" >/dev/null 2>&1 || ok=1
  rm -rf "$dir"
  return "$ok"
}

check_tools() {  # suites...: every missing tool with its Debian package; non-zero if any
  local suite tool pkg missing=0
  for suite in "$@"; do
    while read -r tool pkg; do
      [ -n "$tool" ] || continue
      if have_tool "$tool"; then continue; fi
      if [ "$pkg" = venv ]; then
        echo "suite $suite needs $tool in .venv: rerun scripts/bootstrap.sh" >&2
      else
        echo "suite $suite needs $tool: install the Debian package $pkg (scripts/bootstrap.sh does, as root)" >&2
      fi
      missing=1
    done < <(suite_tools "$suite")
    if { [ "$suite" = fresh ] || [ "$suite" = pi ]; } && [ "$(id -u)" != 0 ]; then
      echo "suite $suite needs root (debootstrap, chroot, mount)" >&2
      missing=1
    fi
  done
  return "$missing"
}

tools_only=0
if [ "${suites[*]}" = tools ]; then suites=("${ALL_SUITES[@]}"); tools_only=1; fi
for suite in "${suites[@]}"; do
  case " ${ALL_SUITES[*]} " in
    *" $suite "*) ;;
    *) echo "unknown suite '$suite' (${ALL_SUITES[*]}, or tools alone)" >&2; exit 2 ;;
  esac
done
echo "=== tool check: ${suites[*]} ==="
check_tools "${suites[@]}" || { echo "tool check failed: no suite was run" >&2; exit 1; }
echo "all tools present"
[ "$tools_only" = 1 ] && exit 0

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
    fresh)  echo "=== fresh Debian 12 root: scripts/fresh_check.sh ==="; scripts/fresh_check.sh ;;
    pi)     pi_suite ;;
  esac
done
