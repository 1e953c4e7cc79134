#!/bin/bash
# SPDX-License-Identifier: MIT
# Adapter benchmark (make bench-adapter): 1, 5 and 20 general nodes
# streaming through one adapter at once, cyphonic workers=1 against
# workers=all, beside in-kernel WireGuard as a plain subnet router, in one
# QEMU guest (TCG, 2 vCPUs). The guest side is tests/bench/guest-adapter.sh;
# tests/bench/adapter-report.py prints aggregate and per-device throughput
# and Jain's fairness index (median over rounds, min-max spread), the
# ratios the targets of issue 10 name, and writes build/bench/adapter.json
# (table: adapter.txt, raw records: adapter.raw).
#
#   tests/bench/adapter.sh [--quick]
#
# Environment (defaults; --quick or BENCH_QUICK=1: 1 round of 2 s runs):
#   BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_COUNTS="1 5 20"
#   BENCH_TRACE=1  also print, per run, the work items and context switches
#                  per packet by function and thread (ftrace histograms),
#                  CPU time by thread and the cyphonic devices' counters
#   BENCH_TCGPROF=1  also count the guest's instructions per packet, per
#                  way and device count (rounds summed), by kind and
#                  function (QEMU plugin tests/bench/tcgprof/), and what
#                  a packet costs more with the most devices than with
#                  the fewest: build/bench/adapter-tcgprof-profile.txt.
#                  One TCG thread runs both vCPUs, so its rates are not
#                  the benchmark's: they go to build/bench/adapter-tcgprof.*
#   BENCH_WAYS="cy-1 cy-all wg plain"  the ways measured (a diagnosis run
#                  may measure fewer; the ratios need cy-1, cy-all and wg)
# Admission to the first overlay packet needs the daemons, the cloud and a
# DHCP client: the scenario tests/selftests/adapter_nat.sh measures it
# (diag "plugged in to its first overlay reply").
#
# The benchmark reports; it fails only when the measurement broke.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "bench-adapter: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "${1:-}" = --quick ] && BENCH_QUICK=1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_ROUNDS:=1}" "${BENCH_SECONDS:=2}"
fi
export BENCH_ROUNDS=${BENCH_ROUNDS:-3} BENCH_SECONDS=${BENCH_SECONDS:-5}
export BENCH_COUNTS=${BENCH_COUNTS:-1 5 20}
for v in BENCH_ROUNDS BENCH_SECONDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ $BENCH_COUNTS =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || die "BENCH_COUNTS: positive integers, not '$BENCH_COUNTS'"
[ -f "$top/kmod/cyphonic.ko" ] || die "kmod/cyphonic.ko not built (make)"
[ -x "$top/build/bin/cyphctl" ] || die "build/bin/cyphctl not built (make)"

rev=$(git -C "$top" describe --always --dirty 2> /dev/null || echo unknown)
export BENCH_WAYS=${BENCH_WAYS:-cy-1 cy-all wg plain}
[[ $BENCH_WAYS =~ ^(cy-1|cy-all|wg|plain)( (cy-1|cy-all|wg|plain))*$ ]] ||
	die "BENCH_WAYS: some of cy-1 cy-all wg plain, not '$BENCH_WAYS'"
runs=$(($(wc -w <<< "$BENCH_COUNTS") * $(wc -w <<< "$BENCH_WAYS")))
# Generous: each run is its duration plus up to a minute of starting N
# iperf3 clients under TCG, and a few minutes of set-up (20 minutes once
# on a host at load average 28).
export VM_TIMEOUT=${VM_TIMEOUT:-$((900 + BENCH_ROUNDS * runs * (BENCH_SECONDS + 60)))}
export VM_NAME=${VM_NAME:-bench-adapter}
export VM_PASSENV="${VM_PASSENV:-} BENCH_ROUNDS BENCH_SECONDS BENCH_COUNTS BENCH_TRACE BENCH_WAYS BENCH_TCGPROF"
name=adapter
if [ "${BENCH_TCGPROF:-0}" = 1 ]; then
	export VM_TCGPROF="$top/build/bench/tcgprof-adapter"
	# One TCG thread for both vCPUs: slower, and its rates are not the
	# benchmark's, so they go to files of their own.
	VM_TIMEOUT=$((VM_TIMEOUT * 2))
	name=adapter-tcgprof
fi

say "$BENCH_ROUNDS rounds x devices {$BENCH_COUNTS} x ways {$BENCH_WAYS}, ${BENCH_SECONDS} s TCP per run; revision $rev"
# shellcheck source=vm-bench.sh
. "$top/tests/bench/vm-bench.sh"
bench_in_vm guest-adapter.sh adapter-report.py $name
if [ "${BENCH_TCGPROF:-0}" = 1 ]; then
	"$top/tests/bench/tcgprof/report.py" "$VM_TCGPROF" --diff |
		tee "$top/build/bench/adapter-tcgprof-profile.txt" || die "tcgprof report failed"
fi
exit 0
