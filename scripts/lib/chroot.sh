# Running commands in a Debian root file system with chroot; sourced by scripts/fresh_check.sh
# (a fresh amd64 root) and scripts/pi_root.sh (emulated Raspberry Pi OS roots).
#   chroot_host_config DIR     the host's resolv.conf and CA bundle into the root, the bundle
#                              trusted by pip (/etc/pip.conf), for networks that intercept TLS
#   chroot_mount_system DIR    /proc, /sys and /dev into the root (each unless already mounted)
#   chroot_bind SRC DIR        bind-mounts SRC on DIR
#   chroot_unmount             unmounts what the two above mounted, last first
#   chroot_exec DIR CMD        runs the shell command CMD in the root as root, clean environment
# Mounts are recorded in CHROOT_MOUNTS; a caller unmounts in its EXIT trap or after the command.

CHROOT_MOUNTS=()

chroot_host_config() {
  local root="$1"
  cp /etc/resolv.conf "$root/etc/resolv.conf" || return
  # A separate file: the root's ca-certificates package rewrites its own bundle when installed.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca-bundle.pem" || return
    printf '[global]\ncert = /etc/host-ca-bundle.pem\n' >"$root/etc/pip.conf" || return
  fi
}

chroot_mount_system() {
  local root="$1"
  if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc" && CHROOT_MOUNTS+=("$root/proc") || return
  fi
  if ! mountpoint -q "$root/sys"; then
    mount -t sysfs sysfs "$root/sys" && CHROOT_MOUNTS+=("$root/sys") || return
  fi
  if ! mountpoint -q "$root/dev"; then
    mount --rbind /dev "$root/dev" && CHROOT_MOUNTS+=("$root/dev") && mount --make-rslave "$root/dev" || return
  fi
}

chroot_bind() {
  mkdir -p "$1" "$2" || return
  mount --bind "$1" "$2" && CHROOT_MOUNTS+=("$2")
}

chroot_unmount() {
  local i
  for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -R "${CHROOT_MOUNTS[i]}" 2>/dev/null || umount -lR "${CHROOT_MOUNTS[i]}" 2>/dev/null || true
  done
  CHROOT_MOUNTS=()
}

chroot_exec() {
  env -i HOME=/root LANG=C.UTF-8 TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    chroot "$1" /bin/sh -c "$2"
}
