#!/bin/bash
# SPDX-License-Identifier: MIT
# One container, as a container runtime would start it, for tests/k8s/pod.sh.
# Runs as PID 1 of fresh mount and PID namespaces (unshare), inside the
# suite's network namespace:
#
#   sandbox.sh ROOT PODDIR [ARG...]
#
# ROOT is an image's root filesystem (deploy/k8s/image/build.sh), or / to run
# Debian's own packages from this machine. It becomes the lower layer of an
# overlay (writes go to a tmpfs, never to ROOT), the mount points are made,
# the pod's volumes from PODDIR/plan.sh (podspec.py) are bind-mounted, read-
# only where the pod says so, /proc /dev /tmp are fresh, /etc/hosts names the
# Services (PODDIR/../hosts), and with readOnlyRootFilesystem the root is
# then remounted read-only. Last, the command runs as runAsUser/runAsGroup
# with fsGroup as supplementary group and only the pod's environment; ARGs
# are appended to it (e.g. --check).
set -euo pipefail
root=$1 pod=$2
shift 2
# shellcheck source=/dev/null
. "$pod/plan.sh"
# Nothing mounted below may propagate back out. Where / is not a mount
# point (a chroot, as fresh-machine's), the mount holding the pod's
# directory, under which everything here is mounted, is made private.
mount --make-rprivate / 2> /dev/null ||
	mount --make-rprivate "$(findmnt -n -o TARGET -T "$pod")"
ovl=$pod/ovl
mkdir -p "$ovl"
mount -t tmpfs -o mode=0755 ovl "$ovl"
mkdir -p "$ovl/upper" "$ovl/work" "$ovl/root"
r=$ovl/root
mount -t overlay overlay -o "lowerdir=$root,upperdir=$ovl/upper,workdir=$ovl/work" "$r"

# a passwd entry for runAsUser where the root has none (the images have one)
if ! grep -q "^[^:]*:[^:]*:$P_UID:" "$r/etc/passwd" 2> /dev/null; then
	echo "pod:x:$P_UID:$P_GID::/nonexistent:/usr/sbin/nologin" >> "$r/etc/passwd"
fi
for m in "${P_MOUNTS[@]}"; do
	IFS='|' read -r src dst mode <<< "$m"
	if [ -d "$src" ]; then
		mkdir -p "$r$dst"
	else
		mkdir -p "$(dirname "$r$dst")"
		touch "$r$dst"
	fi
	mount --bind "$src" "$r$dst"
	[ "$mode" = ro ] && mount -o remount,bind,ro "$r$dst"
done
# SANDBOX_BIN=DIR: its programs at /usr/sbin, as the Debian package installs
# them (for running the daemons on this machine's root instead of an image)
if [ -n "${SANDBOX_BIN:-}" ]; then
	for b in "$SANDBOX_BIN"/*; do
		touch "$r/usr/sbin/${b##*/}"
		mount --bind "$b" "$r/usr/sbin/${b##*/}"
	done
fi
mkdir -p "$r/proc" "$r/dev" "$r/tmp" "$r/etc"
mount -t proc proc "$r/proc"
mount -t tmpfs -o mode=0755,nosuid dev "$r/dev"
for d in null zero random urandom; do
	touch "$r/dev/$d"
	mount --bind "/dev/$d" "$r/dev/$d"
done
# /dev/shm as container runtimes give it (PostgreSQL's shared memory)
mkdir -p "$r/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m shm "$r/dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$r/tmp"
touch "$r/etc/hosts" "$r/etc/resolv.conf"
mount --bind "$pod/../hosts" "$r/etc/hosts"
[ "$P_RO_ROOT" = 1 ] && mount -o remount,ro "$r"

groups=()
[ -n "$P_FSGROUP" ] && groups=(--groups="$P_FSGROUP")
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "${P_ENV[@]}" \
	chroot --userspec="$P_UID:$P_GID" "${groups[@]}" "$r" "${P_CMD[@]}" "$@"
