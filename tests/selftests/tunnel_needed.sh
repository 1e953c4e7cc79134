#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "Tunnel needed": traffic to a VIP without a tunnel raises a tunnel_needed
# event and is staged; once the tunnel is added the staged packets are sent
# (the very first echo request is answered). Without a tunnel the staged
# packets expire (tx_drop_staged_timeout) and a full stage drops the excess
# (tx_drop_staged_full): the stage is bounded in bytes of skb memory
# (CYPHONIC_STAGED_PAIR_BYTES per pair), not in packets.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping
t_begin
trap 'topo_down; rm -f "$mon"' EXIT
mon=$(mktemp)
PAIR_BYTES=65536

# event_for VIP: the monitor printed a tunnel_needed event naming VIP
event_for() {
	local l
	while IFS= read -r l; do
		[[ $l == *'"event":"tunnel_needed"'* && $l == *"\"$1\""* ]] && return 0
	done < "$mon"
	return 1
}

topo_up && cyph_up && genkeys || t_abort "setup failed"
ina cyphctl monitor --json > "$mon" &
mon_pid=$!
sleep 0.5

# Staged, then flushed when the tunnel arrives.
ina ping -c 1 -W 20 $VB4 > /dev/null 2>&1 &
p4=$!
ina ping -6 -c 1 -W 20 $VB6 > /dev/null 2>&1 &
p6=$!
t_check "tunnel_needed event for $VB4" wait_until 5 event_for $VB4
t_check "tunnel_needed event for $VB6" wait_until 5 event_for $VB6
t_check "the event names the local VIP too" event_for $VA4
sleep 1
t_check "B adds its tunnel" tunnel_b 4
t_check "A adds its tunnel (flushes the staged packets)" tunnel_a 4
wait $p4
t_expect "the staged IPv4 echo request was delivered and answered" $? -eq 0
wait $p6
t_expect "the staged IPv6 echo request was delivered and answered" $? -eq 0
t_expect "nothing expired" "$(dstat $NS_A tx_drop_staged_timeout)" -eq 0

# No tunnel ever comes: the staged packets expire.
to0=$(dstat $NS_A tx_drop_staged_timeout)
ina ping -c 3 -i 0.2 -W 1 10.99.0.7 > /dev/null 2>&1
t_check "tunnel_needed event for 10.99.0.7" wait_until 5 event_for 10.99.0.7
sleep 6
t_expect "3 staged packets expired (tx_drop_staged_timeout +3)" \
	"$(($(dstat $NS_A tx_drop_staged_timeout) - to0))" -eq 3

# Small packets: 20 of them fit a pair's bytes (no packet-count limit).
to0=$(dstat $NS_A tx_drop_staged_timeout)
full0=$(dstat $NS_A tx_drop_staged_full)
ina ping -c 20 -i 0.01 -W 1 10.99.0.8 > /dev/null 2>&1
sleep 6
t_expect "20 small packets: none dropped as staged_full" \
	"$(($(dstat $NS_A tx_drop_staged_full) - full0))" -eq 0
t_expect "20 small packets: all 20 staged, then expired" \
	"$(($(dstat $NS_A tx_drop_staged_timeout) - to0))" -eq 20

# Large packets: more than a pair's bytes hold.
to0=$(dstat $NS_A tx_drop_staged_timeout)
full0=$(dstat $NS_A tx_drop_staged_full)
ina ping -c 60 -i 0.01 -s 1300 -W 1 10.99.0.9 > /dev/null 2>&1
sleep 6
full=$(($(dstat $NS_A tx_drop_staged_full) - full0))
staged=$(($(dstat $NS_A tx_drop_staged_timeout) - to0))
diag "60 packets of 1328 bytes: $staged staged, $full dropped as staged_full"
t_expect "large packets: the excess is dropped (tx_drop_staged_full)" "$full" -gt 0
t_expect "large packets: every one staged or dropped" "$((full + staged))" -eq 60
t_expect "large packets: at most $PAIR_BYTES bytes were staged" \
	"$((staged * 1328))" -le $PAIR_BYTES
t_check "the tunnel to B still works" ina ping -c 2 -i 0.2 -W 5 $VB4
kill $mon_pid 2> /dev/null
wait $mon_pid 2> /dev/null
diag "events: $(tr '\n' ' ' < "$mon" | cut -c1-400)"
t_end
