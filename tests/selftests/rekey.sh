#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Loss-free rekeying: the next key is installed on both sides and one side
# swaps during a UDP stream; the other side promotes the key by itself on
# the first packet under it. No packet may be lost and the new key must be
# in use afterwards. Done twice: swap on A under iperf3 UDP, then swap on B
# under a counted ping flood.
#
# Nothing here depends on timing: the next keys are installed before each
# stream starts (an installed next key changes nothing on the wire), the
# swap waits until the stream is seen flowing under the old key, and each
# stream is long (about 20 s) beside the one command the swap costs, so the
# swap lands mid-stream even at load average 10 under TCG. A stream that
# ended before the swap is reported as such, not as packet loss.
. "$(dirname "$0")/lib.sh"
need ip cyphctl jq iperf3 ping
t_begin
trap 'topo_down; rm -f "$res"' EXIT
res=$(mktemp)

# next_keys ID: install a fresh key pair in the next slot on both sides
next_keys() {
	local ab ba
	ab=$(cyphctl genkey) && ba=$(cyphctl genkey) &&
		ina cyphctl tunnel set cyph0 index $IDX_A slot next key-id "$1" tx-key "$ab" rx-key "$ba" &&
		inb cyphctl tunnel set cyph0 index $IDX_B slot next key-id "$1" tx-key "$ba" rx-key "$ab"
}

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "primary key id is 0" test "$(primary_key_id $NS_A)" = 0

t_check "install next key (id 1) on both sides" next_keys 1
t_check "both slots present on A" test "$(nkeys $NS_A)" = 2
tx0=$(primary_key $NS_A tx)
iperf_server $NS_B || t_fail "iperf3 server did not start"
# What the tunnel carried (A's cyph0 sent, B's cyph0 delivered) and what
# B's UDP socket dropped for want of buffer on a loaded guest: iperf3's
# loss may only be the latter.
read -r _ _ _ atx0 <<< "$(devstats $NS_A)"
brx0=$(link_rx_packets $NS_B)
rcvbuf0=$(snmp $NS_B snmp Udp:RcvbufErrors)
ina iperf3 -c $VB4 -u -b 1M -l 1000 -t 20 -J > "$res" 2>&1 &
client=$!
flowing() { [ "$(primary_key $NS_A tx)" -gt $((tx0 + 50)) ]; }
t_check "the UDP stream flows under key 0" wait_until 60 flowing
t_check "swap on A during the stream" ina cyphctl tunnel swap cyph0 index $IDX_A
t_check "the stream was still running at the swap" kill -0 $client
wait $client
rc=$?
wait "$IPERF_SERVER_PID" 2> /dev/null
t_expect "iperf3 UDP stream finished" "$rc" -eq 0
sent=$(jq '.end.sum.packets // 0' "$res" 2> /dev/null)
lost=$(jq '.end.sum.lost_packets // -1' "$res" 2> /dev/null)
diag "iperf3 UDP: $sent packets, $lost lost"
t_expect "UDP packets went through" "${sent:-0}" -gt 500
read -r _ _ _ atx <<< "$(devstats $NS_A)"
brx=$(link_rx_packets $NS_B)
rcvbuf=$(($(snmp $NS_B snmp Udp:RcvbufErrors) - rcvbuf0))
diag "tunnel: A sent $((atx - atx0)), B delivered $((brx - brx0)); B's UDP receive buffer dropped $rcvbuf"
t_expect "the tunnel delivered every packet A sent across the rekey" \
	"$((brx - brx0))" -eq "$((atx - atx0))"
t_expect "iperf3 lost no packet but those B's socket dropped (RcvbufErrors)" \
	"${lost:--1}" -le "$rcvbuf"
t_check "A's primary key is now id 1" test "$(primary_key_id $NS_A)" = 1
t_check "B promoted key id 1 by itself" test "$(primary_key_id $NS_B)" = 1
t_expect "A sent under the new key" "$(primary_key $NS_A tx)" -gt 100
t_expect "B received under the new key" "$(primary_key $NS_B rx)" -gt 100

# Second round from the other side, with a counted ping flood.
t_check "install next key (id 2) on both sides" next_keys 2
rx0=$(primary_key $NS_B rx)
ina ping -c 1000 -i 0.02 -W 5 -q $VB4 > "$res" 2>&1 &
pinger=$!
flowing() { [ "$(primary_key $NS_B rx)" -gt $((rx0 + 20)) ]; }
t_check "the ping flood flows under key 1" wait_until 60 flowing
t_check "swap on B during the ping flood" inb cyphctl tunnel swap cyph0 index $IDX_B
t_check "the ping flood was still running at the swap" kill -0 $pinger
wait $pinger
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$res")
t_expect "all 1000 echo requests answered across the rekey" "${received:-0}" -eq 1000
t_check "B's primary key is now id 2" test "$(primary_key_id $NS_B)" = 2
t_check "A promoted key id 2 by itself" test "$(primary_key_id $NS_A)" = 2
d=$(drops $NS_A)
t_check "no drops on A${d:+ ($d)}" test -z "$d"
d=$(drops $NS_B)
t_check "no drops on B${d:+ ($d)}" test -z "$d"
t_end
