#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration test of the signaling sequence on loopback with the real
# daemons: AS (enrol, authenticate) -> NMS (register, route) -> TRS (bind,
# relayed echo between an IPv4 node and an IPv6 node), coordinated hole
# punching (PEER_NOTIFY + authenticated probes), then bad input and its
# counters, registration expiry, revocation through the CRL, config
# errors, SIGHUP reload, and the SIGTERM drain of the TRS and the NMS.
# Prints TAP; exits non-zero when a check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
# The daemons and tools run under ASan/UBSan (SAN=1 build) unless CYPH_SAN=0.
san=${CYPH_SAN:-1}
if [ "$san" = 1 ]; then out=$top/build/san; else out=$top/build; fi
B=$out/bin
T=$out/tools
D=$(mktemp -d /tmp/cyph-t_nms.XXXXXX)
pids=()
failed=0

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT

. "$top/tests/cloud/nodelib.sh"

test_metric_eq() {	# test_metric_eq PORT 'NAME{LABELS}' VALUE
	test "$(metric "$1" "$2")" -eq "$3"
}

route_error() {	# route_error FQDN CODE: alice's route to FQDN fails with CODE
	node alice --nms 127.0.0.1:$NMS call "$1" 0 2>&1 | grep -q "^error route $2"
}

# Only what this script runs: other programs may be mid-change.
if ! make -s -C "$top/user" SAN="$san" "$B/cyphonic-as" "$B/cyphonic-admin" "$B/cyphonic-nms" \
	"$B/cyphonic-trs" "$T/cyph_node" > "$D/build.log" 2>&1; then
	tap_fail "cloud: build"; sed 's/^/# /' "$D/build.log" | tail -n 20; tap_plan; exit 1
fi

echo "TAP version 13"
as_setup nms alice bob carol dave erin frank
# Free ports (UDP and TCP alike for the NMS and TRS numbers), from the kernel.
read -r NMS NMSH TRS TRSH < <(free_ports 4)

cat > "$D/nms.conf" <<CONF
[nms]
listen = 127.0.0.1:$NMS
listen6 = [::1]:$NMS
lifetime = 6s
keepalive = 2s
grace_period = 2s
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
crl = $D/crl.pem
crl_poll = 200ms
[relay]
endpoint4 = 127.0.0.1:$TRS
endpoint6 = [::1]:$TRS
key_file = $D/relay.key
[http]
listen = 127.0.0.1:$NMSH
CONF
cat > "$D/trs.conf" <<CONF
[trs]
listen = 127.0.0.1:$TRS
listen6 = [::1]:$TRS
threads = 2
idle_timeout = 8s
grace_period = 12s
[relay]
key_file = $D/relay.key
[http]
listen = 127.0.0.1:$TRSH
CONF
openssl rand -hex 32 > "$D/relay.key"

check "NMS credential from the AS" node nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol
$B/cyphonic-nms -c "$D/nms.conf" > "$D/nms.log" 2>&1 & NMS_PID=$!; pids+=($NMS_PID)
$B/cyphonic-trs -c "$D/trs.conf" > "$D/trs.log" 2>&1 & TRS_PID=$!; pids+=($TRS_PID)
check "NMS up" wait_port $NMSH
check "TRS up" wait_port $TRSH

# bob: IPv6 only, serves echoes through the relay.
node bob --nms "[::1]:$NMS" --local "[::1]:0" serve 10 > "$D/bob.out" 2>&1 & BOB=$!; pids+=($BOB)
check "bob (IPv6) registered" wait_line "$D/bob.out" '^ok registered'
node alice --nms 127.0.0.1:$NMS --local 127.0.0.1:0 call bob.cyphonic.test 5 > "$D/alice.out" 2>&1
check "alice (IPv4) registered" grep -q '^ok registered.*observed=127.0.0.1:' "$D/alice.out"
check "route IPv4 -> IPv6 is a relay" grep -q '^ok route mode=relay peer=' "$D/alice.out"
check "alice bound end 0 at the TRS" grep -q '^ok bound .*end=0' "$D/alice.out"
check "relayed echo IPv4 <-> IPv6: 5/5" grep -q '^ok echo 5/5' "$D/alice.out"
check "bob notified and bound end 1" grep -q '^ok bound .*end=1' "$D/bob.out"
check "NMS counts registrations" retry 10 metric_ge $NMSH 'cyphonic_nms_requests_total{type="register",result="ok"}' 2
check "NMS counts relay routes" retry 10 metric_ge $NMSH 'cyphonic_nms_routes_total{mode="relay"}' 1
check "TRS counts relayed packets" retry 10 metric_ge $TRSH 'cyphonic_trs_relayed_packets_total' 10
check "TRS counts relayed bytes" retry 10 metric_ge $TRSH 'cyphonic_trs_relayed_bytes_total' 2560

# Coordinated hole punching: erin and frank both claim LAN addresses behind
# endpoint-independent NATs (NAT type 2) and are seen from different public
# addresses (127.0.0.2 and 127.0.0.1): the NMS tells both to probe at once.
node erin --nms 127.0.0.1:$NMS --local 127.0.0.2:0 --report 10.1.0.5:4000 --nat 2 serve 20 \
	> "$D/erin.out" 2>&1 & pids+=($!)
wait_line "$D/erin.out" '^ok registered'
node frank --nms 127.0.0.1:$NMS --report 10.2.0.5:4000 --nat 2 call erin.cyphonic.test 0 \
	> "$D/frank.out" 2>&1
check "two cone NATs: route is PUNCH" grep -q '^ok route mode=punch' "$D/frank.out"
check "target notified to punch at the same time" wait_line "$D/erin.out" '^ok notify mode=punch'
check "source's probes answered (authenticated PROBE/PROBE_REPLY)" grep -q '^ok punch' "$D/frank.out"
check "target received an authenticated probe" wait_line "$D/erin.out" '^ok punch'
check "punch routes counted" retry 10 metric_ge $NMSH 'cyphonic_nms_routes_total{mode="punch"}' 1

# Hostile input: garbage, and a well-formed keepalive from nobody.
printf '\003\001garbage' > /dev/udp/127.0.0.1/$NMS
printf '\003\001\003\002\000\000\000\000\000\000\000\000\000\000\000\143\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\000%032d' 0 > /dev/udp/127.0.0.1/$NMS
printf '\005junk' > /dev/udp/127.0.0.1/$TRS
check "garbage counted (malformed)" retry 10 metric_ge $NMSH 'cyphonic_nms_bad_header_total' 1
check "stale keepalive counted" retry 10 metric_ge $NMSH 'cyphonic_nms_requests_total{type="keepalive",result="stale"}' 1
check "TRS counts malformed control" retry 10 metric_ge $TRSH 'cyphonic_trs_requests_total{type="unknown",result="malformed"}' 1

# Expiry: dave registers once and never keeps alive (lifetime 6 s).
check "dave registered" node dave --nms 127.0.0.1:$NMS register
node alice --nms 127.0.0.1:$NMS call dave.cyphonic.test 0 > "$D/a2.out" 2>&1
check "route to a fresh registration works" grep -q '^ok route' "$D/a2.out"

# Revocation: carol registers with a saved credential, then is revoked.
check "carol enrolled and registered" node carol --save-cert "$D/carol.crt" --save-key "$D/carol.key" \
	--nms 127.0.0.1:$NMS register
check "carol is routable" node alice --nms 127.0.0.1:$NMS call carol.cyphonic.test 0
check "admin revokes carol" $B/cyphonic-admin -c "$D/as.conf" revoke carol
check "revoked node's registration dropped (route: not_found)" retry 20 route_error carol.cyphonic.test not_found
"$T/cyph_node" --cert "$D/carol.crt" --key "$D/carol.key" --ca "$D/ca.crt" --nms-name nms.cyphonic.test \
	--nms 127.0.0.1:$NMS register > "$D/c2.out" 2>&1
check "revoked node's registration refused (revoked)" grep -q "^error register revoked" "$D/c2.out"
check "revocations counted" retry 10 metric_ge $NMSH 'cyphonic_nms_requests_total{type="register",result="revoked"}' 1

# dave's lifetime is 6 s; the NMS scans for expiry once a second.
check "expired registration: route not_found" retry 30 route_error dave.cyphonic.test not_found
check "expiry counted" retry 10 metric_ge $NMSH 'cyphonic_nms_expired_total' 1

# Configuration errors name file, line and field.
printf '[nms]\nlifetime = 1s\n' > "$D/bad.conf"
$B/cyphonic-nms -c "$D/bad.conf" --check > "$D/bad.out" 2>&1
check "NMS config error names file:line: [section] key" grep -q "bad.conf:2: \[nms\] lifetime" "$D/bad.out"
printf '[trs]\nthreadz = 2\n' > "$D/bad2.conf"
$B/cyphonic-trs -c "$D/bad2.conf" --check > "$D/bad2.out" 2>&1
check "TRS config error names the unknown key" grep -q "bad2.conf:2: \[trs\] threadz" "$D/bad2.out"

kill -HUP $NMS_PID $TRS_PID
check "SIGHUP reloads the NMS" retry 10 test_metric_eq $NMSH 'cyphonic_nms_reloads_total{result="ok"}' 1
check "SIGHUP reloads the TRS" retry 10 test_metric_eq $TRSH 'cyphonic_trs_reloads_total{result="ok"}' 1

# Drain: a live relay session keeps the TRS draining; new sessions refused.
node bob --nms "[::1]:$NMS" --local "[::1]:0" serve 8 > "$D/bob2.out" 2>&1 & pids+=($!)
wait_line "$D/bob2.out" '^ok registered'
node alice --nms 127.0.0.1:$NMS call bob.cyphonic.test 3 > "$D/a5.out" 2>&1
check "relay session live before the drain" grep -q '^ok echo 3/3' "$D/a5.out"
kill -TERM $TRS_PID
check "TRS /healthz says draining" retry 10 bash -c "curl -s http://127.0.0.1:$TRSH/healthz | grep -q draining"
node alice --nms 127.0.0.1:$NMS --timeout 10000 call bob.cyphonic.test 1 > "$D/a6.out" 2>&1
check "draining TRS refuses a new session" grep -q '^error bind draining' "$D/a6.out"
start=$(date +%s%N)
wait $TRS_PID; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "TRS exits 0 after the drain (rc $rc)" test $rc -eq 0
check "TRS drain ends when the last session idles out, before the 12 s grace (took ${took} ms)" \
	test $took -le 11800
check "TRS logged the drain" grep -q 'draining' "$D/trs.log"
kill -TERM $NMS_PID
wait $NMS_PID; rc=$?
check "NMS exits 0 on SIGTERM" test $rc -eq 0
check "NMS logged the drain" grep -q 'draining' "$D/nms.log"
check "no sanitizer or crash output in the NMS and TRS logs" \
	bash -c "! grep -qiE 'sanitizer|segv|abort' $D/nms.log $D/trs.log"
tap_plan
exit $failed
