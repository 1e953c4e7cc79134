#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest side of `make bench-profile`: the CPU work per packet while 4 TCP
# streams (BENCH_STREAMS) cross plain veth, WireGuard, and cyphonic with workers 1 and all.
# Runs as root in the QEMU guest started by tests/bench/profile.sh.
#
#   guest-profile.sh [CIPHER]    CIPHER: aes-gcm (default) | chacha20-poly1305
#
# perf cannot sample under TCG (every cpu-clock sample lands in the idle
# loop, busy or not), so this counts instead: /proc/stat CPU time by kind
# (user = iperf3, system = syscalls and kernel threads such as our
# workers, softirq = packet processing in softirq, idle), context switches
# and interrupts, each divided by the packets carried (payload bytes /
# 1368, the MSS at MTU 1420). Compare the CPU time per packet with the
# cipher's own cost per packet from `make bench` (tcrypt).
# shellcheck source=/dev/null
. "$(dirname "$0")/../selftests/lib.sh"
# shellcheck source=wg.sh
. "$(dirname "$0")/wg.sh"
need ip cyphctl iperf3 wg
SECS=${BENCH_SECONDS:-10}
STREAMS=${BENCH_STREAMS:-4}
MTU=1420
CIPHER=${1:-aes-gcm}
W=/tmp/profile
mkdir -p $W
trap topo_down EXIT
modprobe -a aesni_intel ghash_clmulni_intel chacha_x86_64 poly1305_x86_64 \
	chacha20poly1305 gcm wireguard cyphonic 2> /dev/null

# shellcheck source=tcgprof/marks.sh
. "$(dirname "$0")/tcgprof/marks.sh"

# "user system softirq idle ctxt intr" in clock ticks / counts
snap() {
	awk '$1 == "cpu" { u = $2 + $3; s = $4; q = $7 + $8; i = $5 + $6 }
	     $1 == "ctxt" { c = $2 } $1 == "intr" { n = $2 }
	     END { print u, s, q, i, c, n }' /proc/stat
}

# measure LABEL DST
measure() {
	local label=$1 dst=$2 a b pkts
	iperf_server $NS_B || return 1
	ina iperf3 -c "$dst" -P "$STREAMS" -t $((SECS + 1)) -O 1 -J > $W/run.json 2>&1 &
	local client=$!
	sleep 1.5
	prof_begin
	a=$(snap)
	sleep "$SECS"
	b=$(snap)
	prof_end
	wait $client
	wait "$IPERF_SERVER_PID" 2> /dev/null
	# The receiver's totals after the omitted second: iperf3 runs -O on
	# top of -t, and reports -t's seconds.
	# Packets carried in the measured window of SECS seconds.
	pkts=$(awk -F: -v s="$SECS" '/"sum_received"/ { on = 1 }
		on && /"seconds"/ { gsub(/[ \t,]/, "", $2); r = $2 }
		on && /"bytes"/ { gsub(/[ \t,]/, "", $2); b = $2; exit }
		END { printf "%.0f", (r > 0) ? b / 1368 * s / r : 0 }' $W/run.json)
	prof_record "$pkts" "$label"
	awk -v a="$a" -v b="$b" -v pkts="$pkts" -v secs="$SECS" -v label="$label" \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(a, x); split(b, y)
		for (k = 1; k <= 6; k++) d[k] = y[k] - x[k]
		all = d[1] + d[2] + d[3] + d[4]
		busy = (d[1] + d[2] + d[3]) / hz * 1e6
		printf "%-22s %7.1f %6.0f%% %5.0f%% %5.0f%% %5.0f%% %8.1f %6.2f %6.2f\n", label,
			pkts * 1368 * 8 / secs / 1e6, 100 * (all - d[4]) / all,
			100 * d[1] / all, 100 * d[2] / all, 100 * d[3] / all,
			pkts ? busy / pkts : 0, pkts ? d[5] / pkts : 0, pkts ? d[6] / pkts : 0
	}'
}

topo_up && genkeys && wg_up || { echo "setup failed" >&2; exit 1; }
echo "$STREAMS TCP stream(s), ${SECS} s each, MTU 1420; cyphonic cipher $CIPHER"
echo "(CPU shares of both vCPUs; per packet = per 1368-byte TCP segment carried)"
printf "%-22s %7s %7s %6s %6s %6s %8s %6s %6s\n" path Mbit/s busy user system softirq "CPUus/pkt" ctxt/p intr/p
measure "plain veth" $B4
measure "WireGuard (chacha)" $WG4B
for w in 1 0; do
	topo_down
	topo_up && genkeys && cyph_up cipher "$CIPHER" workers $w && tunnels_up 4 ||
		{ echo "cyphonic setup failed" >&2; exit 1; }
	measure "cyphonic w=$([ $w = 0 ] && echo all || echo 1)" $VB4
done
rc=$?
# The symbols, once every module the paths loaded is in.
prof_symbols
exit $rc
