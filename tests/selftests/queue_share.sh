#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One busy tunnel cannot starve another: A and B hold two tunnels (two
# local identities each, as an adapter does for its devices); a UDP flood
# far above what the pipeline carries (workers = 1) goes through the first
# while the second carries a ping. The ping gets through, and the flood's
# excess is dropped and counted by reason, its share of the device queues
# included (tx/rx_drop_queue_share).
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3 ping
t_begin
trap topo_down EXIT

VA4B=10.99.1.1 VB4B=10.99.1.2 IDX_A2=3 IDX_B2=4

setup 4 workers 1 || t_abort "setup failed"
KEY2_AB=$(cyphctl genkey) && KEY2_BA=$(cyphctl genkey) || t_abort "keys"
# The second identity on each side, and its own tunnel with its own keys.
ina cyphctl local add cyph0 vip4 $VA4B || t_abort "second identity A"
inb cyphctl local add cyph0 vip4 $VB4B || t_abort "second identity B"
ip -n $NS_A addr add $VA4B/24 dev cyph0
ip -n $NS_B addr add $VB4B/24 dev cyph0
ina cyphctl tunnel add cyph0 index $IDX_A2 peer-index $IDX_B2 \
	local4 $VA4B remote4 $VB4B endpoint "$(ep_of_b 4)" \
	key-id 0 tx-key "$KEY2_AB" rx-key "$KEY2_BA" || t_abort "tunnel 2 at A"
inb cyphctl tunnel add cyph0 index $IDX_B2 peer-index $IDX_A2 \
	local4 $VB4B remote4 $VA4B endpoint "$(ep_of_a 4)" \
	key-id 0 tx-key "$KEY2_BA" rx-key "$KEY2_AB" || t_abort "tunnel 2 at B"
t_check "tunnel 1 works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "tunnel 2 works" ina ping -c 2 -i 0.2 -W 5 -I $VA4B $VB4B

iperf_server $NS_B || t_abort "iperf3 server did not start"
sysctl -qw net.core.wmem_max=33554432 net.core.rmem_max=33554432
ina iperf3 -c $VB4 -u -b 4G -l 1380 -P 4 -w 4M -t 20 > /dev/null 2>&1 &
client=$!
sleep 3
ok=$(ina ping -c 30 -i 0.3 -W 2 -I $VA4B $VB4B 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
wait $client
wait "$IPERF_SERVER_PID" 2> /dev/null
sleep 1
diag "ping on tunnel 2 during the flood on tunnel 1: ${ok:-0}/30 replies"
diag "drops A: $(drops $NS_A)"
diag "drops B: $(drops $NS_B)"
t_expect "flood on tunnel 1: B received its packets" "$(tstat $NS_B rx_packets)" -gt 1000
t_expect "the ping on tunnel 2 got through the flood (>= 27 of 30)" "${ok:-0}" -ge 27
share=$(($(dstat $NS_A tx_drop_queue_share) + $(dstat $NS_B rx_drop_queue_share)))
full=$(($(dstat $NS_A tx_drop_queue_full) + $(dstat $NS_B rx_drop_queue_full)))
t_expect "the flood's excess was dropped and counted (queue_share + queue_full)" \
	"$((share + full))" -gt 0
t_check "tunnel 2 still works" ina ping -c 2 -i 0.2 -W 5 -I $VA4B $VB4B
t_end
