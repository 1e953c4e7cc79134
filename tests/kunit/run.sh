#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs the cyphonic KUnit suites in QEMU and prints TAP: one line per test
# case, one per suite, and the checks on the guest as a whole.
#
#   tests/kunit/run.sh
#
# Steps: the KUnit kernel (build-kernel.sh, cached outside the repository);
# cyphonic_test.ko built against it from a copy of kmod/ and the *_test.c
# files here (build/kunit/mod/); an initramfs whose /init loads the module,
# which runs the suites, and prints each suite's debugfs results between
# markers; one QEMU boot; ktap.awk parses the markers' contents.
#
# Environment:
#   KUNIT_SELFTEST_FAIL=1  also compile selftest_test.c, whose cases must
#                          make this script fail (build/kunit/mod-selftest/)
#   KUNIT_TIMEOUT=SECONDS  limit for the guest (default 600: TCG on a loaded
#                          host is slow; a hang is the only thing it stops)
#   KUNIT_KDIR=DIR         use this KUnit kernel build directory instead of
#                          build-kernel.sh's (for trying a kernel config)
#
# Exit status: 0 when every line is "ok".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

# Every suite that must run. A suite missing from the guest, or one the
# guest ran that is not listed, is a failure.
suites="cyphonic_replay cyphonic_wire cyphonic_crypto cyphonic_chachapoly cyphonic_keys cyphonic_tunnel cyphonic_ring cyphonic_staging cyphonic_share cyphonic_sched cyphonic_codel cyphonic_load cyphonic_early cyphonic_train cyphonic_serial cyphonic_rxcell cyphonic_sealbuf cyphonic_gsohead"

variant=mod
make_args=()
if [ "${KUNIT_SELFTEST_FAIL:-0}" = 1 ]; then
	variant=mod-selftest
	make_args+=(CYPH_KUNIT_SELFTEST=y)
	suites="$suites cyphonic_selftest"
fi
timeout_s=${KUNIT_TIMEOUT:-600}
out="$top/build/kunit"
work="$out/$variant"
console="$work/console.log"
mkdir -p "$work"

# One run at a time per work tree: both variants share the kernel cache.
exec 8> "$out/.run.lock"
flock 8

n=0 fails=0
emit() {
	local st=$1
	shift
	n=$((n + 1))
	echo "$st $n - $*"
	[ "$st" = ok ] || fails=$((fails + 1))
}
indent() { sed 's/^/#   /'; }
finish() {
	echo "1..$n"
	[ "$fails" -eq 0 ]
	exit
}

# 1. The kernel. A cold build takes 6-8 min on 2 idle CPUs (docs/kunit.md);
# its output goes to build/kunit/kernel-build.log.
t0=$(date +%s)
if [ -n "${KUNIT_KDIR:-}" ]; then
	kdir=$KUNIT_KDIR
elif ! kdir=$("$here/build-kernel.sh" 2> "$out/kernel-build.log"); then
	emit "not ok" "kernel: build the KUnit kernel (tests/kunit/build-kernel.sh)"
	tail -n 30 "$out/kernel-build.log" | indent
	finish
fi
bzimage="$kdir/arch/x86/boot/bzImage"
# Every option is =y, so vmlinux's symbols are the whole Module.symvers;
# with it modpost refuses a test module that needs a missing symbol.
[ -f "$kdir/Module.symvers" ] || cp "$kdir/vmlinux.symvers" "$kdir/Module.symvers" 2> /dev/null
if [ ! -f "$bzimage" ] || [ ! -x "$kdir/usr/gen_init_cpio" ]; then
	emit "not ok" "kernel: $kdir has no bzImage or usr/gen_init_cpio"
	finish
fi
echo "# kernel: $kdir ($(($(date +%s) - t0)) s)"

# 2. The test module, from a copy so that kmod/ stays untouched. cp -p
# keeps the times, so make recompiles only what changed.
t0=$(date +%s)
mkdir -p "$work/kmod" "$work/uapi/linux"
for f in "$work"/kmod/*.[ch]; do
	[ -e "$f" ] && [ ! -e "$top/kmod/${f##*/}" ] && rm -f "$f" "${f%.c}.o"
done
cp -p "$top"/kmod/*.[ch] "$work/kmod/"
cp -p "$top/uapi/linux/cyphonic.h" "$work/uapi/linux/"
cp -p "$here/Kbuild" "$here"/*.[ch] "$work/"
if ! make -C "$kdir" M="$work" "${make_args[@]}" -j2 modules \
		> "$work/build.log" 2>&1; then
	emit "not ok" "module: build cyphonic_test.ko against the KUnit kernel"
	grep -E 'error|Error' "$work/build.log" | head -n 30 | indent
	finish
fi
emit ok "module: build cyphonic_test.ko against the KUnit kernel"
warnings=$(grep -E 'warning:|WARNING:' "$work/build.log" | sort -u)
if [ -n "$warnings" ]; then
	emit "not ok" "module: kmod/ and the tests compile without warnings"
	echo "$warnings" | head -n 20 | indent
else
	emit ok "module: kmod/ and the tests compile without warnings"
fi
echo "# module build: $(($(date +%s) - t0)) s"

# 3. The initramfs: busybox, /init, the module, and a console device.
if [ ! -x /bin/busybox ]; then
	emit "not ok" "initramfs: /bin/busybox missing (apt-get install busybox-static)"
	finish
fi
cat > "$work/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /bin 0755 0 0
dir /proc 0755 0 0
dir /sys 0755 0 0
file /bin/busybox /bin/busybox 0755 0 0
file /init $here/initramfs-init 0755 0 0
file /cyphonic_test.ko $work/cyphonic_test.ko 0644 0 0
EOF
if ! "$kdir/usr/gen_init_cpio" "$work/initramfs.list" | gzip -1 \
		> "$work/initramfs.cpio.gz"; then
	emit "not ok" "initramfs: gen_init_cpio"
	finish
fi

# 4. One boot. panic=-1 turns a panic into a reboot, and -no-reboot a
# reboot into QEMU's exit, so only a hang needs the timeout.
# no_timer_check: on a loaded host TCG is slow enough for the IO-APIC
# timer check to fail and panic the boot.
t0=$(date +%s)
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
rm -f "$console"
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp 2 -m 1G \
	-nographic -no-reboot -monitor none -nic none "${bios[@]}" \
	-serial "file:$console" \
	-kernel "$bzimage" -initrd "$work/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 printk.time=1 no_timer_check rdinit=/init" \
	< /dev/null > "$work/qemu.log" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
echo "# guest: ${secs} s, console in ${console#"$top"/}"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	emit "not ok" "guest: finished within ${timeout_s} s"
elif [ "$rc" -ne 0 ]; then
	emit "not ok" "guest: qemu exited with status $rc"
	indent < "$work/qemu.log"
fi
if [ ! -s "$console" ]; then
	emit "not ok" "guest: wrote to its console"
	finish
fi

# 5. The results.
while IFS= read -r line; do
	case "$line" in
	"RESULT ok "*) emit ok "${line#RESULT ok }" ;;
	"RESULT not ok "*) emit "not ok" "${line#RESULT not ok }" ;;
	"DIAG "*) echo "#   ${line#DIAG }" ;;
	esac
done < <(awk -v expected="$suites" -f "$here/ktap.awk" "$console")
[ "$fails" -eq 0 ] || echo "# failures: see ${console#"$top"/}"
finish
