#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Behaviours WireGuard's own netns tests check, for cyphonic:
#  1. the netdev counters agree across the tunnel (A's TX == B's RX);
#  2. undeliverable packets get an ICMP host unreachable (staging timeout,
#     no local identity, TUNNEL_UNREACHABLE from user space);
#  3. replies leave from the local address the peer contacted, until that
#     address disappears;
#  4. a tunnel inside a tunnel carries traffic; a tunnel routed into its
#     own device is refused and counted;
#  5. a device created in one namespace moves into another (a container),
#     works there with its sockets left behind, and dies with it.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping
t_begin
CTR=ctr
trap 'ip netns pids $CTR 2> /dev/null | xargs -r kill 2> /dev/null; ip netns del $CTR 2> /dev/null; topo_down; rm -f "$mon" "$out"' EXIT
mon=$(mktemp) out=$(mktemp)

# jdev NS DEV: cyphctl show DEV --json in NS
jdev() { nsx "$1" cyphctl show "$2" --json; }
# dev_stat NS DEV NAME / tun_field NS DEV NAME: as dstat / tfield, any device
dev_stat() { jpick "$(jdev "$1" "$2")" "\"stats\":\{[^}]*\"$3\":([0-9]+)"; }
tun_field() { jpick "$(jdev "$1" "$2")" "\"tunnels\":\[\{[^]]*\"$3\":\"?([^\",]*)"; }
endpoint_is() { [ "$(tfield "$1" endpoint)" = "$2" ]; }
gone() { ! kill -0 "$1" 2> /dev/null; }

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4

# ---- 1. counters ----------------------------------------------------------
sleep 0.5
read -r a_rxb0 a_rxp0 a_txb0 a_txp0 <<< "$(devstats $NS_A)"
read -r b_rxb0 b_rxp0 b_txb0 b_txp0 <<< "$(devstats $NS_B)"
ca_tx0=$(dstat $NS_A tx_bytes) cb_rx0=$(dstat $NS_B rx_bytes)
ina ping -c 10 -i 0.2 -W 5 -q $VB4 > /dev/null
ina ping -6 -c 10 -i 0.2 -s 1000 -W 5 -q $VB6 > /dev/null
sleep 0.5
read -r a_rxb a_rxp a_txb a_txp <<< "$(devstats $NS_A)"
read -r b_rxb b_rxp b_txb b_txp <<< "$(devstats $NS_B)"
diag "A tx $((a_txp - a_txp0)) packets $((a_txb - a_txb0)) bytes, B rx $((b_rxp - b_rxp0)) packets $((b_rxb - b_rxb0)) bytes"
t_expect "20 echo requests left A" "$((a_txp - a_txp0))" -eq 20
t_expect "A's netdev TX packets == B's netdev RX packets" "$((a_txp - a_txp0))" -eq "$((b_rxp - b_rxp0))"
t_expect "A's netdev TX bytes == B's netdev RX bytes (inner length on both)" \
	"$((a_txb - a_txb0))" -eq "$((b_rxb - b_rxb0))"
t_expect "B's netdev TX packets == A's netdev RX packets" "$((b_txp - b_txp0))" -eq "$((a_rxp - a_rxp0))"
t_expect "B's netdev TX bytes == A's netdev RX bytes" "$((b_txb - b_txb0))" -eq "$((a_rxb - a_rxb0))"
t_expect "netdev TX bytes are the inner packets' (10 x 84 + 10 x 1048)" \
	"$((a_txb - a_txb0))" -eq $((10 * 84 + 10 * 1048))
t_expect "cyphctl: A's tx_bytes == B's rx_bytes" \
	"$(($(dstat $NS_A tx_bytes) - ca_tx0))" -eq "$(($(dstat $NS_B rx_bytes) - cb_rx0))"
t_expect "cyphctl and netdev agree on A's TX bytes" \
	"$(($(dstat $NS_A tx_bytes) - ca_tx0))" -eq "$((a_txb - a_txb0))"

# ---- 2. ICMP errors for undeliverable packets -----------------------------
icmp0=$(dstat $NS_A tx_icmp_unreachable)
ina ping -c 1 -W 10 10.99.0.9 > "$out" 2>&1
t_check "staging timeout: ping shows Destination Host Unreachable" grep -q 'Destination Host Unreachable' "$out"
ina ping -6 -c 1 -W 10 fd00:99::9 > "$out" 2>&1
t_check "staging timeout, IPv6: ping shows Address unreachable" grep -qi 'Address unreachable' "$out"
t_expect "both counted (tx_icmp_unreachable +2)" "$(($(dstat $NS_A tx_icmp_unreachable) - icmp0))" -ge 2
t_expect "and dropped as tx_drop_staged_timeout" "$(dstat $NS_A tx_drop_staged_timeout)" -ge 2

ip -n $NS_A addr add 10.99.0.5/32 dev cyph0
nt0=$(dstat $NS_A tx_drop_no_tunnel)
ina ping -c 1 -W 10 -I 10.99.0.5 $VB4 > "$out" 2>&1
t_check "source of no local identity: Destination Host Unreachable at once" grep -q 'Destination Host Unreachable' "$out"
t_expect "counted as tx_drop_no_tunnel" "$(($(dstat $NS_A tx_drop_no_tunnel) - nt0))" -eq 1
ip -n $NS_A addr del 10.99.0.5/32 dev cyph0

ina cyphctl monitor --json > "$mon" &
mon_pid=$!
sleep 0.5
ina ping -c 1 -W 30 10.99.0.8 > "$out" 2>&1 &
ping_pid=$!
t_check "tunnel_needed for 10.99.0.8" wait_until 5 grep -q '"event":"tunnel_needed".*10.99.0.8' "$mon"
un0=$(dstat $NS_A tx_drop_unreachable)
t_check "user space: no tunnel can be made (cyphctl tunnel unreachable)" \
	ina cyphctl tunnel unreachable cyph0 local4 $VA4 remote4 10.99.0.8
t_check "the waiting ping ends, well before its 30 s" wait_until 5 gone $ping_pid
wait $ping_pid
t_check "it shows Destination Host Unreachable" grep -q 'Destination Host Unreachable' "$out"
ina ping -c 1 -W 10 10.99.0.8 > "$out" 2>&1
t_check "the next packet is refused at once, without staging" grep -q 'Destination Host Unreachable' "$out"
t_expect "both counted as tx_drop_unreachable" "$(($(dstat $NS_A tx_drop_unreachable) - un0))" -eq 2
kill $mon_pid 2> /dev/null
wait $mon_pid 2> /dev/null
fails() { ! "$@"; }
t_check "unreachable needs one VIP pair (cyphctl refuses none)" \
	fails ina cyphctl tunnel unreachable cyph0 index 1
t_check "unreachable of no local identity is refused" \
	fails ina cyphctl tunnel unreachable cyph0 local4 10.98.7.1 remote4 10.98.7.2

# ---- 3. replies from the address the peer contacted -----------------------
B4_2=198.51.100.3 B6_2=2001:db8:b::3
ip -n $NS_B addr add $B4_2/24 dev eth0
t_check "A sends to B's second IPv4 address" \
	ina cyphctl tunnel set cyph0 index $IDX_A endpoint $B4_2:$PORT_B
t_check "tunnel works via the second address" ina ping -c 3 -i 0.2 -W 5 $VB4
t_check "B answers from it: A's endpoint stays $B4_2" endpoint_is $NS_A "$B4_2:$PORT_B"
ip -n $NS_B addr del $B4_2/24 dev eth0
t_check "the address is gone: B's own packets still reach A" inb ping -c 2 -i 0.2 -W 5 $VA4
t_check "from B's first address (A's endpoint follows to $B4)" endpoint_is $NS_A "$B4:$PORT_B"

# IPv6: the newest address is preferred as a source, so add a second one
# after the tunnel uses the first.
t_check "A sends to B's first IPv6 address" \
	ina cyphctl tunnel set cyph0 index $IDX_A endpoint "[$B6]:$PORT_B"
ip -n $NS_B addr add $B6_2/64 dev eth0 nodad
t_check "tunnel works over IPv6" ina ping -c 3 -i 0.2 -W 5 $VB4
t_check "B answers from $B6, not its newer $B6_2" endpoint_is $NS_A "[$B6]:$PORT_B"
t_check "B's reply source is what A contacted (B's view: A at [$A6])" endpoint_is $NS_B "[$A6]:$PORT_A"

# ---- 4. a tunnel inside a tunnel ------------------------------------------
# cyphn in A and B, its endpoints the outer tunnel's VIPs (via cyph0).
VNA=10.98.0.1 VNB=10.98.0.2 PNA=40011 PNB=40012
genkeys || t_abort "genkey failed"
for ns in $NS_A $NS_B; do
	ip -n $ns link add cyphn mtu 1300 type cyphonic || t_abort "cyphn in $ns"
done
ina cyphctl set cyphn listen-port $PNA && inb cyphctl set cyphn listen-port $PNB &&
	ina cyphctl local add cyphn vip4 $VNA && inb cyphctl local add cyphn vip4 $VNB &&
	ip -n $NS_A addr add $VNA/24 dev cyphn && ip -n $NS_B addr add $VNB/24 dev cyphn &&
	ip -n $NS_A link set cyphn up && ip -n $NS_B link set cyphn up &&
	ina cyphctl tunnel add cyphn index 1 peer-index 2 local4 $VNA remote4 $VNB \
		endpoint $VB4:$PNB key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA" 2> /dev/null &&
	inb cyphctl tunnel add cyphn index 2 peer-index 1 local4 $VNB remote4 $VNA \
		endpoint $VA4:$PNA key-id 0 tx-key "$KEY_BA" rx-key "$KEY_AB" 2> /dev/null ||
	t_abort "inner tunnel setup failed"
outer0=$(dstat $NS_A tx_packets)
t_check "a tunnel inside the tunnel carries a ping" ina ping -c 3 -i 0.2 -W 5 $VNB
t_expect "through the outer tunnel (its tx_packets grew)" "$(($(dstat $NS_A tx_packets) - outer0))" -ge 3
t_expect "no route-loop drop on the inner device" "$(dev_stat $NS_A cyphn tx_drop_route_loop)" -eq 0
# A real loop: the inner tunnel's endpoint routed through the inner device.
t_check "endpoint routed via the tunnel's own device" \
	ina cyphctl tunnel set cyphn index 1 endpoint $VNB:$PNB
ina ping -c 2 -i 0.2 -W 1 $VNB > /dev/null 2>&1
t_expect "refused and counted (tx_drop_route_loop)" "$(dev_stat $NS_A cyphn tx_drop_route_loop)" -ge 2
ip -n $NS_A link del cyphn
ip -n $NS_B link del cyphn

# ---- 5. moving the device into another namespace --------------------------
VCA=10.97.0.1 VCB=10.97.0.2 PCA=40021 PCB=40022
ip netns add $CTR || t_abort "netns add"
anchor $CTR
inc() { nsx $CTR "$@"; }
ip -n $NS_A link add cyphc type cyphonic && ina cyphctl set cyphc listen-port $PCA ||
	t_abort "cyphc in $NS_A"
t_check "the device moves to another namespace" ip -n $NS_A link set cyphc netns $CTR
t_check "it is there" ip -n $CTR link show cyphc
t_expect "its IPv4 socket stays in the birth namespace" \
	"$(jpick "$(jdev $CTR cyphc)" '"port4":([0-9]+)')" -eq $PCA
ip -n $NS_B link add cyphc type cyphonic && inb cyphctl set cyphc listen-port $PCB &&
	inb cyphctl local add cyphc vip4 $VCB && ip -n $NS_B addr add $VCB/24 dev cyphc &&
	ip -n $NS_B link set cyphc up &&
	inb cyphctl tunnel add cyphc index 2 peer-index 1 local4 $VCB remote4 $VCA \
		endpoint $A4:$PCA key-id 0 tx-key "$KEY_BA" rx-key "$KEY_AB" 2> /dev/null ||
	t_abort "B's cyphc"
t_check "configured from inside the namespace (netlink there)" \
	inc cyphctl local add cyphc vip4 $VCA
ip -n $CTR addr add $VCA/24 dev cyphc && ip -n $CTR link set lo up && ip -n $CTR link set cyphc up
no_linklocal() { [ -z "$(ip -n "$1" -6 addr show dev "$2" scope link)" ]; }
t_check "no IPv6 link-local address after the move" no_linklocal $CTR cyphc
inc cyphctl monitor --json > "$mon" &
mon_pid=$!
sleep 0.5
inc ping -c 1 -W 10 $VCB > /dev/null 2>&1 &
ping_pid=$!
t_check "events go to the device's namespace (tunnel_needed there)" \
	wait_until 5 grep -q '"event":"tunnel_needed".*10.97.0.2' "$mon"
t_check "tunnel added from inside" \
	inc cyphctl tunnel add cyphc index 1 peer-index 2 local4 $VCA remote4 $VCB \
	endpoint $B4:$PCB key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA"
wait $ping_pid
t_expect "the staged ping was sent through it and answered" $? -eq 0
t_check "ping from inside the namespace" inc ping -c 3 -i 0.2 -W 5 $VCB
t_check "and from the peer into it" inb ping -c 2 -i 0.2 -W 5 $VCA
kill $mon_pid 2> /dev/null
wait $mon_pid 2> /dev/null

# Deleting the namespace destroys the device (seen by dynamic debug).
destroyed() { dmesg | sed -n "/$1/,\$p" | grep -q 'cyphonic: cyphc destroyed'; }
marker="parity: netns del $$ $(date +%s%N)"
if ddebug +p; then
	echo "$marker" > /dev/kmsg
	ip netns pids $CTR | xargs -r kill
	ip netns del $CTR
	t_check "deleting the namespace destroys the moved device" wait_until 30 destroyed "$marker"
	ddebug -p
else
	ip netns pids $CTR | xargs -r kill
	ip netns del $CTR
	t_skip "deleting the namespace destroys the moved device" "no dynamic debug"
fi
port_free() { ! udp_bound "$@"; }
t_check "it let go of its sockets: the port is free again in the birth namespace" \
	wait_until 10 port_free $NS_A $PCA
t_end
