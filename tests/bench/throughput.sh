#!/bin/bash
# SPDX-License-Identifier: MIT
# Data-plane benchmark (make bench): cyphonic vs in-kernel WireGuard vs the
# plain veth underlay, in one QEMU guest (TCG, 2 vCPUs), with the kernel's
# own cipher speeds (tcrypt) as the crypto-only ceiling.
#
#   tests/bench/throughput.sh [--quick]
#
# The guest (tests/bench/guest-throughput.sh) measures, interleaved over
# rounds: ICMP round trip, iperf3 TCP 1 and 4 streams, UDP offered above
# capacity, for veth, WireGuard, and cyphonic aes-gcm / chacha20-poly1305
# with workers 1 and all. tests/bench/report.py prints the table (medians,
# ratios to WireGuard and veth, efficiency against the cipher ceiling) and
# writes build/bench/throughput.json; the table is also kept in
# build/bench/throughput.txt and the raw records in throughput.raw.
#
# Environment (defaults; --quick or BENCH_QUICK=1 is a smoke test of about
# 4 minutes: 1 round of 2 s runs):
#   BENCH_ROUNDS=3 BENCH_SECONDS=5 BENCH_PINGS=100 BENCH_UDP_RATE=2G
#   BENCH_TCRYPT=1 (0: no cipher ceilings) BENCH_TCRYPT_SEC=1
# A full run took 8.5 minutes with the host nearly idle, 10.5 with other
# guests running.
#
# The benchmark reports; it never fails on a result. It fails only when
# the measurement itself broke (no VM status, a kernel warning, no records).
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "${1:-}" = --quick ] && BENCH_QUICK=1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_ROUNDS:=1}" "${BENCH_SECONDS:=2}" "${BENCH_PINGS:=20}"
fi
export BENCH_ROUNDS=${BENCH_ROUNDS:-3} BENCH_SECONDS=${BENCH_SECONDS:-5}
export BENCH_PINGS=${BENCH_PINGS:-100} BENCH_UDP_RATE=${BENCH_UDP_RATE:-2G}
export BENCH_TCRYPT=${BENCH_TCRYPT:-1} BENCH_TCRYPT_SEC=${BENCH_TCRYPT_SEC:-1}
for v in BENCH_ROUNDS BENCH_SECONDS BENCH_PINGS BENCH_TCRYPT_SEC; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done

[ -f "$top/kmod/cyphonic.ko" ] || die "kmod/cyphonic.ko not built (make)"
[ -x "$top/build/bin/cyphctl" ] || die "build/bin/cyphctl not built (make)"

rev=$(git -C "$top" describe --always --dirty 2> /dev/null || echo unknown)

# Generous bound: 18 iperf3 runs and 6 pings per round, each run costing
# its duration plus a few seconds of process start-up under TCG (more on a
# loaded host), and about 90 s of tcrypt.
export VM_TIMEOUT=${VM_TIMEOUT:-$((600 + BENCH_ROUNDS * (18 * (BENCH_SECONDS + 20) + 6 * 20)))}
export VM_NAME=${VM_NAME:-bench-throughput}
export VM_PASSENV="${VM_PASSENV:-} BENCH_ROUNDS BENCH_SECONDS BENCH_PINGS BENCH_UDP_RATE BENCH_TCRYPT BENCH_TCRYPT_SEC"

say "$BENCH_ROUNDS rounds x 6 configurations x (ping, TCP 1, TCP 4, UDP), ${BENCH_SECONDS} s per run; revision $rev"
# shellcheck source=vm-bench.sh
. "$top/tests/bench/vm-bench.sh"
bench_in_vm guest-throughput.sh report.py throughput
exit 0
