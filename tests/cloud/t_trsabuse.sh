#!/bin/bash
# SPDX-License-Identifier: MIT
# TRS under the attacks of issue 12, on loopback with the real daemons:
# a second TRS on the same port, BINDs captured and replayed by a stranger
# after both ends closed, relaying past the grant's expiry, a revoked
# node's session, a BIND "from" a victim's address (return routability),
# and a relay-key change (the old key accepted for
# [relay] key_overlap, then no longer). Prints TAP; exits non-zero when a
# check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/nodelib.sh"
t_begin t_trsabuse bin/cyphonic-as bin/cyphonic-admin bin/cyphonic-nms bin/cyphonic-trs tools/cyph_node

# unanswered_ge FILE S T: at least S seconds' worth of a T-second stream's
# echoes lost. Counted at the rate the sender reached (every 10 ms on a
# quiet machine, fewer when it is loaded), so load cannot fail it.
unanswered_ge() {
	local sent echoed
	sent=$(sed -n 's/.*stream sent=\([0-9]*\).*/\1/p' "$1")
	echoed=$(sed -n 's/.*stream .*echoed=\([0-9]*\).*/\1/p' "$1")
	test -n "$sent" && test -n "$echoed" && test $((sent - echoed)) -ge $((sent * $2 / $3))
}

echo "TAP version 13"
as_setup nms alice bob carol dave erin frank gina
read -r NMS NMSH TRS TRSH TRSH2 < <(free_ports 5)
openssl rand -hex 32 > "$D/relay.key"
cp "$D/relay.key" "$D/trs-relay.key"

cat > "$D/nms.conf" <<CONF
[nms]
listen = 127.0.0.1:$NMS
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
crl = $D/crl.pem
crl_poll = 200ms
[relay]
endpoint4 = 127.0.0.1:$TRS
key_file = $D/relay.key
session_ttl = 10s
[http]
listen = 127.0.0.1:$NMSH
CONF
trs_conf() {	# trs_conf HTTP_PORT
	cat <<CONF
[trs]
listen = 127.0.0.1:$TRS
threads = 2
idle_timeout = 4s
grace_period = 1s
[relay]
key_file = $D/trs-relay.key
key_overlap = 20s
[ca]
cert = $D/ca.crt
crl = $D/crl.pem
crl_poll = 200ms
[http]
listen = 127.0.0.1:$1
CONF
}
trs_conf $TRSH > "$D/trs.conf"
trs_conf $TRSH2 > "$D/trs2.conf"

check "NMS credential from the AS" node nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol
check "CRL written by the AS" retry 10 test -s "$D/crl.pem"
$B/cyphonic-nms -c "$D/nms.conf" > "$D/nms.log" 2>&1 & NMS_PID=$!; pids+=($NMS_PID)
$B/cyphonic-trs -c "$D/trs.conf" > "$D/trs.log" 2>&1 & TRS_PID=$!; pids+=($TRS_PID)
check "NMS up" wait_port $NMSH
check "TRS up (reads the CRL)" wait_port $TRSH
check "TRS logged its CRL" grep -q 'CRL: ' "$D/trs.log"

# A second TRS on the same port: refused, not silently sharing it.
timeout 30 $B/cyphonic-trs -c "$D/trs2.conf" > "$D/trs2.log" 2>&1; rc=$?
check "a second TRS on the same port exits non-zero (rc $rc)" test $rc -ne 0 -a $rc -ne 124
check "and says the port is taken" grep -q 'already bound by another process' "$D/trs2.log"

# Captured BINDs replayed by a stranger after both ends closed.
node bob --nms 127.0.0.1:$NMS serve 6 --save-bind "$D/bob.bind" --close > "$D/bob.out" 2>&1 &
BOB=$!; pids+=($BOB)
wait_line "$D/bob.out" '^ok registered'
node alice --force-relay --nms 127.0.0.1:$NMS --save-bind "$D/alice.bind" --close call bob.cyphonic.test 3 \
	> "$D/alice.out" 2>&1
check "relayed echo alice <-> bob: 3/3" grep -q '^ok echo 3/3' "$D/alice.out"
wait $BOB
check "both ends closed" grep -q '^ok closed' "$D/bob.out"
check "the closed session is kept as a tombstone" \
	retry 10 metric_ge $TRSH 'cyphonic_trs_tombstones' 1
"$T/cyph_node" replay 127.0.0.1:$TRS "$D/alice.bind" "$D/bob.bind" > "$D/replay.out" 2>&1
check "replayed BINDs refused after both ends closed, nothing relayed ($(cat "$D/replay.out"))" \
	grep -q '^ok replay bind0=replay bind1=replay relayed=0/5' "$D/replay.out"

# Return routability: a node holding a valid grant binds its end "from" a
# victim's address (a socket it never reads); the TRS only sends the
# victim its 80-byte challenges and never binds the end there, so its
# colluding peer cannot make it stream at the victim.
node gina --nms 127.0.0.1:$NMS serve 6 > "$D/gina.out" 2>&1 & pids+=($!)
wait_line "$D/gina.out" '^ok registered'
challenged0=$(metric $TRSH cyphonic_trs_bind_challenged_total)
node alice --force-relay --nms 127.0.0.1:$NMS --bind-via 127.0.0.7:0 --timeout 3000 \
	call gina.cyphonic.test 3 > "$D/alice-v.out" 2>&1
check "a BIND from a victim's address never binds the end ($(grep -h '^victim\|^error' "$D/alice-v.out" | tr '\n' ' '))" \
	bash -c "grep -q '^error bind timeout' '$D/alice-v.out' && grep -qE '^victim received ctrl=[1-9][0-9]* data=0' '$D/alice-v.out'"
check "... each answered with a challenge, counted" \
	retry 10 metric_ge $TRSH cyphonic_trs_bind_challenged_total $((challenged0 + 2))

# Forwarding stops at the grant's expiry (session_ttl 10 s), and a revoked
# node's session stops at once: two streams side by side.
node carol --nms 127.0.0.1:$NMS serve 18 > "$D/carol.out" 2>&1 & pids+=($!)
node erin --nms 127.0.0.1:$NMS serve 12 > "$D/erin.out" 2>&1 & pids+=($!)
wait_line "$D/carol.out" '^ok registered'
wait_line "$D/erin.out" '^ok registered'
node dave --force-relay --nms 127.0.0.1:$NMS --timeout 10000 --stream 14 call carol.cyphonic.test 3 \
	> "$D/dave.out" 2>&1 & DAVE=$!; pids+=($DAVE)
node frank --force-relay --nms 127.0.0.1:$NMS --timeout 10000 --stream 8 call erin.cyphonic.test 3 \
	> "$D/frank.out" 2>&1 & FRANK=$!; pids+=($FRANK)
check "frank streams through the relay" wait_line "$D/frank.out" '^ok streaming'
check "admin revokes frank (CRL rewritten)" $B/cyphonic-admin -c "$D/as.conf" revoke frank
check "the TRS unbinds the revoked node's end" \
	retry 10 metric_ge $TRSH 'cyphonic_trs_revoked_ends_total' 1
wait $FRANK
check "frank's relay stopped forwarding (>= 3 s of echoes lost: $(grep 'stream ' "$D/frank.out"))" \
	unanswered_ge "$D/frank.out" 3 8
wait $DAVE
check "dave's stream stopped at the grant's expiry (>= 2 s lost: $(grep 'stream ' "$D/dave.out"))" \
	unanswered_ge "$D/dave.out" 2 14
check "packets past the grant counted (grant_expired)" \
	retry 10 metric_ge $TRSH 'cyphonic_trs_dropped_packets_total{reason="grant_expired"}' 1

# Relay-key rotation: the TRS takes a new key; grants the NMS still issues
# under the old one bind during key_overlap (20 s: enough for a login,
# a route and a bind on a loaded machine), and not after it.
openssl rand -hex 32 > "$D/trs-relay.key"
kill -HUP $TRS_PID
check "TRS reloaded the new key" retry 10 metric_ge $TRSH 'cyphonic_trs_reloads_total{result="ok"}' 1
hup=$(date +%s)
node bob --nms 127.0.0.1:$NMS serve 15 > "$D/bob2.out" 2>&1 & pids+=($!)
wait_line "$D/bob2.out" '^ok registered'
node alice --force-relay --nms 127.0.0.1:$NMS call bob.cyphonic.test 2 > "$D/alice2.out" 2>&1
check "within the overlap a grant under the old key works (took $(( $(date +%s) - hup )) s)" \
	grep -q '^ok echo 2/2' "$D/alice2.out"
check "old-key requests counted" \
	retry 10 metric_ge $TRSH 'cyphonic_trs_previous_key_requests_total' 1
while [ $(( $(date +%s) - hup )) -le 21 ]; do sleep 0.5; done
node alice --force-relay --nms 127.0.0.1:$NMS --timeout 3000 call bob.cyphonic.test 1 > "$D/alice3.out" 2>&1
check "after the overlap the old key is refused ($(tail -n 1 "$D/alice3.out"))" \
	grep -q '^error bind' "$D/alice3.out"

check "kernel receive-queue drops exported ($(metric $TRSH cyphonic_trs_udp_rx_dropped_total))" \
	bash -c "curl -sf http://127.0.0.1:$TRSH/metrics | grep -q '^cyphonic_trs_udp_rx_dropped_total '"
kill -TERM $TRS_PID $NMS_PID
wait $TRS_PID; rc=$?
check "TRS exits 0 (rc $rc)" test $rc -eq 0
check "no sanitizer or crash output in the NMS and TRS logs" \
	bash -c "! grep -qiE 'sanitizer|segv|abort' $D/nms.log $D/trs.log"
tap_plan
exit $failed
