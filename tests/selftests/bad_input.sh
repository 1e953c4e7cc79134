#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Malformed and unauthentic input on the UDP port is dropped and counted by
# reason, never delivered: wrong key, tampered ciphertext, truncated
# packets, short garbage, bad header fields, unknown receiver index, unknown
# key id; non-DATA packet types are passed to the socket's owner (counted
# as rx_control). The same in a train (one UDP GSO datagram, cut apart by
# B's UDP layer): a tunnel's DATA datagrams are opened as one unit, at
# once even when the train ends in a control message.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping $PY
t_begin
trap 'topo_down; rm -f "$caps"' EXIT
caps=$(mktemp)

# delta NS COUNTER CMD...: how much COUNTER of NS's device grew over CMD
delta() {
	local ns=$1 c=$2 v0
	shift 2
	v0=$(dstat "$ns" "$c")
	"$@" > /dev/null 2>&1
	sleep 0.5
	echo $(($(dstat "$ns" "$c") - v0))
}

# ---- wrong key: B expects a different key from A ----
topo_up && cyph_up && genkeys || t_abort "setup failed"
WRONG=$(cyphctl genkey)
tunnels_up 4 "$WRONG" || t_abort "tunnel setup failed"
rx0=$(link_rx_packets $NS_B)
auth=$(delta $NS_B rx_drop_auth ina ping -c 3 -i 0.2 -W 1 $VB4)
t_expect "wrong key: authentication failures counted (rx_drop_auth)" "$auth" -ge 3
t_expect "wrong key: nothing delivered to B's stack" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0
t_expect "wrong key: B's tunnel counts them too" "$(tstat $NS_B rx_drop_auth)" -ge 3
t_check "wrong key: ping fails" bash -c "! nsenter --net=/run/netns/$NS_A ping -c 1 -W 1 $VB4"
topo_down

# ---- the rest with a working tunnel ----
setup 4 || t_abort "setup failed"
t_check "working tunnel: ping" ina ping -c 2 -i 0.2 -W 5 $VB4
if ! capture_data 4 "$caps" fresh; then
	t_fail "capture fresh DATA packets in wan"
	t_end
fi
bmac=$(mac_of $NS_B eth0)
inject() { inw $PKT inject --ifname b0 --dst-mac "$bmac" --from "$caps" "$@"; }

rx0=$(link_rx_packets $NS_B)
auth0=$(dstat $NS_B rx_drop_auth)
t_expect "tampered ciphertext: counted as rx_drop_auth" \
	"$(delta $NS_B rx_drop_auth inject --limit 1 --tamper 30)" -eq 1
t_expect "tampered tag: counted as rx_drop_auth" \
	"$(delta $NS_B rx_drop_auth inject --limit 1 --tamper -1)" -eq 1
t_expect "tampered counter (part of the AAD): counted as rx_drop_auth" \
	"$(delta $NS_B rx_drop_auth inject --limit 1 --tamper 15)" -eq 1
t_expect "truncated inside the ciphertext: counted as rx_drop_auth" \
	"$(delta $NS_B rx_drop_auth inject --limit 1 --truncate 40)" -eq 1
for len in 1 4 8 15; do
	t_expect "truncated to $len bytes: counted as rx_drop_bad_header" \
		"$(delta $NS_B rx_drop_bad_header inject --limit 1 --truncate $len)" -eq 1
done
for len in 16 31; do
	v0=$(($(dstat $NS_B rx_drop_bad_header) + $(dstat $NS_B rx_drop_auth)))
	inject --limit 1 --truncate $len
	sleep 0.5
	v1=$(($(dstat $NS_B rx_drop_bad_header) + $(dstat $NS_B rx_drop_auth)))
	t_expect "header without a full tag ($len bytes): dropped as bad header or auth" "$((v1 - v0))" -eq 1
done
t_expect "unknown receiver index: counted as rx_drop_unknown_index" \
	"$(delta $NS_B rx_drop_unknown_index inject --limit 1 --index 0xdeadbeef)" -eq 1
t_expect "receiver index 0: counted as rx_drop_unknown_index" \
	"$(delta $NS_B rx_drop_unknown_index inject --limit 1 --index 0)" -eq 1
t_expect "key id with no key: counted as rx_drop_no_key" \
	"$(delta $NS_B rx_drop_no_key inject --limit 1 --key-id 3)" -eq 1
t_expect "no packet above was delivered to B's stack" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0

# Garbage from an ordinary socket in wan.
send() { inw $PKT send --dst $B4 --dport $PORT_B --payload "$1"; }
bad0=$(dstat $NS_B rx_drop_bad_header)
for p in 01 0100 01000000 0100000000000002 010000000000000200000000000000; do
	send $p
done
sleep 0.5
t_expect "short DATA garbage (5 packets < 16 bytes): counted as rx_drop_bad_header" \
	"$(($(dstat $NS_B rx_drop_bad_header) - bad0))" -eq 5
# index 2 (B's tunnel), counter 1, then 32 bytes of "ciphertext".
idx_ctr=000000020000000000000001
body=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
t_expect "DATA with unknown flag bits: counted as rx_drop_bad_header" \
	"$(delta $NS_B rx_drop_bad_header send "01800000$idx_ctr$body")" -eq 1
t_expect "DATA with non-zero reserved field: counted as rx_drop_bad_header" \
	"$(delta $NS_B rx_drop_bad_header send "0100ff00$idx_ctr$body")" -eq 1
ctl0=$(dstat $NS_B rx_control)
for type in 02 03 04 05; do
	send "${type}00000000000001"
done
sleep 0.5
t_expect "non-DATA types 2..5 reach the socket (rx_control +4)" \
	"$(($(dstat $NS_B rx_control) - ctl0))" -eq 4

# Trains: the captured DATA sent from wan as one UDP GSO datagram.
gso() { inw $PKT send --dst $B4 --dport $PORT_B --from "$caps" --gso "$@"; }
units0=$(dstat $NS_B rx_train_units)
t_expect "a train of 4 tampered DATA datagrams: each counted as rx_drop_auth" \
	"$(delta $NS_B rx_drop_auth gso --tamper 30)" -eq 4
t_expect "a train's DATA datagrams of one tunnel are opened as one unit (rx_train_units +1)" \
	"$(($(dstat $NS_B rx_train_units) - units0))" -eq 1
ctl0=$(dstat $NS_B rx_control)
t_expect "a train ending in a control message: its DATA datagrams are opened at once (rx_drop_auth +4)" \
	"$(delta $NS_B rx_drop_auth gso --tamper 30 --tail 0200000000000001)" -eq 4
t_expect "a train ending in a control message: that message reaches the socket (rx_control +1)" \
	"$(($(dstat $NS_B rx_control) - ctl0))" -eq 1
t_expect "no garbage was delivered to B's stack" "$(($(link_rx_packets $NS_B) - rx0))" -eq 0
t_check "tunnel still works after all that" ina ping -c 2 -i 0.2 -W 5 $VB4
t_end
