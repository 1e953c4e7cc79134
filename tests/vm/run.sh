#!/bin/bash
# SPDX-License-Identifier: MIT
# Run a script as root inside a throw-away QEMU VM (stock Debian kernel,
# host userland) and return its exit status.
#
#   tests/vm/run.sh SCRIPT [ARGS...]
#
# The guest sees the host's / read-only (virtio-9p) under a tmpfs overlay,
# so every host binary and the repository (at the same path) are usable and
# nothing the guest writes reaches the host. kmod/cyphonic.ko is installed
# into the overlay's /lib/modules/<ver>/extra (depmod'ed, so it autoloads),
# PATH starts with build/bin and build/tools, and SCRIPT runs with its
# stdout/stderr streamed to ours. The guest has no network device.
#
# The run fails (non-zero exit) when the script fails, when the VM times out
# or dies without reporting a status, or when the kernel console shows a
# warning, BUG, oops, lockup or similar.
#
# Environment:
#   VM_TIMEOUT   seconds before the VM is killed (default 1200)
#   VM_BOOT_TIMEOUT  seconds of console silence before the guest's init
#                starts that count as a stalled boot (default 120); such a
#                guest is booted again, VM_BOOT_TRIES times in all
#                (default 2); VM_TIMEOUT counts from each boot
#   VM_NAME      log name (default: script name and arguments)
#   VM_KVER      kernel version to boot (default: newest installed -amd64)
#   VM_CONSOLE=1 also copy the whole console to our stderr, live
#   VM_PASSENV   names of extra variables to pass into the guest
#                (every CYPH_* variable is passed anyway)
#   VM_MEM, VM_SMP  guest size (default 2048 MB, 2 CPUs)
#   VM_TCGPROF=DIR  count the guest's instructions per code address with
#                build/tools/tcgprof.so (built from tests/bench/tcgprof/) between the
#                marks the guest makes in /run/vmio; the counts, the marks
#                and the guest's kallsyms are copied to DIR
#   VM_NO_MODULE=1  do not install the work tree's kmod/cyphonic.ko (a
#                script that installs the module itself, e.g. from a package)
#
# The console log is build/vm-logs/<name>.log; the initramfs is cached under
# ${XDG_CACHE_HOME:-~/.cache}/cyphonic/vm/.
set -u
# All of it runs inside main(): bash reads a script while executing it, so
# editing this file under a running VM would otherwise break that run.
main() {
	top=$(cd "$(dirname "$0")/../.." && pwd)
	here="$top/tests/vm"
	# shellcheck source=../../scripts/kernel-tools.sh
	. "$top/scripts/kernel-tools.sh"

	say() { echo "vm: $*" >&2; }
	die() { say "error: $*"; exit 2; }

	[ $# -ge 1 ] || die "usage: tests/vm/run.sh SCRIPT [ARGS...]"
	script=$(realpath -e "$1" 2> /dev/null) || die "no such script: $1"
	shift
	case "$top$script" in
	*[[:space:]]*) die "paths with white space are not supported: $top $script" ;;
	esac

	timeout_s=${VM_TIMEOUT:-1200}
	kver=$(kt_kver) || exit 2
	kernel="/boot/vmlinuz-$kver"
	[ -r "$kernel" ] || die "cannot read $kernel"
	command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing (make deps)"

	# Fail early on a module that this kernel would refuse anyway.
	ko="$top/kmod/cyphonic.ko"
	[ "${VM_NO_MODULE:-0}" = 1 ] && ko=/nonexistent
	if [ -f "$ko" ]; then
		vermagic=$(modinfo -F vermagic "$ko" 2> /dev/null)
		[ "${vermagic%% *}" = "$kver" ] ||
			die "$ko is built for '${vermagic%% *}', the VM boots $kver (set KDIR or VM_KVER)"
	fi

	name=${VM_NAME:-$(basename "$script" .sh)${1:+-$*}}
	name=$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.,+=-' '_' | cut -c1-80)
	logdir="$top/build/vm-logs"
	mkdir -p "$logdir"
	log="$logdir/$name.log"

	initrd=$("$here/mkinitramfs.sh" "$kver") || die "building the initramfs failed"

	io=$(mktemp -d /tmp/cyphonic-vm.XXXXXX)
	qpid=
	cleanup() {
		[ -n "$qpid" ] && kill "$qpid" 2> /dev/null
		rm -rf "$io"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	# A snapshot of the module (a concurrent rebuild must not change it under
	# the guest) with module indexes that include it, made on the host.
	moddir=
	if [ -f "$ko" ]; then
		cp "$ko" "$io/cyphonic.ko"
		moddir=$("$here/moddep.sh" "$kver" "$io/cyphonic.ko") || die "depmod for $ko failed"
		# The cache is shared by every checkout on this machine and pruned
		# by their runs: a guest reading it while another run prunes it
		# finds no modules at all (modprobe: "not found"). So the guest
		# gets this run's own copy (a local copy here; the guest reads it
		# in the shared directory, mounted at /run/vmio, see guest-init.sh).
		cp -r "$moddir" "$io/moddep" || die "copying $moddir failed"
		moddir=/run/vmio/moddep
	fi

	# The guest's view of what to run: bash-quoted, sourced by guest-init.sh.
	{
		printf 'VM_TOP=%q\nVM_SCRIPT=%q\nVM_MODDIR=%q\nVM_ARGS=(' "$top" "$script" "$moddir"
		for a in "$@"; do printf '%q ' "$a"; done
		printf ')\n'
		for v in ${VM_PASSENV:-} $(compgen -v CYPH_); do
			[ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
		done
	} > "$io/env"

	plugin=()
	tcg=tcg,thread=multi
	if [ -n "${VM_TCGPROF:-}" ]; then
		mkdir -p "$VM_TCGPROF" "$top/build/tools" || die "VM_TCGPROF: cannot make $VM_TCGPROF"
		"$top/tests/bench/tcgprof/build.sh" "$top/build/tools/tcgprof.so" ||
			die "VM_TCGPROF: cannot build the plugin (tests/bench/tcgprof/build.sh)"
		plugin=(-plugin "$top/build/tools/tcgprof.so,ctl=$io")
		# One thread runs every vCPU: the plugin's counters are plain
		# adds, which concurrent vCPU threads would lose.
		tcg=tcg,thread=single
	fi

	# qboot starts a -kernel guest about 2 s faster than SeaBIOS under TCG.
	bios=()
	[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)

	# Boots the guest in the background (qpid); its files start empty.
	launch() {
		rm -f "$io/booted" "$io/rc" "$io/start_uptime"
		: > "$io/stdout"
		: > "$io/stderr"
		: > "$log"
		start=$(date +%s%N)
		# The harness's own test makes the first VM_TEST_STALL_BOOTS boots
		# stall where the kernel's boot would (guest-init.sh waits forever).
		stall=
		[ "$attempt" -le "${VM_TEST_STALL_BOOTS:-0}" ] && stall=" cyphstall"
		# No network device at all (-nic none): the guest must not reach anything.
		timeout -k 10 "$timeout_s" qemu-system-x86_64 \
			-accel "$tcg" -cpu max -smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" \
			-nographic -no-reboot -monitor none -nic none "${bios[@]}" "${plugin[@]}" \
			-serial "file:$log" \
			-kernel "$kernel" -initrd "$initrd" \
			-append "console=ttyS0 panic=-1 printk.time=1 mitigations=off rdinit=/init cyphinit=$here/guest-init.sh$stall" \
			-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
			-virtfs "local,path=$io,mount_tag=vmio,security_model=none,multidevs=remap" \
			< /dev/null > "$io/qemu.out" 2>&1 &
		qpid=$!
	}
	# True once the guest's init has mounted the shared directory (it then
	# writes "booted"), or once qemu has ended, which the caller reports;
	# false once the console has been silent for boot_limit seconds before
	# that (a slow boot that still prints is waited for).
	wait_for_init() {
		local now size seen=-1 deadline
		while :; do
			[ -e "$io/booted" ] && return 0
			kill -0 "$qpid" 2> /dev/null || return 0
			now=$(date +%s)
			size=$(stat -c %s "$log" 2> /dev/null || echo 0)
			if [ "$size" != "$seen" ]; then
				seen=$size
				deadline=$((now + boot_limit))
			fi
			[ "$now" -lt "$deadline" ] || return 1
			sleep 0.2
		done
	}

	say "kernel $kver, log $log"
	# A guest kernel under TCG now and then stalls in its own early boot
	# (seen once in CI: silent after "pnp: PnP ACPI: found 6 devices" for
	# the whole hour of VM_TIMEOUT). That is no result about the script, so
	# a guest whose console stays silent for VM_BOOT_TIMEOUT seconds before
	# its init starts is killed and booted again, VM_BOOT_TRIES times in
	# all, each stall reported. VM_TIMEOUT counts from each boot.
	boot_limit=${VM_BOOT_TIMEOUT:-120}
	tries=${VM_BOOT_TRIES:-2}
	case "$boot_limit$tries" in
	*[!0-9]*) die "VM_BOOT_TIMEOUT and VM_BOOT_TRIES take whole numbers" ;;
	esac
	[ "$boot_limit" -gt 0 ] && [ "$tries" -gt 0 ] ||
		die "VM_BOOT_TIMEOUT and VM_BOOT_TRIES must be at least 1"
	attempt=1
	while :; do
		launch
		wait_for_init && break
		kill "$qpid" 2> /dev/null
		wait "$qpid" 2> /dev/null
		qpid=
		cp "$log" "$log.stall-$attempt"
		say "warning: the guest's console was silent for ${boot_limit}s before its init started (VM_BOOT_TIMEOUT), attempt $attempt of $tries; console in $log.stall-$attempt, last lines:"
		tail -n 5 "$log" | tr -d '\r' | sed 's/^/  | /' >&2
		attempt=$((attempt + 1))
		[ "$attempt" -le "$tries" ] || {
			say "error: no boot reached the guest's init ($tries tried, VM_BOOT_TRIES)"
			exit 1
		}
	done

	# Stream the script's output while the VM runs; tail exits after qemu does
	# (and after reading what is left).
	# (The guest writes these files directly, not through a tty: no \r to strip,
	# and no filter that would buffer the stream.)
	tail -n +1 -s 0.2 -f --pid="$qpid" "$io/stdout" &
	t1=$!
	tail -n +1 -s 0.2 -f --pid="$qpid" "$io/stderr" >&2 &
	t2=$!
	if [ "${VM_CONSOLE:-0}" = 1 ]; then
		tail -n +1 -s 0.2 -f --pid="$qpid" "$log" | sed -u 's/\r$//' >&2 &
	fi
	wait "$qpid"
	qrc=$?
	qpid=
	wait "$t1" "$t2"
	elapsed_ds=$((($(date +%s%N) - start) / 100000000))

	rc=
	if [ -s "$io/rc" ]; then
		rc=$(cat "$io/rc")
	fi
	status=0
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		say "error: VM timed out after ${timeout_s}s (VM_TIMEOUT); last console lines:"
		tail -n 20 "$log" | tr -d '\r' | sed 's/^/  | /' >&2
		status=1
	elif [ "$qrc" -ne 0 ]; then
		say "error: qemu exited with status $qrc:"
		sed 's/^/  | /' "$io/qemu.out" >&2
		status=1
	elif [ -z "$rc" ]; then
		say "error: the VM stopped without reporting the script's status; last console lines:"
		tail -n 20 "$log" | tr -d '\r' | sed 's/^/  | /' >&2
		status=1
	fi

	if [ -n "${VM_TCGPROF:-}" ]; then
		# Nothing of an earlier run (another boot, other addresses) stays.
		rm -f "$VM_TCGPROF"/prof-*.txt "$VM_TCGPROF/marks.txt" "$VM_TCGPROF/kallsyms"
		cp "$io"/prof-*.txt "$io/marks.txt" "$io/kallsyms" "$VM_TCGPROF/" 2> /dev/null ||
			say "warning: VM_TCGPROF: the guest left no marks, counts or kallsyms"
	fi

	# Kernel messages carry a "[ seconds.micros]" stamp (printk.time=1); only
	# those lines are scanned, so a script printing these words is harmless.
	bad=$("$here/console-check.sh" "$log")
	if [ -n "$bad" ]; then
		say "error: the kernel console shows problems:"
		echo "$bad" | sed 's/^/  | /' >&2
		status=1
	fi

	if [ -s "$io/start_uptime" ]; then
		say "boot took $(cat "$io/start_uptime") s (guest uptime at script start)"
	fi
	say "script status ${rc:-none}, VM $((elapsed_ds / 10)).$((elapsed_ds % 10)) s, log $log"
	if [ "$status" -ne 0 ]; then
		[ -n "$rc" ] && [ "$rc" -ne 0 ] && exit "$rc"
		exit 1
	fi
	exit "$rc"
}

main "$@"
exit $?
