#!/bin/bash
# SPDX-License-Identifier: MIT
# NMS under the attacks of issue 12, on loopback with the real daemons: an
# NMS whose key does not match its certificate refuses to start (it used to
# report ready and time out every node); the time to its certificate's
# expiry is exported; a REGISTER captured before a SIGKILL and restart is
# refused after it (boot epoch of the in-process store), while a fresh
# registration works; per-node quotas against a route flood; per-source
# budget against a REGISTER flood; implausible reported addresses dropped.
# Prints TAP; exits non-zero when a check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/nodelib.sh"
t_begin t_nmsabuse bin/cyphonic-as bin/cyphonic-admin bin/cyphonic-nms tools/cyph_node

echo "TAP version 13"
as_setup nms alice bob
read -r NMS NMSH TRS < <(free_ports 3)
openssl rand -hex 32 > "$D/relay.key"
nms_conf() {	# nms_conf KEY CERT
	cat <<CONF
[nms]
listen = 127.0.0.1:$NMS
lifetime = 20s
keepalive = 5s
[identity]
key = $1
cert = $2
[ca]
cert = $D/ca.crt
crl = $D/crl.pem
[relay]
endpoint4 = 127.0.0.1:$TRS
key_file = $D/relay.key
[http]
listen = 127.0.0.1:$NMSH
CONF
}
check "NMS credential from the AS" node nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol
check "a second NMS credential (another key)" \
	node nms --save-cert "$D/nms2.crt" --save-key "$D/nms2.key" enrol
nms_conf "$D/nms2.key" "$D/nms.crt" > "$D/bad.conf"
nms_conf "$D/nms.key" "$D/nms.crt" > "$D/nms.conf"

timeout 30 $B/cyphonic-nms -c "$D/bad.conf" > "$D/bad.log" 2>&1; rc=$?
check "NMS with a key not matching its certificate exits non-zero (rc $rc)" \
	test $rc -ne 0 -a $rc -ne 124
check "... saying why ($(grep -o 'not starting.*' "$D/bad.log" | head -n 1))" \
	grep -q 'not starting: \[identity\] key does not match' "$D/bad.log"
check "... and never reported ready" bash -c "! curl -sf http://127.0.0.1:$NMSH/healthz"

start_nms() {
	$B/cyphonic-nms -c "$D/nms.conf" > "$D/nms.log" 2>&1 & NMS_PID=$!; pids+=($NMS_PID)
}
start_nms
check "NMS up with a matching identity" wait_port $NMSH
check "certificate time to expiry exported" \
	retry 10 metric_ge $NMSH cyphonic_nms_identity_expiry_seconds 60
echo "# cyphonic_nms_identity_expiry_seconds $(metric $NMSH cyphonic_nms_identity_expiry_seconds)"

# A REGISTER captured before a SIGKILL + restart is refused after it.
node alice --nms 127.0.0.1:$NMS --save-register "$D/alice.reg" register > "$D/alice.out" 2>&1
check "alice registered (REGISTER captured)" grep -q '^ok registered' "$D/alice.out"
kill -KILL $NMS_PID
wait $NMS_PID 2>/dev/null
start_nms
check "NMS restarted after SIGKILL" wait_port $NMSH
cat "$D/alice.reg" > /dev/udp/127.0.0.1/$NMS
check "the captured REGISTER is refused after the restart (stale)" \
	retry 10 metric_ge $NMSH 'cyphonic_nms_requests_total{type="register",result="stale"}' 1
check "... counted as older than the boot epoch" \
	retry 10 metric_ge $NMSH cyphonic_nms_before_boot_total 1
check "... and registered nothing" \
	test "$(metric $NMSH 'cyphonic_nms_requests_total{type="register",result="ok"}')" -eq 0
node bob --nms 127.0.0.1:$NMS call alice.cyphonic.test 0 > "$D/bob.out" 2>&1
check "the replayed node is not routable (not_found)" grep -q '^error route not_found' "$D/bob.out"
node alice --nms 127.0.0.1:$NMS register > "$D/alice2.out" 2>&1
check "a fresh registration after the restart works" grep -q '^ok registered' "$D/alice2.out"

# One registered node floods route requests (forced relays): per-node
# quotas answer RATE_LIMITED (defaults: route burst 100, relay burst 20,
# 32 notification slots), and another node's requests still work.
node bob --nms 127.0.0.1:$NMS serve 6 > "$D/bob3.out" 2>&1 & pids+=($!)
wait_line "$D/bob3.out" '^ok registered'
node alice --nms 127.0.0.1:$NMS --force-relay flood bob.cyphonic.test 2000 > "$D/flood.out" 2>&1
check "route flood answered by quota ($(cat "$D/flood.out"))" \
	grep -qE '^ok flood sent=2000 routed=([0-9]|[12][0-9]|3[0-2]) rate_limited=[1-9]' "$D/flood.out"
check "quota refusals counted" \
	retry 10 metric_ge $NMSH 'cyphonic_nms_requests_total{type="route_req",result="rate_limited"}' 1000
check "the notification table holds at most the per-node cap (32) for that node" \
	test "$(metric $NMSH cyphonic_nms_pending_notifies)" -le 32
node bob --nms 127.0.0.1:$NMS call alice.cyphonic.test 0 > "$D/bob4.out" 2>&1
check "another node still gets its route" grep -q '^ok route' "$D/bob4.out"

# Reported addresses are checked before they reach peers.
node bob --nms 127.0.0.1:$NMS --report 224.0.0.1:4000 register > "$D/bob2.out" 2>&1
check "a node reporting a multicast address registers" grep -q '^ok registered' "$D/bob2.out"
check "... but the address is dropped, not passed to peers" \
	retry 10 metric_ge $NMSH cyphonic_nms_reported_addrs_dropped_total 1

# Unauthenticated work per source: 400 signed REGISTERs at once from one
# address (a replayed capture: each would cost a chain and a signature
# check) are cut at the source's budget (burst 200) before any of it.
node alice --nms 127.0.0.1:$NMS --save-register "$D/alice3.reg" register > /dev/null 2>&1
# One process sends all 400 back to back: a shell loop of 400 cats takes
# seconds on a loaded machine, long enough for the budget to refill.
python3 -c 'import socket, sys
d = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(400):
    s.sendto(d, ("127.0.0.1", int(sys.argv[2])))' "$D/alice3.reg" "$NMS"
check "full REGISTERs over the source's budget dropped before signature work" \
	retry 10 metric_ge $NMSH 'cyphonic_nms_quota_exceeded_total{quota="source"}' 100
echo "# source budget: $(metric $NMSH 'cyphonic_nms_quota_exceeded_total{quota="source"}') of 400 dropped unverified"
check "kernel receive-queue drops exported ($(metric $NMSH cyphonic_nms_udp_rx_dropped_total))" \
	bash -c "curl -sf http://127.0.0.1:$NMSH/metrics | grep -q '^cyphonic_nms_udp_rx_dropped_total '"
node bob --nms 127.0.0.1:$NMS --local 127.0.0.2:0 register > "$D/bob5.out" 2>&1
check "a node at another address registers meanwhile" grep -q '^ok registered' "$D/bob5.out"

kill -TERM $NMS_PID
wait $NMS_PID; rc=$?
check "NMS exits 0 on SIGTERM (rc $rc)" test $rc -eq 0
check "no sanitizer or crash output in the NMS logs" \
	bash -c "! grep -qiE 'sanitizer|segv|abort' $D/nms.log $D/bad.log"
tap_plan
exit $failed
