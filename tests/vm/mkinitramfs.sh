#!/bin/bash
# SPDX-License-Identifier: MIT
# Build (or reuse) the harness's initramfs for kernel KVER; print its path.
#
#   tests/vm/mkinitramfs.sh KVER
#
# It holds busybox-static, the 9p/virtio/overlay modules of KVER with their
# dependencies (in load order) and tests/vm/initramfs-init as /init. It is
# cached outside the repository under
# ${XDG_CACHE_HOME:-~/.cache}/cyphonic/vm/<hash of all inputs>/, so a rerun
# costs nothing and a changed input builds a new one.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/kernel-tools.sh
. "$top/scripts/kernel-tools.sh"

kver=${1:?usage: mkinitramfs.sh KVER}
mods="9p 9pnet_virtio virtio_pci overlay"
busybox=/bin/busybox
init="$top/tests/vm/initramfs-init"

[ -x "$busybox" ] && "$busybox" --list | grep -qx switch_root ||
	{ echo "mkinitramfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

# Module files in load order, without repeats.
files=$(for m in $mods; do modprobe -S "$kver" --show-depends "$m"; done |
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
[ -n "$files" ] || { echo "mkinitramfs: no modules found for $kver" >&2; exit 1; }

key=$( {
	echo "$kver $mods"
	sha256sum "$busybox" "$init" "$0"
	for f in $files; do stat -c '%n %s %Y' "$f"; done
} | sha256sum | cut -c1-16)
dir="$(kt_cache_root)/vm/$key"
out="$dir/initramfs.cpio.gz"
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/modules" "$stage/proc" "$stage/sys" "$stage/dev"
cp "$busybox" "$stage/bin/busybox"
cp "$init" "$stage/init"
chmod 755 "$stage/init"
for f in $files; do
	cp "$f" "$stage/modules/"
	basename "$f" >> "$stage/modules.order"
done
mkdir -p "$dir"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
