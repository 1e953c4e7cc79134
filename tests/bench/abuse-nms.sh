#!/bin/bash
# SPDX-License-Identifier: MIT
# The NMS part of `make bench-abuse` (issue 12's target: under a 50k
# packets/s flood of validly framed, badly signed REGISTERs from spoofed
# or unregistered sources, 0 legitimate keepalives lost and p99 < 50 ms).
# Loopback only: the NMS (build/bin, no sanitizers) with the production
# defaults, 50 registered nodes sending 200 keepalives/s in all, and
# `cyphonic-loadgen flood` sending the REGISTERs from 512 source
# addresses in 127.1/16. Measured without a flood, then with the flood
# and cookies disabled (cookie_load very high: every REGISTER gets its
# signature checked, as before), then with the default cookie_load, each
# BENCH_RUNS times (default 3) for BENCH_SECONDS (default 8). FLOOD_PPS
# sets the rate asked for (default 50000): the report shows the rate the
# sender reached, which on a small, shared machine may be lower.
# Text to stdout and build/bench-abuse-nms.txt. Exit status 0 unless
# something failed to run (the figures are reported, not judged: timings
# on a shared machine are not pass/fail).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh" bench-abuse-nms
secs=${BENCH_SECONDS:-8}
runs=${BENCH_RUNS:-3}
pps=${FLOOD_PPS:-50000}
out=$top/build/bench-abuse-nms.txt

base=$((20000 + RANDOM % 30000))
NMS=$base NMSH=$((base + 1))
cat > "$D/as.conf" <<CONF
[as]
domain = bench.test
[tls]
cert = $D/as.crt
key = $D/as.key
[ca]
cert = $D/ca.crt
key = $D/ca.key
crl = $D/crl.pem
[store]
path = $D/as.db
[vip]
prefix4 = 10.80.0.0/16
CONF
nms_conf() {	# nms_conf COOKIE_LOAD
	cat <<CONF
[nms]
listen = 127.0.0.1:$NMS
cookie_load = $1
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
[http]
listen = 127.0.0.1:$NMSH
[log]
level = warn
CONF
}
"$B/cyphonic-admin" -c "$D/as.conf" init-ca > /dev/null || die "init-ca"
"$B/cyphonic-loadgen" issue --ca-cert "$D/ca.crt" --ca-key "$D/ca.key" nms.bench.test 999 \
	"$D/nms.crt" "$D/nms.key" || die "issue NMS certificate"

metric() {
	curl -sf "http://127.0.0.1:$NMSH/metrics" | awk -v m="$1" '$1 == m { print $2; f=1 } END { if (!f) print 0 }'
}
run() {	# run LABEL COOKIE_LOAD RATE
	local label=$1 line
	nms_conf "$2" > "$D/nms.conf"
	# stdout not into the pipe to tee: a die() here must not leave tee waiting
	"$B/cyphonic-nms" -c "$D/nms.conf" > /dev/null 2> "$D/nms.log" & NMS_PID=$!; pids+=($NMS_PID)
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$NMSH/healthz" > /dev/null && break; sleep 0.1; done
	line=$("$B/cyphonic-loadgen" flood --nms 127.0.0.1:$NMS --ca-cert "$D/ca.crt" \
		--ca-key "$D/ca.key" --nms-cert "$D/nms.crt" --rate "$3" --seconds "$secs" \
		--pid $NMS_PID 2>> "$D/flood.err" | grep '^RESULT')
	[ -n "$line" ] || { cat "$D/flood.err" "$D/nms.log" >&2; kill $NMS_PID; die "$label: no result"; }
	sleep 0.3	# metrics are synchronised every 200 ms
	printf '  %-26s %s cookies=%s cookies_suppressed=%s source_dropped=%s sig_checked=%s verify_dropped=%s rx_dropped=%s rx_register_dropped=%s\n' "$label" \
		"$(sed 's/^RESULT test=[^ ]* //; s/ secs=[^ ]*//; s/ rate=[^ ]*//; s/ p90_us=[^ ]*//; s/ per_core=[^ ]*//' <<< "$line")" \
		"$(metric cyphonic_nms_cookies_sent_total)" \
		"$(metric cyphonic_nms_cookies_suppressed_total)" \
		"$(metric 'cyphonic_nms_quota_exceeded_total{quota="source"}')" \
		"$(metric 'cyphonic_nms_requests_total{type="register",result="bad_signature"}')" \
		"$(metric cyphonic_nms_verify_dropped_total)" \
		"$(metric cyphonic_nms_udp_rx_dropped_total)" \
		"$(metric cyphonic_nms_udp_rx_register_dropped_total)"
	kill $NMS_PID
	wait $NMS_PID 2>/dev/null
}
{
	echo "NMS under a REGISTER flood (tests/bench/abuse-nms.sh, $(date -u +%FT%TZ), $(nproc) CPUs):"
	echo "  50 nodes, 200 keepalives/s; ops = keepalives answered, fail = lost; cpu = NMS CPU s;"
	echo "  flood: $pps/s asked, validly framed, badly signed, from 512 addresses; ${secs} s per run"
	run "no flood" 200 0
	for i in $(seq "$runs"); do
		run "flood, no cookies #$i" 1000000 "$pps"
		run "flood, cookies #$i" 200 "$pps"
	done
} | tee "$out"
