#!/usr/bin/env bash
# Sets up everything the demo and the tests need, idempotently:
#   - the Debian packages below (installed when missing and run as root)
#   - a virtualenv in .venv with irnet-infer installed in editable mode, its EXTRAS and its
#     Python build requirements (scikit-build-core, pybind11)
# Safe to run again: each step is skipped when already done.
# scripts/test.sh checks each suite's tools before it starts; scripts/fresh_check.sh (the `fresh`
# suite) runs the demo and those checks in a new Debian 12 root, so a package dropped from this
# list fails CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
  g++ make cmake ninja-build                       # engine, Python extension, qemu counting plugin
  python3-venv python3-dev ca-certificates        # .venv, the extension's headers, pip over https
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf   # arm64 / arm32 cross builds
  qemu-user                                       # runs them (and counts instructions)
  clang libclang-rt-14-dev                        # fuzz suite: libFuzzer with ASan + UBSan
  llvm                                            # llvm-mca (benchmarks' Cortex-A53 estimate)
  debootstrap git                                 # fresh suite: a new Debian root, a clean clone
  qemu-user-static                                # pi suite: emulated arm64/armhf Debian roots
)
# The pyproject.toml extras installed into .venv: the converter, the demo's and the tests' needs.
# The train extra (torch==2.13.0, for training and the tests marked `torch`) only where
# IRNET_REQUIRE_TORCH=1, as in CI: it is not needed by the demo and is large.
EXTRAS="convert,test,demo"
if [ "${IRNET_REQUIRE_TORCH:-}" = 1 ]; then EXTRAS="$EXTRAS,train"; fi

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "[bootstrap] installing Debian packages: ${missing[*]}"
      start=$SECONDS
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
        --no-install-recommends "${missing[@]}" >/dev/null
      echo "[bootstrap] Debian packages installed in $((SECONDS - start)) s"
    else
      echo "[bootstrap] warning: not root, cannot install Debian packages: ${missing[*]}" \
           "(scripts/test.sh names the suites that need them)" >&2
    fi
  fi
else
  echo "[bootstrap] warning: not a Debian system; install the equivalents of: ${APT_PACKAGES[*]}" >&2
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
stamp=".venv/.irnet-deps-$( (cat pyproject.toml scripts/bootstrap.sh; echo "$EXTRAS") | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "[bootstrap] installing Python packages into .venv (extras: $EXTRAS)"
  start=$SECONDS
  "$VPY" -m pip install -q --upgrade pip
  # Build requirements first, so the editable install can skip build isolation (faster
  # rebuilds, no second download); cmake and ninja are Debian's (pip's cmake adds 86 MB).
  "$VPY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
  "$VPY" -m pip install -q --no-build-isolation -e ".[$EXTRAS]"
  rm -f .venv/.irnet-deps-*
  touch "$stamp"
  echo "[bootstrap] Python packages installed and the extension built in $((SECONDS - start)) s"
else
  # Sources may have changed: rebuild the extension (incremental).
  "$VPY" -m pip install -q --no-build-isolation --no-deps -e . >/dev/null
fi
