#!/bin/bash
# SPDX-License-Identifier: MIT
# Print the kernel console lines of LOG that show a kernel problem (warning,
# BUG, oops, lockup, leak, sanitizer report); print nothing when clean.
#
#   tests/vm/console-check.sh LOG
#   tests/vm/console-check.sh --summary LOG
#
# --summary prints one line instead, for a test's name where a failure
# list shows nothing else (CI): the first problem and the first reliable
# frames of the first call trace after it (and the first kernel RIP), e.g.
#   INFO: task ip:412 blocked for more than 120 seconds. | at: schedule rtnl_lock ...
#
# Only kernel messages are scanned: with printk.time=1 each one carries a
# "[    1.234567]" stamp (searched anywhere in the line, since user output on
# the console can interleave with it). Known harmless lines are ignored:
# the taint notice of an unsigned out-of-tree module is expected.
set -u
summary=0
[ "${1:-}" = --summary ] && { summary=1; shift; }
log=${1:?usage: console-check.sh [--summary] LOG}

stamp='\[ *[0-9]+\.[0-9]{6}\]'
bad='WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|kernel BUG|Call Trace|refcount_t|unreferenced object|soft lockup|hung task|blocked for more than|Kernel panic|RCU stall|rcu_sched detected|list_add corruption|list_del corruption|double fault|stack-protector|segfault at|invoked oom-killer|Out of memory|detected stalls|self-detected stall|kthread starved|page allocation failure|hw csum failure'
harmless='module verification failed: signature and/or required key missing|loading out-of-tree module taints kernel'

problems() {
	tr -d '\r' < "$log" | grep -aE "$stamp.*($bad)" | grep -avE "$harmless"
}

# The kernel's lines, their stamps (and any user text before them) cut off.
kernel() {
	tr -d '\r' < "$log" | grep -aE "$stamp" | sed -E "s/^.*$stamp *//"
}

if [ "$summary" -eq 0 ]; then
	problems || true
	exit 0
fi
first=$(problems | grep -avE 'Call Trace' | head -n 1 | sed -E "s/^.*$stamp *//")
# A sysrq dump has traces and no problem line: name its first task or CPU.
[ -n "$first" ] || first=$(kernel | grep -aE '^(task:|NMI backtrace)' | head -n 1 | sed -E 's/ +/ /g')
# A trace under a header not listed above: the header, the nearest line
# before it that is not the trace's own preamble.
[ -n "$first" ] || first=$(kernel | awk '
	/Call Trace:/ { if (h != "") print h; exit }
	/^(CPU: |Hardware name:|Tainted:|Workqueue:|<TASK>|task:|NMI backtrace|sysrq:)/ { next }
	NF { h = $0 }')
[ -n "$first" ] || first=$(problems | head -n 1 | sed -E "s/^.*$stamp *//")
[ -n "$first" ] || exit 0
# Frames: "func+0x1a/0x40 [mod]" lines after the first "Call Trace:";
# those marked "?" are stale stack words, not calls.
frames=$(kernel | sed -n '/Call Trace:/,$p' | grep -aE '^[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+/0x[0-9a-f]+' |
	sed -E 's/\+0x.*//' | head -n 8 | tr '\n' ' ')
# A CPU caught spinning (soft lockup, RCU stall, NMI) shows where: RIP.
rip=$(kernel | sed -nE 's/^RIP: 0010:([A-Za-z_][A-Za-z0-9_.]*)\+.*/\1/p' | head -n 1)
printf '%s%s%s\n' "$first" "${rip:+ | rip: $rip}" "${frames:+ | at: ${frames% }}"
