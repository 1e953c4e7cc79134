#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the cyphonic selftests (inside the test VM, as root) and print flat TAP.
#
#   tests/selftests/run_all.sh [TEST...]
#
# TEST is a scenario name (a script here without .sh); default: all, in the
# order below. Each scenario is a kselftest-style script (TAP on stdout,
# exit 0 pass / 1 fail / 4 skip). Its results are re-emitted as
# "ok N - SCENARIO: CHECK", followed by one line for the scenario itself
# with its duration. A scenario also fails when the kernel log shows a
# warning, BUG, oops, leak or lockup while it ran. Typical use from the host:
#
#   tests/vm/run.sh tests/selftests/run_all.sh roaming
set -u
here=$(cd "$(dirname "$0")" && pwd)
console_check="$here/../vm/console-check.sh"
ALL="autoload ping_tcp checksum early cyphonicd cyphonicd_tunnel cyphonicd_join cyphonicd_direct cyphonicd_nat cyphonicd_nattype cyphonicd_relay adapter adapter_admission adapter_nat ordering flood_memory queue_share trains bad_input replay cryptokey roaming rekey keys tunnel_needed parity netlink sockets dump_scale unload"
PER_TEST_TIMEOUT=${SELFTEST_TIMEOUT:-300}

n=0 failed=0
emit() { n=$((n + 1)); echo "$1 $n - $2"; }

# Re-number a scenario's TAP under its name; keep diagnostics.
relabel() {
	local name=$1 line st rest
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			st=ok
			[ "${line#not ok}" != "$line" ] && st="not ok"
			rest=${line#"$st" }
			rest=${rest#* }
			rest=${rest#- }
			[ "$st" = "not ok" ] && failed=$((failed + 1))
			emit "$st" "$name: $rest" ;;
		"TAP version"*|"1.."*) ;;
		*) echo "$line" ;;
		esac
	done
}

# After a timeout: what the kernel is waiting on. Blocked tasks and every
# CPU's backtrace go to the kernel log (and the console log); the first
# of them, in one line, to $stuck_at for the failure's name; the dump's
# start as diagnostics.
stuck() {
	local marker="selftest: stuck $1" dump
	echo "$marker" > /dev/kmsg
	echo w > /proc/sysrq-trigger
	echo l > /proc/sysrq-trigger
	sleep 1
	dump=$(mktemp)
	dmesg | sed -n "/$marker\$/,\$p" > "$dump"
	sed -n '1,120s/^/#   /p' "$dump"
	# The blocked tasks only: the CPUs' part starts with our own write.
	sed -i '/Show backtrace of all active CPUs/,$d' "$dump"
	stuck_at=$("$console_check" --summary "$dump")
	[ -n "$stuck_at" ] || stuck_at="no task blocked in the kernel"
	rm -f "$dump"
}

run_one() {
	local name=$1 t=$here/$1.sh start rc secs out klog bad
	if [ ! -f "$t" ]; then
		emit "not ok" "$name: no such test ($t)"
		failed=$((failed + 1))
		return
	fi
	echo "# ---- $name"
	echo "selftest: begin $name" > /dev/kmsg
	out=$(mktemp)
	start=$(date +%s%N)
	to=$PER_TEST_TIMEOUT
	# the adapter scenarios run a cloud, two daemons and up to seven devices
	# (adapter_nat: about 8 minutes on a host loaded by other guests)
	case $name in
	adapter | adapter_admission) [ "$to" -lt 600 ] && to=600 ;;
	adapter_nat) [ "$to" -lt 1200 ] && to=1200 ;;
	esac
	# cyphonicd_relay waits out a relay grant and a credential's lifetime;
	# both NAT scenarios build an internet of namespaces (slow on a loaded host)
	[ "$name" = cyphonicd_relay ] && [ "$to" -lt 900 ] && to=900
	case $name in cyphonicd_nat | cyphonicd_nattype) [ "$to" -lt 600 ] && to=600 ;; esac
	timeout -k 10 "$to" bash "$t" > "$out" 2>&1
	rc=$?
	secs=$((($(date +%s%N) - start) / 100000000))
	secs="$((secs / 10)).$((secs % 10))"
	relabel "$name" < "$out"
	# Kernel messages since this scenario began.
	klog=$(mktemp)
	dmesg | sed -n "/selftest: begin $name\$/,\$p" > "$klog"
	bad=$("$console_check" "$klog")
	if [ -n "$bad" ]; then
		emit "not ok" "$name: kernel log clean ($("$console_check" --summary "$klog"))"
		echo "$bad" | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
	rm -f "$klog"
	case $rc in
	0) emit ok "$name ($secs s)" ;;
	4) emit ok "$name ($secs s) # SKIP $(sed -n 's/^1\.\.0 # SKIP //p' "$out" | head -n1)" ;;
	124|137) stuck "$name"
		emit "not ok" "$name: timed out after ${to}s ($stuck_at)"
		failed=$((failed + 1))
		# Hung with a kernel problem: what follows would hang too.
		[ -n "$bad" ] && broken=$name ;;
	*) emit "not ok" "$name (exit $rc, $secs s)"
		failed=$((failed + 1)) ;;
	esac
	rm -f "$out"
	# What the scenarios leave behind adds up over the run (a 2 GiB guest).
	echo "# memory available after $name: $(($(sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024)) MiB"
}

echo "TAP version 13"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP must run as root (in the VM: tests/vm/run.sh)"; exit 4; }
total_start=$(date +%s)
broken=
for t in ${@:-$ALL}; do
	if [ -n "$broken" ]; then
		emit "not ok" "$t: not run (the kernel has been stuck since $broken)"
		failed=$((failed + 1))
		continue
	fi
	run_one "$t"
done
echo "# selftests took $(($(date +%s) - total_start)) s"
echo "1..$n"
[ "$failed" -eq 0 ]
