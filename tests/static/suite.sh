#!/bin/bash
# SPDX-License-Identifier: MIT
# Test suite "static": compiler, sparse and checkpatch cleanliness.
#
#   (a) the module builds without a single compiler warning
#   (b) sparse (C=2) reports nothing on the module's sources
#   (c) checkpatch.pl --strict: 0 errors, 0 warnings per kernel source file
#       (CHECK-level remarks are listed, not failed)
#   (d) user space builds from scratch with -Werror (WERROR=1)
#   (e) user/lib/ keeps its dependency rule (scripts/check-lib-deps.sh), and
#       the checker catches a planted forbidden include
#   (f) man pages: each renders without a warning (as lintian checks them),
#       every program in user/ has one, and the .conf(5) key lists match
#       the daemons' --help-config (scripts/gen-man-config.sh --check)
#   (g) cyphctl's bash completion (tests/static/completion.sh)
#   (h) the release version is written once, in VERSION
#
# The module and user space are rebuilt from scratch in temporary copies,
# so the result never depends on what is already built and the work tree
# is not touched. checkpatch.pl comes from Debian's linux-source tarball,
# extracted once into the cache (scripts/kernel-tools.sh).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
# shellcheck source=../../scripts/kernel-tools.sh
. "$top/scripts/kernel-tools.sh"
fails=0
fail() { tap_fail "$@"; fails=$((fails + 1)); }
show() { sed 's/^/#   /' "$1" | head -n "${2:-40}"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kdir=${KDIR:-$(kt_kdir "$(kt_kver)")} || { fail "kernel build tree" "none found"; tap_plan; exit 1; }

# ---- (a) compiler warnings ----
mod="$tmp/mod"
mkdir -p "$mod"
cp -r "$top/Kbuild" "$top/VERSION" "$top/kmod" "$top/uapi" "$mod/"
# A stale object from the work tree would hide its warnings.
find "$mod" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \
	-o -name modules.order -o -name Module.symvers \) -delete
if make -C "$kdir" M="$mod" -j2 modules > "$tmp/build.log" 2>&1; then
	if grep -qi 'warning:' "$tmp/build.log"; then
		fail "module builds without compiler warnings"
		grep -i -A3 'warning:' "$tmp/build.log" | show /dev/stdin 60
	else
		tap_ok "module builds without compiler warnings ($(grep -c ' CC \[M\]' "$tmp/build.log") files)"
	fi
	built=1
else
	fail "module builds" "make -C $kdir M=... modules failed:"
	tail -n 30 "$tmp/build.log" | show /dev/stdin
	built=0
fi

# ---- (b) sparse ----
if ! command -v sparse > /dev/null; then
	fail "sparse is installed" "apt-get install sparse (scripts/packages.txt)"
elif [ "$built" = 1 ]; then
	# C=2 runs sparse on every source, even those already compiled.
	make -C "$kdir" M="$mod" C=2 modules > "$tmp/sparse.log" 2>&1
	rc=$?
	grep -E '^[^ ]*:[0-9]+:[0-9]+: (warning|error|note):|^[^ ]*: (warning|error):' "$tmp/sparse.log" > "$tmp/sparse.msgs"
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/sparse.msgs" ]; then
		tap_ok "sparse (C=2) reports nothing on kmod/"
	else
		fail "sparse (C=2) reports nothing on kmod/" "$(wc -l < "$tmp/sparse.msgs") message(s), make status $rc:"
		show "$tmp/sparse.msgs" 60
	fi
else
	fail "sparse (C=2) reports nothing on kmod/" "the module did not build"
fi

# ---- (c) checkpatch ----
if cpdir=$(kt_checkpatch_dir); then
	files=$(cd "$top" && ls kmod/*.c kmod/*.h 2> /dev/null | grep -v '\.mod\.c$')
	[ -n "$files" ] || fail "checkpatch: kernel sources exist" "no kmod/*.c or kmod/*.h"
	for f in $files uapi/linux/cyphonic.h; do
		(cd "$top" && perl "$cpdir/checkpatch.pl" --no-tree --strict --terse \
			--show-types -f "$f") > "$tmp/cp.log" 2>&1
		total=$(sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' "$tmp/cp.log")
		if [ -z "$total" ] && ! grep -q 'total: 0 errors, 0 warnings' "$tmp/cp.log"; then
			# --terse prints only "FILE:LINE: TYPE: ..." lines and a total.
			total=$(awk -F': ' '/: ERROR:/ {e++} /: WARNING:/ {w++} /: CHECK:/ {c++} END {print e+0, w+0, c+0}' "$tmp/cp.log")
		fi
		set -- $total
		if [ "${1:-1}" -eq 0 ] && [ "${2:-1}" -eq 0 ]; then
			tap_ok "checkpatch --strict $f: 0 errors, 0 warnings (${3:-0} checks)"
			[ "${3:-0}" -gt 0 ] && grep ': CHECK:' "$tmp/cp.log" | show /dev/stdin 10
		else
			fail "checkpatch --strict $f: ${1:-?} errors, ${2:-?} warnings, ${3:-?} checks"
			grep -E ': (ERROR|WARNING):' "$tmp/cp.log" | show /dev/stdin 30
		fi
	done
else
	fail "checkpatch.pl available" "could not extract it from /usr/src/linux-source-*.tar.xz"
fi

# ---- (d) user space with -Werror ----
if grep -q -- '-Werror' "$top/user/Makefile"; then
	if make -C "$top/user" OUT="$tmp/user" WERROR=1 -j2 > "$tmp/user.log" 2>&1; then
		tap_ok "user space builds from scratch with -Wall -Wextra -Werror"
	else
		fail "user space builds from scratch with -Wall -Wextra -Werror"
		grep -E 'error|warning' "$tmp/user.log" | show /dev/stdin 40
	fi
else
	fail "user/Makefile compiles with -Werror"
fi

# ---- (d2) the benchmark profile's TCG plugin and its report ----
so="$tmp/tcgprof.so"
if "$top/tests/bench/tcgprof/build.sh" "$so" 2> "$tmp/tcgprof.log"; then
	# Boot the kernel the VMs boot for a few seconds with the plugin, mark
	# once, and expect that window's counts: the plugin's declarations of
	# QEMU's API are only checked by QEMU running them.
	mkdir -p "$tmp/ctl"
	kver=$(kt_kver 2> /dev/null)
	timeout 90 qemu-system-x86_64 -accel tcg -cpu max -M pc -m 512 -nographic \
		-monitor none -serial "file:$tmp/ctl/console" -nic none -no-reboot \
		-kernel "/boot/vmlinuz-$kver" -append "console=ttyS0 panic=-1" \
		-plugin "$so,ctl=$tmp/ctl" < /dev/null > "$tmp/tcgprof.log" 2>&1 &
	qemu=$!
	# Mark once the kernel prints (it runs at its own addresses by then).
	for _ in $(seq 300); do
		grep -q '^\[ *[0-9]' "$tmp/ctl/console" 2> /dev/null && break
		sleep 0.2
	done
	sleep 1
	: > "$tmp/ctl/mark-1"
	for _ in $(seq 50); do
		[ -e "$tmp/ctl/prof-1.txt" ] && break
		sleep 0.2
	done
	kill "$qemu" 2> /dev/null
	wait "$qemu" 2> /dev/null
	blocks=$(grep -c '^ffffffff' "$tmp/ctl/prof-1.txt" 2> /dev/null)
	if [ "${blocks:-0}" -ge 100 ]; then
		tap_ok "tcgprof.c builds with -Wall -Wextra -Werror and counts a booting kernel's instructions ($blocks code addresses)"
	else
		fail "tcgprof.c counts a booting kernel's instructions" \
			"${blocks:-no} code addresses; qemu: $(head -c 300 "$tmp/tcgprof.log")"
	fi
else
	fail "tcgprof.c builds with -Wall -Wextra -Werror" "$(head -c 600 "$tmp/tcgprof.log")"
fi
mkdir -p "$tmp/prof"
printf '%s\n' 'ffffffff81000000 T tcp_sendmsg' 'ffffffff81000100 T memcpy' 'ffffffff81000200 T memset_erms' \
	'ffffffffc0000000 t cyph_xmit	[cyphonic]' 'ffffffffc0001000 t aesni_gcm_enc	[aesni_intel]' \
	> "$tmp/prof/kallsyms"
printf '%s\n' 'ffffffff81000010 300' 'ffffffff81000120 100' 'ffffffffc0000040 200' \
	'ffffffffc0001000 1000' 'ffffffff81000200 0' 'user 400' 'overflow 0' > "$tmp/prof/prof-2.txt"
echo '2 10 cyphonic w=all' > "$tmp/prof/marks.txt"
out=$("$top/tests/bench/tcgprof/report.py" "$tmp/prof" 2>&1)
if echo "$out" | grep -q '^== cyphonic w=all: 200 guest instructions per packet (10 packets)' &&
	echo "$out" | grep -Eq '^ +cipher +100 +50\.0%' &&
	echo "$out" | grep -Eq '^ +tcp +30 +15\.0%' &&
	echo "$out" | grep -Eq '^ +copy\+csum +10 +5\.0%' &&
	echo "$out" | grep -Eq '^ +tunnel +20 +10\.0%' &&
	echo "$out" | grep -Eq '^ +20 +10\.0%  cyph_xmit \[cyphonic\]' &&
	! echo "$out" | grep -Eq 'table full|memset_erms'; then
	tap_ok "tcgprof report.py: instructions per packet by kind and by function"
else
	fail "tcgprof report.py: instructions per packet by kind and by function" "$out"
fi

# The adapter benchmark's windows: rounds summed (instructions and
# packets, not per-window figures averaged), a window of no packets left
# out, the fewest devices against the most whatever the order.
printf '%s\n' 'ffffffff81000010 300' 'ffffffffc0001000 1000' > "$tmp/prof/prof-4.txt"
printf '%s\n' 'ffffffff81000010 300' 'ffffffffc0001000 1000' 'ffffffffc0000040 500' > "$tmp/prof/prof-6.txt"
printf '%s\n' 'ffffffff81000010 900' 'ffffffffc0001000 3000' 'ffffffffc0000040 300' > "$tmp/prof/prof-8.txt"
printf '%s\n' 'ffffffffc0000040 100000' > "$tmp/prof/prof-10.txt"
printf '%s\n' '6 10 cy-all n=20 round 1' '8 30 cy-all n=20 round 2' '4 10 cy-all n=1 round 1' \
	'10 0 cy-all n=20 round 3' > "$tmp/prof/marks.txt"
out=$("$top/tests/bench/tcgprof/report.py" "$tmp/prof" 5 --diff 2>&1)
if echo "$out" | grep -q '^== cy-all n=20: 150 guest instructions per packet (40 packets, 2 windows)' &&
	echo "$out" | grep -q 'window 10 (cy-all n=20 round 3) carried no packets: left out' &&
	echo "$out" | grep -q '^== cy-all: 20 devices against 1, guest instructions per packet (150 against 130)' &&
	echo "$out" | grep -Eq '^ +\+20 +0 -> +20  tunnel' &&
	echo "$out" | grep -Eq '^ +\+20 +0 -> +20  cyph_xmit \[cyphonic\]' &&
	echo "$out" | grep -Eq '^ +\+0 +100 -> +100  cipher'; then
	tap_ok "tcgprof report.py --diff: rounds summed, what 20 devices cost a packet more than 1"
else
	fail "tcgprof report.py --diff: rounds summed, what 20 devices cost a packet more than 1" "$out"
fi

# ---- (e) user/lib/ dependency rule ----
deps="$top/scripts/check-lib-deps.sh"
if "$deps" "$top/user/lib" > "$tmp/deps.log" 2>&1; then
	tap_ok "user/lib/ folders include only what their headers allow"
else
	fail "user/lib/ folders include only what their headers allow"
	show "$tmp/deps.log"
fi
# A copy with one forbidden edge (runtime -> wire) and one flat include
# that only resolves through -I: the checker must name both.
cp -r "$top/user/lib" "$tmp/lib"
sed -i '0,/^#include "log.h"/s//#include "log.h"\n#include "wire\/proto.h"/' "$tmp/lib/runtime/config.c"
sed -i 's|^#include "runtime/sslerr.h"|#include "sslerr.h"|' "$tmp/lib/pki/tls.c"
if "$deps" "$tmp/lib" > "$tmp/deps.log" 2>&1; then
	fail "check-lib-deps.sh fails on a planted violation" "it passed:"
	show "$tmp/deps.log"
elif grep -q 'runtime/config.c:[0-9]*: #include "wire/proto.h": runtime -> wire is not allowed' "$tmp/deps.log" &&
	grep -q 'pki/tls.c:[0-9]*: #include "sslerr.h" is runtime/sslerr.h' "$tmp/deps.log"; then
	tap_ok "check-lib-deps.sh fails on a planted violation, naming file, include and edge"
else
	fail "check-lib-deps.sh fails on a planted violation, naming file, include and edge"
	show "$tmp/deps.log"
fi

# ---- (f) man pages ----
pages=$(ls "$top"/docs/man/*.[1-8] 2> /dev/null)
[ -n "$pages" ] || fail "man pages exist" "no docs/man/*.[1-8]"
for p in $pages; do
	# The way lintian runs man (its manpage-has-errors-from-man check).
	if LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$p" > /dev/null 2> "$tmp/man.log" &&
		[ ! -s "$tmp/man.log" ]; then
		tap_ok "man page ${p#"$top"/} renders without warnings"
	else
		fail "man page ${p#"$top"/} renders without warnings"
		show "$tmp/man.log"
	fi
done
for d in "$top"/user/*/; do
	prog=$(basename "$d")
	[ "$prog" = lib ] && continue
	ls "$d"*.c > /dev/null 2>&1 || continue
	if ls "$top/docs/man/$prog".[18] > /dev/null 2>&1; then
		tap_ok "program $prog has a man page"
	else
		fail "program $prog has a man page" "expected docs/man/$prog.8"
	fi
done
if [ -x "$tmp/user/bin/cyphonic-as" ]; then
	if "$top/scripts/gen-man-config.sh" --check "$tmp/user/bin" > "$tmp/gen.log" 2>&1; then
		tap_ok "cyphonic-{as,nms,trs}.conf(5) and cyphonicd.conf(5) list exactly the keys of --help-config"
	else
		fail "cyphonic-{as,nms,trs}.conf(5) and cyphonicd.conf(5) list exactly the keys of --help-config" \
			"run scripts/gen-man-config.sh after make -C user progs:"
		show "$tmp/gen.log"
	fi
else
	fail "cyphonic-{as,nms,trs}.conf(5) and cyphonicd.conf(5) list exactly the keys of --help-config" \
		"the daemons did not build"
fi

# ---- (g) bash completion ----
tap_run completion bash "$top/tests/static/completion.sh" "$top/user/cyphctl/completion.bash" ||
	fails=$((fails + 1))

# ---- (h) one version ----
# VERSION is the only place the release version is written; everything
# else (MODULE_VERSION, dkms.conf, --version, the packages) derives from it.
ver=$(cat "$top/VERSION")
if [[ "$ver" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	tap_ok "VERSION is one MAJOR.MINOR.PATCH line ($ver)"
else
	fail "VERSION is one MAJOR.MINOR.PATCH line" "it reads '$ver'"
fi
if [ -f "$top/debian/changelog" ]; then
	deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog")
	deb=${deb#*:}
	if [ "${deb%-*}" = "$ver" ]; then
		tap_ok "debian/changelog's upstream version is VERSION's ($deb)"
	else
		fail "debian/changelog's upstream version is VERSION's" \
			"changelog says '$deb', VERSION says '$ver' (dch -v $ver)"
	fi
else
	fail "debian/changelog exists"
fi
if grep -q 'PACKAGE_VERSION="#MODULE_VERSION#"' "$top/dkms.conf.in" && [ ! -e "$top/dkms.conf" ]; then
	tap_ok "dkms.conf.in leaves the version to VERSION (no committed dkms.conf)"
else
	fail "dkms.conf.in leaves the version to VERSION (no committed dkms.conf)"
fi
# A version literal in a source file is a second copy that will go stale.
if hits=$(cd "$top" && grep -rnF --include='*.[ch]' --include=Kbuild --include=Makefile \
	--include='*.mk' -- "\"$ver\"" kmod uapi user 2> /dev/null) && [ -n "$hits" ]; then
	fail "no source file repeats the version string" "$hits"
else
	tap_ok "no source file repeats the version string"
fi

tap_plan
[ "$fails" -eq 0 ]
