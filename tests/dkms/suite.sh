#!/bin/bash
# SPDX-License-Identifier: MIT
# Test suite "dkms": the repository builds as a DKMS module.
#
# Writes the DKMS source tree /usr/src/cyphonic-<version> with `make
# dkms-tree` (Kbuild, VERSION, kmod/, uapi/ and dkms.conf generated from
# dkms.conf.in), runs `dkms add` and `dkms build -k <kver>`
# for the installed Debian kernel, checks the module and its aliases, then
# removes everything again. It never runs `dkms install`. Idempotent: a
# leftover from an aborted run is removed first.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
# shellcheck source=../../scripts/kernel-tools.sh
. "$top/scripts/kernel-tools.sh"
fails=0
fail() { tap_fail "$@"; fails=$((fails + 1)); }
# check NAME CMD...: run CMD, show its output on failure
check() { tap_check "$@" || fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	tap_skip "dkms build" "needs root (dkms writes /usr/src and /var/lib/dkms)"
	tap_plan
	exit 0
fi
command -v dkms > /dev/null || { fail "dkms installed" "apt-get install dkms"; tap_plan; exit 1; }

# The tree is first written to a scratch DESTDIR to read its dkms.conf.
scratch=$(mktemp -d)
make -s -C "$top" --no-print-directory dkms-tree DESTDIR="$scratch" DKMS_SRCDIR=/ > /dev/null
conf=$(ls "$scratch"/cyphonic-*/dkms.conf 2> /dev/null | head -n1)
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$conf" 2> /dev/null)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$conf" 2> /dev/null)
kver=$(kt_kver) && kt_kdir "$kver" > /dev/null || { fail "kernel headers installed"; tap_plan; exit 1; }
src="/usr/src/$name-$ver"
check "dkms.conf names the package and version ($name $ver)" test "$name" = cyphonic -a -n "$ver"
check "dkms.conf's version is the VERSION file's ($(cat "$top/VERSION"))" test "$ver" = "$(cat "$top/VERSION")"
check "dkms.conf MAKE line uses \$kernel_source_dir, not uname -r" \
	bash -c "grep -E '^MAKE' '$conf' | grep -q 'kernel_source_dir' && ! grep -E '^(MAKE|CLEAN)' '$conf' | grep -q uname"
rm -rf "$scratch"

cleanup() {
	if dkms status "$name/$ver" 2> /dev/null | grep -q .; then
		dkms remove "$name/$ver" --all > /dev/null 2>&1
	fi
	rm -rf "$src" "/var/lib/dkms/$name/$ver"
	rmdir "/var/lib/dkms/$name" 2> /dev/null
	return 0
}
cleanup
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

check "make dkms-tree writes $src" make -s -C "$top" --no-print-directory dkms-tree

check "dkms add $name/$ver" dkms add "$name/$ver"
start=$(date +%s)
check "dkms build $name/$ver -k $kver" dkms build "$name/$ver" -k "$kver"
echo "# dkms build took $(($(date +%s) - start)) s"
ko=$(find "/var/lib/dkms/$name/$ver/$kver" -name "$name.ko*" 2> /dev/null | head -n1)
check "the built module exists" test -n "$ko" -a -f "$ko"
if [ -n "$ko" ]; then
	aliases=$(modinfo -F alias "$ko")
	check "module alias rtnl-link-cyphonic" grep -qx rtnl-link-cyphonic <<< "$aliases"
	check "module alias net-pf-16-proto-16-family-cyphonic (genl family)" \
		grep -qx net-pf-16-proto-16-family-cyphonic <<< "$aliases"
	check "module is built for $kver" bash -c "modinfo -F vermagic '$ko' | grep -q '^$kver '"
	check "module version is $ver (MODULE_VERSION from VERSION)" test "$(modinfo -F version "$ko")" = "$ver"
fi
check "dkms status reports it built" bash -c "dkms status '$name/$ver' -k '$kver' | grep -q ': built'"
check "dkms remove $name/$ver --all" dkms remove "$name/$ver" --all
rm -rf "$src"
check "nothing left behind" bash -c "! dkms status '$name' | grep -q . && [ ! -e '$src' ] && [ ! -e '/var/lib/dkms/$name/$ver' ]"
tap_plan
[ "$fails" -eq 0 ]
