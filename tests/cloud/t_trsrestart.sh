#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 12, point 4: nothing captured before a restart is accepted after
# it, for a TRS without Redis (its sessions and sequence windows live in
# the process). The accepted BINDs of a live relay session (each carrying
# the proof of its sender's address) are captured, the TRS is SIGKILLed
# and restarted, and the BINDs are replayed, by a stranger and from the
# capturing node's own address: the restarted TRS draws its address
# proofs from a new secret, so every replay is challenged, binds nothing
# and relays nothing. The timestamp window and the grants are made long
# (10 min) so that only this, not staleness, can refuse them.
# (The NMS without Redis: t_nmsabuse.sh, "captured REGISTER ... restart".)
# Prints TAP; exits non-zero when a check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/nodelib.sh"
t_begin t_trsrestart bin/cyphonic-as bin/cyphonic-admin bin/cyphonic-nms bin/cyphonic-trs \
	tools/cyph_node

echo "TAP version 13"
as_setup nms alice bob carol
read -r NMS NMSH TRS TRSH < <(free_ports 4)
openssl rand -hex 32 > "$D/relay.key"
{ nms_conf_base $NMS $NMSH; cat <<CONF; } > "$D/nms.conf"
[relay]
endpoint4 = 127.0.0.1:$TRS
key_file = $D/relay.key
session_ttl = 10m
CONF
cat > "$D/trs.conf" <<CONF
[trs]
listen = 127.0.0.1:$TRS
max_skew = 10m
[relay]
key_file = $D/relay.key
[http]
listen = 127.0.0.1:$TRSH
CONF

start_trs() {
	$B/cyphonic-trs -c "$D/trs.conf" >> "$D/trs.log" 2>&1 & TRS_PID=$!; pids+=($TRS_PID)
}

check "NMS credential from the AS" node nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol
$B/cyphonic-nms -c "$D/nms.conf" > "$D/nms.log" 2>&1 & pids+=($!)
start_trs
check "NMS up" wait_port $NMSH
check "TRS up" wait_port $TRSH

node bob --nms 127.0.0.1:$NMS --save-bind "$D/bob.bind" serve 60 > "$D/bob.out" 2>&1 & pids+=($!)
check "bob registered" wait_line "$D/bob.out" '^ok registered'
node alice --force-relay --nms 127.0.0.1:$NMS --save-bind "$D/alice.bind" call bob.cyphonic.test 3 \
	> "$D/alice.out" 2>&1
check "relayed echo alice <-> bob: 3/3" grep -q '^ok echo 3/3' "$D/alice.out"
check "bob's end bound" wait_line "$D/bob.out" '^ok bound'
alice_local=$(sed -n 's/^ok registered .* local=\([^ ]*\).*/\1/p' "$D/alice.out")
check "alice's address known ($alice_local)" test -n "$alice_local"
check "the captured BINDs carry an address proof" \
	bash -c "test \"\$(od -An -tx1 -j42 -N6 '$D/alice.bind' | tr -d ' ')\" != 000000000000"

"$T/cyph_node" replay 127.0.0.1:$TRS "$D/alice.bind" "$D/bob.bind" > "$D/replay0.out" 2>&1
check "before the restart a stranger's replay is refused ($(cat "$D/replay0.out"))" \
	grep -q '^ok replay bind0=replay bind1=replay relayed=0/5' "$D/replay0.out"

# Refused: challenged (the old proofs are void); or a replay, when bob's
# own refresh (with a new proof and a newer sequence number) came first.
refused='(challenge|replay)'
kill -KILL $TRS_PID; wait $TRS_PID 2>/dev/null
start_trs
check "TRS restarted after SIGKILL" wait_port $TRSH
"$T/cyph_node" replay 127.0.0.1:$TRS "$D/alice.bind" "$D/bob.bind" > "$D/replay1.out" 2>&1
check "after the restart a stranger's replay is refused, nothing relayed ($(cat "$D/replay1.out"))" \
	grep -Eq "^ok replay bind0=$refused bind1=$refused relayed=0/5" "$D/replay1.out"
"$T/cyph_node" --local "$alice_local" replay 127.0.0.1:$TRS "$D/alice.bind" "$D/bob.bind" \
	> "$D/replay2.out" 2>&1
check "a replay from alice's own address is refused too ($(cat "$D/replay2.out"))" \
	grep -Eq "^ok replay bind0=$refused bind1=$refused relayed=0/5" "$D/replay2.out"
check "challenges counted" retry 10 metric_ge $TRSH cyphonic_trs_bind_challenged_total 2

# The restarted TRS serves: a new relayed session (carol: bob binds only once).
node carol --nms 127.0.0.1:$NMS serve 30 > "$D/carol.out" 2>&1 & pids+=($!)
check "carol registered" wait_line "$D/carol.out" '^ok registered'
node alice --force-relay --nms 127.0.0.1:$NMS call carol.cyphonic.test 3 > "$D/alice2.out" 2>&1
check "a relayed echo through the restarted TRS: 3/3" grep -q '^ok echo 3/3' "$D/alice2.out"
tap_plan
exit $failed
