#!/bin/bash
# SPDX-License-Identifier: MIT
# Cloud benchmark (make bench-cloud): starts the AS, the NMS and the TRS on
# loopback, drives them with build/bin/cyphonic-loadgen and prints a table:
# AS authentications/s, NMS full/refresh registrations and route
# directions/s, TRS relayed packets/s and Mbit/s, each with the daemon's
# CPU time (utime+stime from /proc/PID/stat) and the rate per core, and
# request latency percentiles. Bounded: BENCH_SECONDS (default 4) per
# measurement, about 45 s in total. Loopback only.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh" bench-cloud
secs=${BENCH_SECONDS:-4}
out=$top/build/bench-cloud.txt

base=$((20000 + RANDOM % 30000))
AS=$base NMS=$((base + 2)) TRS=$((base + 4))
cat > "$D/as.conf" <<CONF
[as]
listen = 127.0.0.1:$AS
domain = bench.test
workers = 2
# the node is enrolled with 1000 iterations; one load generator address
password_check_cost = 1000
max_connections_per_address = 100000
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
[http]
enabled = false
CONF
cat > "$D/nms.conf" <<CONF
[nms]
listen = 127.0.0.1:$NMS
max_skew = 30s
error_rate = 100000
route_rate = 0
relay_rate = 0
notify_per_node = 0
register_rate = 0
# the raw cost of a registration; bench-abuse measures the cookie
cookie_load = 1000000
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
[relay]
endpoint4 = 127.0.0.1:$TRS
key_file = $D/relay.key
[http]
enabled = false
[log]
level = warn
CONF
cat > "$D/trs.conf" <<CONF
[trs]
listen = 127.0.0.1:$TRS
threads = 1
rate = 0
[relay]
key_file = $D/relay.key
[http]
enabled = false
[log]
level = warn
CONF
openssl rand -hex 32 > "$D/relay.key"
"$B/cyphonic-admin" -c "$D/as.conf" init-ca > /dev/null || die "init-ca"
"$B/cyphonic-admin" -c "$D/as.conf" node add bench --password pw --kdf-iterations 1000 > /dev/null || die "node add"
"$B/cyphonic-admin" -c "$D/as.conf" node add benchdef --password pw > /dev/null || die "node add"
"$B/cyphonic-loadgen" issue --ca-cert "$D/ca.crt" --ca-key "$D/ca.key" nms.bench.test 999 \
	"$D/nms.crt" "$D/nms.key" || die "issue NMS certificate"

"$B/cyphonic-as" -c "$D/as.conf" 2> "$D/as.log" & AS_PID=$!; pids+=($AS_PID)
"$B/cyphonic-nms" -c "$D/nms.conf" 2> "$D/nms.log" & NMS_PID=$!; pids+=($NMS_PID)
"$B/cyphonic-trs" -c "$D/trs.conf" 2> "$D/trs.log" & TRS_PID=$!; pids+=($TRS_PID)
sleep 1
for p in $AS_PID $NMS_PID $TRS_PID; do kill -0 $p 2>/dev/null || die "a daemon did not start (see logs)"; done

LG=$B/cyphonic-loadgen
common=(--ca-cert "$D/ca.crt" --ca-key "$D/ca.key" --nms-cert "$D/nms.crt" --nms 127.0.0.1:$NMS)
{
	"$LG" as --as 127.0.0.1:$AS --as-ca "$D/ca.crt" --name bench --password pw \
		--threads 2 --seconds "$secs" --pid $AS_PID | sed 's/test=as_auth/test=as_auth_kdf1000/'
	"$LG" as --as 127.0.0.1:$AS --as-ca "$D/ca.crt" --name benchdef --password pw \
		--threads 2 --seconds "$secs" --pid $AS_PID | sed 's/test=as_auth/test=as_auth_kdf600000/'
	"$LG" nms "${common[@]}" --nodes 1000 --window 128 --seconds "$secs" --pid $NMS_PID
	"$LG" trs "${common[@]}" --sessions 8 --size 1200 --window 256 --seconds "$secs" \
		--pid $TRS_PID | grep 'test=trs'
} > "$D/results.txt" 2> "$D/loadgen.err" || { cat "$D/loadgen.err"; die "load generator failed"; }

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
{
	echo "CYPHONIC cloud benchmark, loopback, $(nproc) cores, ${secs} s per row, $(date -u +%FT%TZ)"
	echo "per core = operations / CPU seconds the daemon used (utime+stime); p50/p90/p99 = request latency seen by the load generator"
	printf '%-24s %10s %9s %12s %9s %9s %9s  %s\n' test ops/s cpu-s per-core p50-us p90-us p99-us notes
	while IFS= read -r line; do
		case "$line" in RESULT*) ;; *) continue ;; esac
		t=$(field test "$line")
		note=""
		case $t in
		as_auth_kdf1000) note="PBKDF2 1000 iterations (bench node)";;
		as_auth_kdf600000) note="PBKDF2 600000 iterations (default)";;
		nms_register_first) note="first registration: certificate chain + signature + X25519";;
		nms_register_full) note="full re-registration, certificate cached: signature + X25519";;
		nms_register_refresh) note="HMAC-authenticated re-registration";;
		nms_route_direct) note="route direction, DIRECT";;
		nms_route_relay) note="route direction, RELAY + PEER_NOTIFY to target";;
		trs_relay) note="relayed pkts, $(field size "$line") B, $(field mbit_s "$line") Mbit/s, lost $(field lost "$line")/$(field sent "$line")";;
		esac
		f=$(field fail "$line"); to=$(field timeout "$line")
		[ "$f$to" != 00 ] && note="$note; failed $f, timed out $to"
		printf '%-24s %10s %9s %12s %9s %9s %9s  %s\n' "$t" "$(field rate "$line")" \
			"$(field cpu "$line")" "$(field per_core "$line")" "$(field p50_us "$line")" \
			"$(field p90_us "$line")" "$(field p99_us "$line")" "$note"
	done < "$D/results.txt"
} | tee "$out"
echo "(saved in build/bench-cloud.txt)"
