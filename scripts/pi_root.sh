#!/usr/bin/env bash
# An emulated Debian 12 (bookworm) root file system for a Raspberry Pi OS target,
# built from nothing with debootstrap when absent and run through qemu-user-static.
#   scripts/pi_root.sh build ARCH [DIR]        build the root once (ARCH: arm64 or armhf)
#   scripts/pi_root.sh run ARCH [DIR] -- CMD   run CMD (a shell command) inside it as root
# DIR defaults to $IRNET_PI_ROOTS/ARCH (IRNET_PI_ROOTS defaults to /var/cache/irnet-pi-roots,
# outside the repository). The root holds what a Pi user installs with apt for the
# runtime-only path: python3-numpy (1.24) and python3-venv, plus ca-certificates.
# Needs root (debootstrap, chroot, binfmt_misc).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/chroot.sh"

usage() { echo "usage: $0 build|run ARCH [DIR] [-- CMD]  (ARCH: arm64, armhf)" >&2; exit 2; }
[ $# -ge 2 ] || usage
action="$1" arch="$2"; shift 2
root_dir="${IRNET_PI_ROOTS:-/var/cache/irnet-pi-roots}/$arch"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then root_dir="$1"; shift; fi
case "$arch" in
  arm64) qemu_name=aarch64 ;;
  armhf) qemu_name=arm ;;
  *) usage ;;
esac
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOT_PACKAGES="python3-numpy,python3-venv,ca-certificates"

log() { echo "[pi_root $arch] $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "$0: needs root (debootstrap, chroot and binfmt_misc registration)" >&2
  exit 1
fi

ensure_host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ -x "/usr/bin/qemu-$qemu_name-static" ] || missing+=(qemu-user-static)
  [ -f "/usr/lib/binfmt.d/qemu-$qemu_name.conf" ] || missing+=(qemu-user-static)
  [ -d /usr/share/keyrings ] && [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] \
    || missing+=(debian-archive-keyring)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]} binfmt-support"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" binfmt-support >/dev/null
  fi
}

# Registers qemu-<arch>-static for foreign ELF binaries with the F flag (the kernel opens
# the interpreter at registration, so it also runs inside the chroot, where it does not exist).
ensure_binfmt() {
  local bm=/proc/sys/fs/binfmt_misc entry
  [ -f "$bm/register" ] || mount -t binfmt_misc binfmt_misc "$bm"
  entry="$bm/qemu-$qemu_name"
  if [ -f "$entry" ]; then
    if grep -q '^enabled' "$entry" && grep -Eq '^flags:.*F' "$entry"; then return 0; fi
    log "re-registering $entry with the F flag"
    echo -1 > "$entry"
  fi
  # Debian's qemu-user-static ships the magic/mask line (flags OPF) for systemd-binfmt.
  grep -v '^#' "/usr/lib/binfmt.d/qemu-$qemu_name.conf" > "$bm/register"
  grep -Eq '^flags:.*F' "$entry" || { log "could not register $entry with the F flag"; exit 1; }
}

build_root() {
  [ -f "$root_dir/.irnet-root-complete" ] && return 0
  local tmp="$root_dir.partial" start=$SECONDS
  rm -rf "$tmp"
  mkdir -p "$(dirname "$root_dir")"
  log "debootstrap bookworm ($MIRROR) into $tmp"
  if ! debootstrap --arch="$arch" --variant=minbase --include="$ROOT_PACKAGES" \
       bookworm "$tmp" "$MIRROR" >"$tmp.log" 2>&1; then
    tail -n 30 "$tmp.log" >&2
    log "debootstrap failed (log $tmp.log)"
    exit 1
  fi
  rm -f "$tmp.log"
  chroot "$tmp" apt-get clean
  touch "$tmp/.irnet-root-complete"
  rm -rf "$root_dir"
  mv "$tmp" "$root_dir"
  log "built $root_dir in $((SECONDS - start)) s"
}

run_in_root() {  # shell command; /proc, /sys and /dev mounted for the call
  local status=0
  trap chroot_unmount EXIT
  trap 'exit 130' INT TERM HUP
  chroot_mount_system "$root_dir" && chroot_exec "$root_dir" "$1" || status=$?
  chroot_unmount
  return "$status"
}

ensure_host_tools
ensure_binfmt
build_root
chroot_host_config "$root_dir"
case "$action" in
  build) echo "$root_dir" ;;
  run)
    [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || usage
    run_in_root "$*" ;;
  *) usage ;;
esac
