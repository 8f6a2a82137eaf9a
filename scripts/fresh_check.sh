#!/usr/bin/env bash
# The README's Quick start on a bare machine: builds a minimal Debian 12 (bookworm) root file
# system with debootstrap, copies a clean clone of the current commit into it (committed files
# only), and runs the README's commands in it as root, exactly as written (chroot, with /proc,
# /sys and /dev mounted; everything is unmounted on exit, failure included).
#   scripts/fresh_check.sh          scripts/demo.sh, then scripts/test.sh tools (what CI runs)
#   scripts/fresh_check.sh --full   scripts/demo.sh, then scripts/test.sh (every suite)
# Prints each step's status and time and a summary, also written to build/fresh/report.md with
# each step's log beside it. Needs root, debootstrap and git. Environment:
#   FRESH_DIR      where the root is built (default /var/tmp/irnet-fresh); the root is deleted
#                  afterwards unless FRESH_KEEP=1
#   FRESH_CACHE    cache folder (default /var/cache/irnet-fresh): the debootstrap base tarball, used
#                  when younger than 7 days, else built and stored; and apt's download cache, mounted
#                  into the root (bootstrap still installs every package itself).
#                  FRESH_CACHE= builds from nothing and downloads everything
#   DEBIAN_MIRROR  default http://deb.debian.org/debian
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source "$ROOT/scripts/lib/chroot.sh"

mode=tools
case "${1:-}" in
  "") ;;
  --full) mode=full ;;
  *) echo "usage: scripts/fresh_check.sh [--full]" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then echo "fresh_check: needs root (debootstrap, chroot, mount)" >&2; exit 1; fi
for tool in debootstrap git chroot; do
  command -v "$tool" >/dev/null || { echo "fresh_check: needs $tool (Debian package ${tool/chroot/coreutils})" >&2; exit 1; }
done

SUITE=bookworm
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${FRESH_CACHE-/var/cache/irnet-fresh}"
BASE_TAR="${CACHE:+$CACHE/$SUITE-minbase-$ARCH.tar}"
WORK="${FRESH_DIR:-/var/tmp/irnet-fresh}"
FS="$WORK/root.$$"
REPO_IN_ROOT=/root/irnet-infer
REPORT_DIR="$ROOT/build/fresh"
COMMIT="$(git rev-parse HEAD)"
mkdir -p "$WORK" "$REPORT_DIR"
rm -f "$REPORT_DIR"/*.log
summary=()

cleanup() {
  chroot_unmount
  if [ -d "$FS" ] && [ "${FRESH_KEEP:-0}" != 1 ]; then
    if findmnt -rn -o TARGET | grep -q "^$FS/"; then
      echo "fresh_check: $FS still has mounts; not deleting it" >&2
    else
      rm -rf --one-file-system "$FS"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

step() {  # name, command...: runs it in this shell, output shown and logged; records status and time
  local name="$1"; shift
  local start=$SECONDS status=0 result
  echo "=== fresh: $name ==="
  "$@" > >(tee "$REPORT_DIR/${name//[^A-Za-z0-9.]/_}.log") 2>&1 || status=$?
  wait $! 2>/dev/null || true  # tee has written everything
  result="$([ "$status" = 0 ] && echo ok || echo "FAILED, exit $status")"
  summary+=("| $name | $result | $((SECONDS - start)) s |")
  echo "--- fresh: $name: $result in $((SECONDS - start)) s"
  return "$status"
}

make_base() {
  if [ -n "$BASE_TAR" ] && [ -f "$BASE_TAR" ] && [ -n "$(find "$BASE_TAR" -mtime -7)" ]; then
    echo "unpacking the cached debootstrap base $BASE_TAR"
    mkdir -p "$FS" && tar -C "$FS" -xpf "$BASE_TAR"
    return
  fi
  debootstrap --variant=minbase "$SUITE" "$FS" "$MIRROR" || return
  if [ -n "$BASE_TAR" ]; then
    mkdir -p "$CACHE" && tar -C "$FS" -cpf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR" || return
    echo "cached the base as $BASE_TAR"
  fi
}

prepare_root() {
  chroot_host_config "$FS" || return
  chroot_mount_system "$FS" || return
  if [ -n "$CACHE" ]; then
    mkdir -p "$CACHE/apt-archives/partial" || return
    chroot_bind "$CACHE/apt-archives" "$FS/var/cache/apt/archives" || return
    echo "apt's download cache: $CACHE/apt-archives"
  fi
  echo "Debian $(cat "$FS/etc/debian_version") ($ARCH) in $FS; /proc, /sys, /dev mounted"
}

clone_commit() {
  git clone --quiet --no-hardlinks "$ROOT" "$FS$REPO_IN_ROOT" || return
  git -C "$FS$REPO_IN_ROOT" checkout --quiet --detach "$COMMIT" || return
  echo "clean clone of $COMMIT at $REPO_IN_ROOT"
  if [ -n "$(git status --porcelain)" ]; then
    echo "note: this working tree has uncommitted changes; they are not part of the check"
  fi
}

in_root() {  # command line, run as root in the repository inside the fresh root
  chroot_exec "$FS" "cd $REPO_IN_ROOT && $1"
}

venv_size() {
  local mb
  mb="$(du -sm "$FS$REPO_IN_ROOT/.venv" | cut -f1)" || return
  echo "the demo's .venv: $mb MB"
  summary+=("| .venv size | $mb MB | |")
}

start=$SECONDS
echo "fresh_check: Debian 12 ($SUITE, $ARCH) root for commit $COMMIT, mode $mode"
test_command="scripts/test.sh tools"
[ "$mode" = full ] && test_command="scripts/test.sh"
status=0
step base make_base &&
  step prepare prepare_root &&
  step clone clone_commit &&
  step "scripts/demo.sh" in_root "scripts/demo.sh" &&
  venv_size &&
  step "$test_command" in_root "$test_command" ||
  status=$?

{
  echo "fresh_check ($mode) of $COMMIT, $(date -u '+%Y-%m-%d %H:%M UTC'), total $((SECONDS - start)) s"
  echo
  echo "| step | status | time |"
  echo "|---|---|---|"
  printf '%s\n' "${summary[@]}"
} | tee "$REPORT_DIR/report.md"
exit "$status"
