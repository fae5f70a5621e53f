#!/bin/sh
# Makes this machine able to run compose.yaml with podman (FIELD-NOTES.md, "Containers"):
# podman, runc and debootstrap from Debian; runc with cgroupfs (the host's hybrid cgroups stop
# crun and systemd); the vfs storage driver (no overlay here); a nofile limit under the host's
# hard limit; and a debian:bookworm-slim base image made locally with debootstrap, since no
# image registry is reachable. Idempotent: every step is skipped when already done. As root.
set -eu

BASE=docker.io/library/debian:bookworm-slim

if [ "$(id -u)" != 0 ]; then
  echo "host-setup: run as root (it installs packages and writes /etc/containers)" >&2
  exit 1
fi

missing=""
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi

# Written once, marked; a file someone else wrote is left alone (say so, and go on: podman's
# own flags below would still be needed).
write_conf() {
  target=$1
  if [ -f "$target" ] && ! grep -q '^# keerpunt host-setup' "$target"; then
    echo "host-setup: $target exists and was not written by Keerpunt; check it holds: $2" >&2
    return
  fi
  mkdir -p "$(dirname "$target")"
  printf '# keerpunt host-setup (deploy/local/host-setup.sh)\n%s\n' "$3" > "$target.tmp"
  if ! cmp -s "$target.tmp" "$target"; then mv "$target.tmp" "$target"; else rm "$target.tmp"; fi
}

write_conf /etc/containers/containers.conf "runc, cgroupfs, nofile 20000" '[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'

write_conf /etc/containers/storage.conf "driver vfs" '[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"'

# A base made before / got its mode right is made again.
if podman image exists "$BASE" && [ "$(podman run --rm --user 65534 "$BASE" sh -c 'echo ok' 2>/dev/null)" != ok ]; then
  podman rmi -f "$BASE" >/dev/null
fi
if ! podman image exists "$BASE"; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d /var/tmp/keerpunt-debootstrap.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "host-setup: making $BASE with debootstrap from $mirror (about a minute)"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  # As the slim image: no apt lists, no docs. And / as in any image (mktemp made it 0700: no
  # user but root could then reach a file).
  chmod 755 "$root"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | podman import --change 'CMD ["bash"]' - "$BASE" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi
