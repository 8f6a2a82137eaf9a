#!/usr/bin/env bash
# Sets up everything the demo and the tests need, idempotently:
#   - Debian packages: cross compilers for aarch64/armv7, qemu-user, llvm (llvm-mca)
#   - a virtualenv in .venv with irnet-infer installed in editable mode
# Safe to run again: each step is skipped when already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES="gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabihf \
g++-arm-linux-gnueabihf qemu-user llvm ninja-build"
need_apt=0
for tool in aarch64-linux-gnu-g++ arm-linux-gnueabihf-g++ qemu-aarch64 qemu-arm llvm-mca ninja; do
  command -v "$tool" >/dev/null 2>&1 || need_apt=1
done
if [ "$need_apt" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[bootstrap] installing Debian packages: $APT_PACKAGES"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
  else
    echo "[bootstrap] warning: not root, cannot apt-get install $APT_PACKAGES;" \
         "cross-architecture tests will be unavailable" >&2
  fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
stamp=".venv/.irnet-deps-$(cat pyproject.toml scripts/bootstrap.sh | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "[bootstrap] installing Python packages into .venv"
  "$VPY" -m pip install -q --upgrade pip
  # Build requirements first, so the editable install can skip build isolation
  # (faster rebuilds, no second download of the build tools).
  "$VPY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja
  "$VPY" -m pip install -q --no-build-isolation -e ".[convert,test,train,bench]"
  touch "$stamp"
else
  # Sources may have changed: rebuild the extension (incremental).
  "$VPY" -m pip install -q --no-build-isolation --no-deps -e . >/dev/null
fi
