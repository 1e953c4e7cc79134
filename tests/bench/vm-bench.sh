# shellcheck shell=bash
# shellcheck disable=SC2154 # top, rev: set by the benchmark that sources this
# SPDX-License-Identifier: MIT
# What the VM benchmarks (make bench, make bench-adapter) share, sourced
# after `set -u` with top, rev, die() and VM_NAME set:
#
#   bench_in_vm GUEST REPORT NAME
#
# boots the test VM running tests/bench/GUEST, keeps its records in
# build/bench/NAME.raw, and has tests/bench/REPORT (records, JSON out,
# --rev) print the table, also kept in NAME.txt, and write NAME.json.
# Fails only when the measurement broke: no records, a failed report, or
# a failed VM run (then after printing what was measured).
bench_in_vm() {
	local out=$top/build/bench raw start rc wall
	raw=$out/$3.raw
	mkdir -p "$out"
	start=$(date +%s)
	"$top/tests/vm/run.sh" "$top/tests/bench/$1" > "$raw"
	rc=$?
	wall=$(($(date +%s) - start))
	grep -q '^@@BENCH round=' "$raw" ||
		die "no measurements (VM status $rc); console: build/vm-logs/$VM_NAME.log"
	/usr/bin/python3 "$top/tests/bench/$2" "$raw" "$out/$3.json" --rev "$rev" |
		tee "$out/$3.txt" || die "$2 failed on $raw"
	echo
	echo "JSON: $out/$3.json (table: $out/$3.txt, raw records: $raw)"
	echo "wall time: $wall s (VM status $rc)"
	[ "$rc" -eq 0 ] || die "the VM run failed (status $rc): the figures above may be incomplete"
}
