#!/bin/bash
# SPDX-License-Identifier: MIT
# Print the kernel console lines of LOG that show a kernel problem (warning,
# BUG, oops, lockup, leak, sanitizer report); print nothing when clean.
#
#   tests/vm/console-check.sh LOG
#
# Only kernel messages are scanned: with printk.time=1 each one carries a
# "[    1.234567]" stamp (searched anywhere in the line, since user output on
# the console can interleave with it). Known harmless lines are ignored:
# the taint notice of an unsigned out-of-tree module is expected.
set -u
log=${1:?usage: console-check.sh LOG}

stamp='\[ *[0-9]+\.[0-9]{6}\]'
bad='WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|kernel BUG|Call Trace|refcount_t|unreferenced object|soft lockup|hung task|blocked for more than|Kernel panic|RCU stall|rcu_sched detected|list_add corruption|list_del corruption|double fault|stack-protector|segfault at'
harmless='module verification failed: signature and/or required key missing|loading out-of-tree module taints kernel'

tr -d '\r' < "$log" | grep -aE "$stamp.*($bad)" | grep -avE "$harmless" || true
