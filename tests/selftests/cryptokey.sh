#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cryptokey routing: a correctly encrypted packet whose inner VIPs are not
# the receiving tunnel's is dropped (rx_drop_cryptokey) and not delivered.
#
# A gets a second local identity 10.99.0.11 and its tunnel to B uses it, so
# A encrypts correctly with the tunnel's key; B's tunnel expects A's main
# VIP 10.99.0.1 and so sees a foreign inner source. The same with a foreign
# inner destination (B's tunnel is bound to B's second identity .12).
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping
t_begin
trap topo_down EXIT
VA4X=10.99.0.11 VB4X=10.99.0.12

# tunnels A_LOCAL A_REMOTE B_LOCAL B_REMOTE
tunnels() {
	ina cyphctl tunnel del cyph0 index $IDX_A 2> /dev/null
	inb cyphctl tunnel del cyph0 index $IDX_B 2> /dev/null
	ina cyphctl tunnel add cyph0 index $IDX_A peer-index $IDX_B \
		local4 "$1" remote4 "$2" endpoint "$B4:$PORT_B" \
		key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA" &&
		inb cyphctl tunnel add cyph0 index $IDX_B peer-index $IDX_A \
			local4 "$3" remote4 "$4" endpoint "$A4:$PORT_A" \
			key-id 0 tx-key "$KEY_BA" rx-key "$KEY_AB"
}

topo_up && cyph_up && genkeys || t_abort "setup failed"
t_check "A: second local identity" ina cyphctl local add cyph0 vip4 $VA4X
t_check "B: second local identity" inb cyphctl local add cyph0 vip4 $VB4X
ip -n $NS_A addr add $VA4X/32 dev cyph0
ip -n $NS_B addr add $VB4X/32 dev cyph0

# Foreign inner source.
t_check "tunnels A(.11->.2) / B(.2<-.1)" tunnels $VA4X $VB4 $VB4 $VA4
rx0=$(link_rx_packets $NS_B)
ck0=$(dstat $NS_B rx_drop_cryptokey)
tx0=$(dstat $NS_A tx_packets)
ina ping -c 3 -i 0.2 -W 1 -I $VA4X $VB4 > /dev/null
sleep 0.5
t_expect "A encrypted and sent the packets" "$(($(dstat $NS_A tx_packets) - tx0))" -ge 3
t_expect "foreign inner source: rx_drop_cryptokey +3" "$(($(dstat $NS_B rx_drop_cryptokey) - ck0))" -eq 3
t_expect "foreign inner source: tunnel counts rx_drop_cryptokey" "$(tstat $NS_B rx_drop_cryptokey)" -ge 3
t_expect "foreign inner source: authentication succeeded (no rx_drop_auth)" "$(dstat $NS_B rx_drop_auth)" -eq 0
t_expect "foreign inner source: nothing delivered" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0

# Foreign inner destination.
t_check "tunnels A(.1->.2) / B(.12<-.1)" tunnels $VA4 $VB4 $VB4X $VA4
ck0=$(dstat $NS_B rx_drop_cryptokey)
ina ping -c 3 -i 0.2 -W 1 $VB4 > /dev/null
sleep 0.5
t_expect "foreign inner destination: rx_drop_cryptokey +3" "$(($(dstat $NS_B rx_drop_cryptokey) - ck0))" -eq 3
t_expect "foreign inner destination: nothing delivered" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0

# Control: the matching configuration delivers.
t_check "tunnels A(.11->.2) / B(.2<-.11)" tunnels $VA4X $VB4 $VB4 $VA4X
t_check "matching inner VIPs: ping from the second identity" ina ping -c 2 -i 0.2 -W 5 -I $VA4X $VB4
t_end
