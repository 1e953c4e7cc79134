#!/bin/bash
# Test suite "package": the Debian packages build, are lintian clean,
# install, work and purge without leaving anything behind.
#
#   1. copies the source (tracked and untracked, not ignored files) to a
#      temporary directory outside the repository and runs
#      `dpkg-buildpackage -us -uc -b` there (it writes the .debs to the
#      parent directory, so the work tree stays clean);
#   2. lintian on the .changes: no E: or W: (overrides are justified in
#      debian/*.lintian-overrides);
#   3. checks the packages' contents on the host (versions, paths the
#      units run);
#   4. in a throw-away QEMU VM (tests/vm/run.sh, without the work tree's
#      module): dpkg -i both, DKMS builds and installs the module for the
#      guest's kernel, `ip link add cyph0 type cyphonic` loads it,
#      hardening-check on the installed binaries, then dpkg --purge and
#      nothing left behind (tests/package/guest.sh).
#
# Needs the build dependencies of debian/control and lintian (make deps);
# not root: the build uses fakeroot and the install happens in the VM.
# PACKAGE_KEEP=1 keeps the build directory and prints its path;
# PACKAGE_VM_TIMEOUT (default 3600 s) bounds the VM: the DKMS build and
# depmod run under TCG there, and took over 30 min on a 2-core host at
# load average 11 (the guest's dpkg output is streamed to stderr).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
fails=0
fail() { tap_fail "$@"; fails=$((fails + 1)); }
show() { sed 's/^/#   /' "$1" | head -n "${2:-40}"; }
suite_start=$(date +%s)

ver=$(cat "$top/VERSION")
tmp=$(mktemp -d /tmp/cyphonic-package.XXXXXX)
if [ "${PACKAGE_KEEP:-0}" = 1 ]; then
	echo "# build directory kept: $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi

# ---- 1. build ----
src="$tmp/cyphonic-$ver"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir > /dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src")
else
	tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
if out=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
	tap_ok "build dependencies installed"
else
	fail "build dependencies installed" "$out (make deps)"
fi
# Built as a packager would, from a clean make environment: under `make
# check` the outer make's exported variables (TOP, install dirs) and its
# MAKEFLAGS would otherwise reach debian/rules' makes.
start=$(date +%s)
if (cd "$src" && env -u TOP -u KDIR -u PREFIX -u SBINDIR -u BINDIR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1; then
	tap_ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
	fail "dpkg-buildpackage -us -uc -b"
	tail -n 30 "$tmp/build.log" | show /dev/stdin
	tap_plan
	exit 1
fi
deb="$tmp/cyphonic_${ver}_$(dpkg --print-architecture).deb"
dkmsdeb="$tmp/cyphonic-dkms_${ver}_all.deb"
if [ -f "$deb" ] && [ -f "$dkmsdeb" ]; then
	tap_ok "built $(basename "$deb") and $(basename "$dkmsdeb")"
else
	fail "built cyphonic and cyphonic-dkms $ver" "$(ls "$tmp")"
	tap_plan
	exit 1
fi
if git -C "$top" rev-parse --git-dir > /dev/null 2>&1; then
	if [ -z "$(git -C "$top" status --porcelain --ignored -- debian)" ]; then
		tap_ok "the work tree is untouched (built in a copy)"
	else
		fail "the work tree is untouched (built in a copy)"
		git -C "$top" status --porcelain --ignored -- debian | show /dev/stdin
	fi
fi

# ---- 2. lintian ----
if command -v lintian > /dev/null; then
	start=$(date +%s)
	lintian --fail-on none "$tmp"/cyphonic_"${ver}"_*.changes > "$tmp/lintian.log" 2>&1
	grep -E '^[EW]: ' "$tmp/lintian.log" > "$tmp/lintian.bad"
	if [ -s "$tmp/lintian.bad" ]; then
		fail "lintian: no E: or W: tags"
		show "$tmp/lintian.bad"
	else
		tap_ok "lintian: no E: or W: tags ($(grep -c '^[IPX]: ' "$tmp/lintian.log") I:/P:/X:, $(($(date +%s) - start)) s)"
		grep -E '^[IPX]: ' "$tmp/lintian.log" | show /dev/stdin 20
	fi
else
	fail "lintian installed" "make deps"
fi

# ---- 3. contents ----
x="$tmp/x"
mkdir -p "$x"
dpkg-deb -x "$deb" "$x" && dpkg-deb -x "$dkmsdeb" "$x"
check_c() {
	local name=$1
	shift
	if "$@" > /dev/null 2>&1; then tap_ok "$name"; else fail "$name" "command: $*"; fi
}
check_c "cyphonic-dkms holds /usr/src/cyphonic-$ver with Kbuild, VERSION, kmod/, uapi/" \
	test -f "$x/usr/src/cyphonic-$ver/Kbuild" -a -f "$x/usr/src/cyphonic-$ver/VERSION" \
	-a -f "$x/usr/src/cyphonic-$ver/kmod/main.c" -a -f "$x/usr/src/cyphonic-$ver/uapi/linux/cyphonic.h"
check_c "its dkms.conf says PACKAGE_VERSION=\"$ver\"" \
	grep -qx "PACKAGE_VERSION=\"$ver\"" "$x/usr/src/cyphonic-$ver/dkms.conf"
check_c "the dkms postinst registers cyphonic $ver" \
	bash -c "dpkg-deb -I '$dkmsdeb' postinst | grep -qx 'DKMS_VERSION=$ver'"
check_c "cyphonic holds cyphctl and every daemon in /usr/sbin" \
	test -x "$x/usr/sbin/cyphctl" -a -x "$x/usr/sbin/cyphonic-as" -a -x "$x/usr/sbin/cyphonic-nms" \
	-a -x "$x/usr/sbin/cyphonic-trs" -a -x "$x/usr/sbin/cyphonic-admin"
for u in "$x"/lib/systemd/system/cyphonic-*.service; do
	bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
	check_c "$(basename "$u") runs $bin, which the package holds" test -x "$x$bin"
done
check_c "sysusers and tmpfiles snippets" \
	test -f "$x/usr/lib/sysusers.d/cyphonic.conf" -a -f "$x/usr/lib/tmpfiles.d/cyphonic.conf"
man=$(cd "$top" && ls docs/man/*.[1-8] 2> /dev/null | wc -l)
check_c "every docs/man page is packaged ($man)" \
	test "$(find "$x/usr/share/man" -type f 2> /dev/null | wc -l)" -eq "$man"
if [ -f "$top/user/cyphctl/completion.bash" ]; then
	check_c "bash completion for cyphctl" test -f "$x/usr/share/bash-completion/completions/cyphctl"
fi

# ---- 4. install, use, purge in the VM ----
start=$(date +%s)
VM_NO_MODULE=1 VM_NAME=package VM_TIMEOUT=${PACKAGE_VM_TIMEOUT:-3600} \
	tap_run "vm" "$top/tests/vm/run.sh" "$top/tests/package/guest.sh" "$tmp" "$ver" ||
	fails=$((fails + 1))
echo "# VM part took $(($(date +%s) - start)) s; whole suite $(($(date +%s) - suite_start)) s"
tap_plan
[ "$fails" -eq 0 ]
