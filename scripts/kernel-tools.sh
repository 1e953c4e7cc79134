# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers shared by the VM harness, the static checks and DKMS test (sourced).
#
#   kt_cache_root          cache directory outside the repository
#   kt_kver                the kernel the tests target: newest
#                          /boot/vmlinuz-*-amd64 that has /lib/modules/<ver>
#                          (override with VM_KVER)
#   kt_kdir KVER           its build tree (/lib/modules/KVER/build)
#   kt_checkpatch_dir      directory holding checkpatch.pl and its data files,
#                          extracted once from Debian's linux-source tarball
#
# Nothing here writes into the repository.

kt_cache_root() {
	echo "${XDG_CACHE_HOME:-$HOME/.cache}/cyphonic"
}

kt_kver() {
	if [ -n "${VM_KVER:-}" ]; then
		echo "$VM_KVER"
		return 0
	fi
	local img ver best=""
	# sort -V puts the newest version last.
	for img in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V); do
		ver=${img#/boot/vmlinuz-}
		[ -d "/lib/modules/$ver/kernel" ] && best=$ver
	done
	if [ -z "$best" ]; then
		echo "kernel-tools: no /boot/vmlinuz-*-amd64 with /lib/modules/<ver>;" \
			"install linux-image-amd64" >&2
		return 1
	fi
	echo "$best"
}

kt_kdir() {
	local d="/lib/modules/$1/build"
	if [ ! -d "$d" ]; then
		echo "kernel-tools: $d missing; install linux-headers-$1" >&2
		return 1
	fi
	echo "$d"
}

# checkpatch.pl needs spelling.txt and const_structs.checkpatch next to it;
# all three come from the linux-source tarball. The cache key is the
# tarball's size and mtime, so a new linux-source package re-extracts.
kt_checkpatch_dir() {
	local tarball=${LINUX_SOURCE_TARBALL:-$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)}
	if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
		echo "kernel-tools: no /usr/src/linux-source-*.tar.xz; install linux-source-6.1" >&2
		return 1
	fi
	local key dir top
	key=$(stat -c '%n %s %Y' "$tarball" | sha256sum | cut -c1-16)
	dir="$(kt_cache_root)/checkpatch/$key"
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		top=$(basename "$tarball" .tar.xz)
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp" || return 1
		tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1 \
			"$top/scripts/checkpatch.pl" \
			"$top/scripts/spelling.txt" \
			"$top/scripts/const_structs.checkpatch" || return 1
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir/scripts"
}
