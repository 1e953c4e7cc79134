#!/bin/bash
# SPDX-License-Identifier: MIT
# NMS under the attacks of issue 12, on loopback with the real daemons: an
# NMS whose key does not match its certificate refuses to start (it used to
# report ready and time out every node); the time to its certificate's
# expiry is exported; a REGISTER captured before a SIGKILL and restart is
# refused after it (boot epoch of the in-process store), while a fresh
# registration works; per-node quotas against a route flood; per-source
# budget against a REGISTER flood; implausible reported addresses dropped;
# under load the address-bound cookie before any signature work (a flood
# from 250 source addresses costs no signature check, a cookie from
# another address is refused); full REGISTERs on a queue of their own and
# checked on worker threads, the port not shared with a second NMS; a diverted message re-sent from another
# address does not move the node (return routability) while a real move
# is proven and followed; the access policy: a denied pair looks exactly
# like an unknown target.
# Prints TAP; exits non-zero when a check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/nodelib.sh"
t_begin t_nmsabuse bin/cyphonic-as bin/cyphonic-admin bin/cyphonic-nms tools/cyph_node

echo "TAP version 13"
as_setup nms alice bob carol
read -r NMS NMSH TRS < <(free_ports 3)
COOKIE_LOAD=100000	# the cookie gets its own section below
openssl rand -hex 32 > "$D/relay.key"
nms_conf() {	# nms_conf KEY CERT
	cat <<CONF
[nms]
listen = 127.0.0.1:$NMS
lifetime = 20s
keepalive = 5s
cookie_load = $COOKIE_LOAD
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

# Full REGISTERs on a receive queue of their own, checked on worker
# threads; the port is not shared with a second NMS.
check "full REGISTERs get a queue of their own (split port)" \
	grep -q 'full REGISTERs on a queue of their own' "$D/nms.log"
check "... and their checks run on worker threads" \
	retry 10 metric_ge $NMSH cyphonic_nms_verify_queued_total 1
check "... none dropped at the worker queue" \
	test "$(metric $NMSH cyphonic_nms_verify_dropped_total)" -eq 0
read -r NMSH2 < <(free_ports 1)
sed "s/127.0.0.1:$NMSH/127.0.0.1:$NMSH2/" "$D/nms.conf" > "$D/second.conf"
timeout 30 $B/cyphonic-nms -c "$D/second.conf" > "$D/second.log" 2>&1; rc=$?
check "a second NMS on the same port is refused (rc $rc)" test $rc -ne 0 -a $rc -ne 124
check "... by its bind ($(grep -o 'bind [^:]*:[0-9]*: .*' "$D/second.log" | head -n 1))" \
	grep -q 'Address already in use' "$D/second.log"

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

# Under load (cookie_load 0: always) a full REGISTER must first echo a
# cookie bound to its source address, before any certificate or
# signature work.
COOKIE_LOAD=0
nms_conf "$D/nms.key" "$D/nms.crt" > "$D/nms.conf"
kill -HUP $NMS_PID
check "NMS reloaded with cookie_load = 0" \
	retry 10 metric_ge $NMSH 'cyphonic_nms_reloads_total{result="ok"}' 1
node carol --nms 127.0.0.1:$NMS --save-register "$D/carol.reg" register > "$D/carol.out" 2>&1
check "under load a REGISTER gets a COOKIE first, and the echo registers" \
	bash -c "grep -q '^ok cookie' '$D/carol.out' && grep -q '^ok registered' '$D/carol.out'"
check "COOKIE answers counted" retry 10 metric_ge $NMSH cyphonic_nms_cookies_sent_total 1
# carol.reg is the REGISTER that carried the cookie (the one saved last).
python3 -c 'import socket, sys
d = open(sys.argv[1], "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.3", 0))
s.sendto(d, ("127.0.0.1", int(sys.argv[2])))' "$D/carol.reg" "$NMS"
check "the same cookie from another source address is refused" \
	retry 10 metric_ge $NMSH cyphonic_nms_cookie_refused_total 1
verified() {	# full REGISTERs that reached a signature check (any outcome but the cookie's)
	curl -sf http://127.0.0.1:$NMSH/metrics |
		awk '/^cyphonic_nms_requests_total\{type="register",result="(replay|ok|bad_signature|bad_cert|id_mismatch)"\}/ { s += $2 } END { print s + 0 }'
}
cookies0=$(metric $NMSH cyphonic_nms_cookies_sent_total)
verified0=$(verified)
# 2000 validly framed REGISTERs (a signed capture) from 250 source addresses.
python3 -c 'import socket, sys
d = open(sys.argv[1], "rb").read()
socks = []
for i in range(250):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.%d.%d" % (10 + i // 200, 1 + i % 200), 0))
    socks.append(s)
for i in range(2000):
    socks[i % 250].sendto(d, ("127.0.0.1", int(sys.argv[2])))' "$D/alice3.reg" "$NMS"
check "a REGISTER flood from 250 addresses is answered with cookies" \
	retry 10 metric_ge $NMSH cyphonic_nms_cookies_sent_total $((cookies0 + 1000))
echo "# cookie flood: $(( $(metric $NMSH cyphonic_nms_cookies_sent_total) - cookies0 )) cookies for 2000 REGISTERs, $(( $(verified) - verified0 )) signature checks"
check "... and costs no signature check ($(( $(verified) - verified0 )))" \
	test "$(verified)" -eq "$verified0"
COOKIE_LOAD=100000
nms_conf "$D/nms.key" "$D/nms.crt" > "$D/nms.conf"
kill -HUP $NMS_PID
check "NMS reloaded with cookies only under load" \
	retry 10 metric_ge $NMSH 'cyphonic_nms_reloads_total{result="ok"}' 2

# Return routability: a KEEPALIVE diverted in flight and re-sent from
# another address authenticates, but the node's endpoint stays.
node alice --nms 127.0.0.1:$NMS serve 8 > "$D/alice-rr.out" 2>&1 & pids+=($!)
wait_line "$D/alice-rr.out" '^ok registered'
alice_ep=$(sed -n 's/^ok registered .*observed=\([^ ]*\).*/\1/p' "$D/alice-rr.out")
node carol --nms 127.0.0.1:$NMS --no-keepalive divert "$D/carol.ka" > "$D/carol-d.out" 2>&1
check "a fresh KEEPALIVE diverted (never delivered)" grep -q '^ok diverted' "$D/carol-d.out"
roamed0=$(metric $NMSH cyphonic_nms_roamed_total)
python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.9", 0))
s.sendto(open(sys.argv[1], "rb").read(), ("127.0.0.1", int(sys.argv[2])))' "$D/carol.ka" "$NMS"
check "the diverted message from another address is challenged" \
	retry 10 metric_ge $NMSH cyphonic_nms_roam_challenged_total 1
check "... and the endpoint does not move there" \
	test "$(metric $NMSH cyphonic_nms_roamed_total)" -eq "$roamed0"
node bob --nms 127.0.0.1:$NMS --local 127.0.0.2:0 call carol.cyphonic.test 0 > "$D/bob-rr.out" 2>&1
check "a peer is still directed to the node (route given)" grep -q '^ok route' "$D/bob-rr.out"
node carol --nms 127.0.0.1:$NMS roam 127.0.0.4:0 > "$D/carol-roam.out" 2>&1
check "a real move is proven and followed ($(sed -n 's/^ok roamed //p' "$D/carol-roam.out"))" \
	grep -q '^ok roamed observed=127.0.0.4:' "$D/carol-roam.out"
check "... counted" retry 10 metric_ge $NMSH cyphonic_nms_roam_proven_total 1

# Access policy: carol in group cams, reached only by staff (alice); the
# default rule "nodes nodes" is taken away, so bob reaches no one.
$B/cyphonic-admin -c "$D/as.conf" group add carol cams > "$D/pol.out" 2>&1
$B/cyphonic-admin -c "$D/as.conf" group add alice staff >> "$D/pol.out" 2>&1
$B/cyphonic-admin -c "$D/as.conf" rule add staff cams >> "$D/pol.out" 2>&1
$B/cyphonic-admin -c "$D/as.conf" rule del nodes nodes >> "$D/pol.out" 2>&1
check "admin: groups and rules written to the policy file (defaults first)" \
	bash -c "grep -q '^rule staff cams' '$D/policy.conf' && grep -q '^rule nodes adapters' '$D/policy.conf' && ! grep -q '^rule nodes nodes' '$D/policy.conf'"
check "admin: carol's certificate policy ($($B/cyphonic-admin -c "$D/as.conf" policy carol))" \
	bash -c "$B/cyphonic-admin -c $D/as.conf policy carol | grep -q 'g=nodes,cams;r=adapters$'"
node carol --nms 127.0.0.1:$NMS serve 8 > "$D/carol-p.out" 2>&1 & pids+=($!)
wait_line "$D/carol-p.out" '^ok registered'
node alice --nms 127.0.0.1:$NMS call carol.cyphonic.test 0 > "$D/alice-p.out" 2>&1
check "staff -> cams allowed: alice gets a route to carol" grep -q '^ok route' "$D/alice-p.out"
node bob --nms 127.0.0.1:$NMS --local 127.0.0.2:0 call carol.cyphonic.test 0 > "$D/bob-p.out" 2>&1
node bob --nms 127.0.0.1:$NMS --local 127.0.0.2:0 call nobody.cyphonic.test 0 > "$D/bob-u.out" 2>&1
check "bob (nodes only) is refused carol: the same answer as for an unknown node" \
	bash -c "grep -q '^error route not_found' '$D/bob-p.out' && diff <(cut -d' ' -f1-3 '$D/bob-p.out') <(cut -d' ' -f1-3 '$D/bob-u.out')"
check "policy denials counted" retry 10 metric_ge $NMSH cyphonic_nms_policy_denied_total 1

kill -TERM $NMS_PID
wait $NMS_PID; rc=$?
check "NMS exits 0 on SIGTERM (rc $rc)" test $rc -eq 0
check "no sanitizer or crash output in the NMS logs" \
	bash -c "! grep -qiE 'sanitizer|segv|abort' $D/nms.log $D/bad.log"
tap_plan
exit $failed
