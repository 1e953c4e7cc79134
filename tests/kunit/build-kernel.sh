#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once) the small KUnit kernel the module's KUnit suites run on, and
# prints the path of its build directory. Debian's kernel has no
# CONFIG_KUNIT, so we build one from Debian's linux-source-6.1 with the
# options in kunit.config merged onto tinyconfig. The result is cached
# outside the repository, keyed by the source tarball and the config
# fragment, so only a cold run pays for the build (see docs/kunit.md for
# the measured time). Build output goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cyphonic/kunit
# Comments in kunit.config do not change the kernel, so not the key either.
key=$( (stat -c '%s %Y' "$tarball"; grep -v -e '^#' -e '^$' "$here/kunit.config") |
	sha256sum | cut -c1-16)
out="$cache/build-$key"
src="$cache/linux-source-6.1"

[ -f "$tarball" ] || { echo "build-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
mkdir -p "$cache"
# Two runs at once (two work trees, or a test and a developer) must not
# build into the same directory: the second waits and reuses the result.
exec 9> "$cache/.lock"
flock 9

if [ -f "$out/.done" ]; then
	# Caches from before Module.symvers was kept.
	[ -f "$out/Module.symvers" ] || cp "$out/vmlinux.symvers" "$out/Module.symvers"
	echo "$out"
	exit 0
fi
start=$(date +%s)
if [ ! -f "$src/.extracted" ]; then
	rm -rf "$src"
	tar xJf "$tarball" -C "$cache" >&2
	touch "$src/.extracted"
fi
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$here/kunit.config" >&2
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >&2
# Every requested option must have survived olddefconfig.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	if ! grep -qx "$line" "$out/.config"; then
		echo "kunit config: $line did not survive olddefconfig" >&2
		missing=1
	fi
done < "$here/kunit.config"
[ "$missing" -eq 0 ] || exit 1
make -C "$src" O="$out" ARCH=x86_64 -j"$(nproc)" bzImage modules_prepare >&2
# Every option is =y, so the kernel's symbols are all of Module.symvers;
# with it, modpost checks that the test module's symbols all resolve.
cp "$out/vmlinux.symvers" "$out/Module.symvers"
echo "$(($(date +%s) - start)) s on $(nproc) CPUs, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/.build-time"
touch "$out/.done"
echo "$out"
