#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Replayed DATA packets (captured in the wan router after B accepted them)
# are dropped as replays, before decryption, and never delivered, whether
# they come from the original source or from another address; neither a replay nor an
# unauthentic packet from a new source moves the tunnel's endpoint.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping $PY
t_begin
trap 'topo_down; rm -f "$caps"' EXIT
caps=$(mktemp)

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "capture 5 DATA packets B accepted" capture_data 5 "$caps"
sleep 0.5
ep0=$(tfield $NS_B endpoint)
t_check "B's endpoint for A is A's address" test "$ep0" = "$A4:$PORT_A"

rx0=$(link_rx_packets $NS_B)
arx0=$(dstat $NS_A rx_packets)
rep0=$(dstat $NS_B rx_drop_replay)
inw $PKT inject --ifname b0 --dst-mac "$(mac_of $NS_B eth0)" --from "$caps"
sleep 0.5
t_expect "replay from the original source: rx_drop_replay +5" \
	"$(($(dstat $NS_B rx_drop_replay) - rep0))" -eq 5
t_expect "replay: tunnel counter rx_drop_replay" "$(tstat $NS_B rx_drop_replay)" -ge 5

rep0=$(dstat $NS_B rx_drop_replay)
inw $PKT send --dst $B4 --dport $PORT_B --src $W4B --sport 40999 --from "$caps"
sleep 0.5
t_expect "replay from another address: rx_drop_replay +5" \
	"$(($(dstat $NS_B rx_drop_replay) - rep0))" -eq 5
t_check "replay from another address did not change the endpoint" \
	test "$(tfield $NS_B endpoint)" = "$ep0"

# A replayed counter is refused before decryption: with its ciphertext
# tampered it still counts as a replay, not as an authentication failure.
auth0=$(dstat $NS_B rx_drop_auth)
rep0=$(dstat $NS_B rx_drop_replay)
inw $PKT inject --ifname b0 --dst-mac "$(mac_of $NS_B eth0)" --from "$caps" --limit 1 --tamper 30
sleep 0.5
t_expect "replayed counter, tampered ciphertext: rx_drop_replay +1 (refused before the AEAD)" \
	"$(($(dstat $NS_B rx_drop_replay) - rep0))" -eq 1
t_expect "replayed counter, tampered ciphertext: rx_drop_auth +0" \
	"$(($(dstat $NS_B rx_drop_auth) - auth0))" -eq 0

# A fresh counter (its last byte flipped) with no valid tag.
auth0=$(dstat $NS_B rx_drop_auth)
inw $PKT send --dst $B4 --dport $PORT_B --src $W4B --sport 40998 --from "$caps" --limit 1 --tamper 15 --index 2
sleep 0.5
t_expect "forged packet from another address: rx_drop_auth +1" \
	"$(($(dstat $NS_B rx_drop_auth) - auth0))" -eq 1
t_check "forged packet did not change the endpoint" \
	test "$(tfield $NS_B endpoint)" = "$ep0"

t_expect "nothing replayed was delivered to B's stack" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0
t_expect "A got no extra replies" "$(($(dstat $NS_A rx_packets) - arx0))" -eq 0
t_check "tunnel still works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_end
