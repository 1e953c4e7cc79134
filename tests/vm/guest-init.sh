#!/bin/bash
# SPDX-License-Identifier: MIT
# PID 1 of the test VM, started by the initramfs after switch_root.
#
# The root is the host's / (read-only, 9p) under a tmpfs overlay. This
# script mounts the virtual file systems, installs the freshly built
# cyphonic.ko so that it autoloads by alias, runs the requested script with
# its stdout/stderr streamed to the host and copied to the console, writes
# its exit status to the shared I/O directory and powers off.
#
# The host (tests/vm/run.sh) shares a writable directory with tag "vmio"
# holding "env": a bash fragment defining VM_TOP, VM_SCRIPT, VM_ARGS (array),
# VM_MODDIR (prepared module files, may be empty) and the variables to pass
# through.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
io=/run/vmio

log() { echo "vm-init: [$(cut -d" " -f1 /proc/uptime)] $*" > /dev/console; }

poweroff_now() {
	sync
	umount "$io" 2> /dev/null
	echo o > /proc/sysrq-trigger
	# sysrq 'o' is asynchronous; PID 1 must not exit meanwhile.
	while :; do sleep 1; done
}

mount_all() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	# What udev/systemd would add to devtmpfs: bash's <(...) needs /dev/fd
	# (dkms uses it).
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount -t debugfs debugfs /sys/kernel/debug
	mkdir -p /run/netns "$io"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none \
		vmio "$io"
}

# Make `ip link add x type cyphonic` find the module by its alias:
# /lib/modules lives in the overlay, so this never touches the host. The
# host prepared the module indexes (VM_MODDIR, see moddep.sh): depmod here
# would read every module over 9p.
install_module() {
	local dir="/lib/modules/$(uname -r)"
	if [ -z "$VM_MODDIR" ]; then
		log "note: $VM_TOP/kmod/cyphonic.ko not built; cyphonic is not installed"
		return 0
	fi
	# Symlinks, not copies: copying megabytes over 9p costs seconds.
	mkdir -p "$dir/extra"
	ln -sf "$VM_MODDIR"/modules.* "$dir/" &&
		ln -sf "$VM_MODDIR/extra/cyphonic.ko" "$dir/extra/" ||
		log "error: installing cyphonic.ko from $VM_MODDIR failed"
}

# Run the script with stdout and stderr each copied to the console and to a
# file in the shared directory (the host streams those files). Background
# processes left by the script may keep the pipes open, so wait for the
# script itself, not for end-of-file.
run_script() {
	local rc t1 t2 i
	mkfifo /run/vm-out /run/vm-err
	tee -a /dev/console < /run/vm-out > "$io/stdout" & t1=$!
	tee -a /dev/console < /run/vm-err > "$io/stderr" & t2=$!
	(
		cd "$VM_TOP" || exit 1
		export PATH="$VM_TOP/build/bin:$VM_TOP/build/tools:$PATH"
		export HOME=/root PYTHONUNBUFFERED=1 TERM=dumb
		export VM_TOP VM_GUEST=1
		if [ -x "$VM_SCRIPT" ]; then
			exec "$VM_SCRIPT" "${VM_ARGS[@]}"
		fi
		exec /bin/bash "$VM_SCRIPT" "${VM_ARGS[@]}"
	) > /run/vm-out 2> /run/vm-err < /dev/null &
	wait $!
	rc=$?
	for i in $(seq 30); do
		kill -0 "$t1" 2> /dev/null || kill -0 "$t2" 2> /dev/null || break
		sleep 0.1
	done
	kill "$t1" "$t2" 2> /dev/null
	return "$rc"
}

main() {
	local rc
	mount_all || { log "mounting failed"; poweroff_now; }
	# run.sh's own test of its boot watchdog: stall before telling it.
	grep -qw cyphstall /proc/cmdline && while :; do sleep 1; done
	# Tells the host that the kernel's boot is over (run.sh's boot watchdog).
	cut -d' ' -f1 /proc/uptime > "$io/booted"
	# shellcheck source=/dev/null
	. "$io/env" || { log "cannot read $io/env"; poweroff_now; }
	log "root mounted"
	hostname cyphonic-vm
	ip link set lo up
	install_module
	log "running $VM_SCRIPT ${VM_ARGS[*]}"
	echo "$(cut -d' ' -f1 /proc/uptime)" > "$io/start_uptime"
	run_script
	rc=$?
	log "script exited with status $rc"
	echo "$rc" > "$io/rc"
	poweroff_now
}

main
