#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Roaming: A's underlay address changes in the middle of a TCP transfer.
# The transfer completes, and B's tunnel endpoint follows A to its new
# address (announced by an endpoint event).
. "$(dirname "$0")/lib.sh"
need ip cyphctl jq iperf3
t_begin
trap 'topo_down; rm -f "$mon" "$res"' EXIT
mon=$(mktemp) res=$(mktemp)
A4_NEW=192.0.2.3

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "B's endpoint is A's old address" test "$(tfield $NS_B endpoint)" = "$A4:$PORT_A"
inb cyphctl monitor --json > "$mon" &
mon_pid=$!
iperf_server $NS_B || t_fail "iperf3 server did not start"
ina iperf3 -c $VB4 -t 10 -J > "$res" 2>&1 &
client=$!
sleep 3
# Keep the new address when the old primary goes away.
ina sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
ip -n $NS_A addr add $A4_NEW/24 dev eth0
ip -n $NS_A route replace default via $W4A src $A4_NEW
ip -n $NS_A addr del $A4/24 dev eth0
ip -n $NS_A route replace default via $W4A src $A4_NEW
diag "A moved from $A4 to $A4_NEW at t=3 s"
wait $client
rc=$?
wait "$IPERF_SERVER_PID" 2> /dev/null
t_expect "TCP transfer across the move completed (iperf3 status)" "$rc" -eq 0
bytes=$(jq '.end.sum_received.bytes // 0' "$res" 2> /dev/null)
t_expect "TCP transfer received data" "${bytes:-0}" -gt 100000
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$res" | tail -n 5
# A answers from the address B contacted while it exists, so B sees the
# new one once A sends after the deletion (the transfer may be over by
# then on a slow guest): the ping.
t_check "ping still works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "B's endpoint is A's new address" test "$(tfield $NS_B endpoint)" = "$A4_NEW:$PORT_A"
sleep 0.5
kill $mon_pid 2> /dev/null
wait $mon_pid 2> /dev/null
t_check "B emitted an endpoint event with the new address" \
	jq -se "map(select(.event == \"endpoint\" and (tostring | contains(\"$A4_NEW\")))) | length > 0" "$mon"
t_end
