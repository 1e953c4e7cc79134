#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Trains shared by tunnels: A is an adapter whose devices (namespace
# "devs" behind A's LAN port) have the VIPs of 3 local identities, each
# with a tunnel of its own to B, and a TCP stream runs from each device
# address at once. A's sealed packets for B's one endpoint leave in UDP
# GSO trains that carry several tunnels' packets (tx_gso_shared: only
# forwarded packets share, a local socket's classify by the socket); B
# opens a tunnel's consecutive datagrams of a train as one unit
# (rx_train_units), and every one of them (no fault drops), each stream
# carries data, and what A counts as sent per tunnel is what B counts as received (the
# train's packets are each their own tunnel's). Last, a packet socket on
# B's underlay that reads late holds clones of trains that arrived whole,
# and none of what it reads may show the plaintext.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3
t_begin
trap 'ip netns del devs 2> /dev/null; topo_down; rm -f "$D"/res.* "$D"/hold.*; rmdir "$D" 2> /dev/null' EXIT
D=$(mktemp -d)

setup 4 || t_abort "setup failed"
ip netns add devs && anchor devs &&
	ip link add lan0 netns $NS_A type veth peer name eth0 netns devs ||
	t_abort "devs namespace"
ina sysctl -qw net.ipv4.ip_forward=1
ip -n $NS_A addr add 10.77.0.1/24 dev lan0 && ip -n $NS_A link set lan0 up &&
	ip -n devs addr add 10.77.0.2/24 dev eth0 && ip -n devs link set eth0 up &&
	ip -n devs link set lo up || t_abort "LAN"
# Identities 2..4 on each side, each with a tunnel of its own keys; A's
# are the devices' addresses, routed to them over the LAN.
for i in 2 3 4; do
	va=10.99.$i.1 vb=10.99.$i.2
	kab=$(cyphctl genkey) && kba=$(cyphctl genkey) || t_abort "keys"
	ina cyphctl local add cyph0 vip4 $va && inb cyphctl local add cyph0 vip4 $vb ||
		t_abort "identity $i"
	ip -n devs addr add $va/32 dev eth0
	ip -n devs route add $vb/32 via 10.77.0.1 src $va
	ip -n $NS_A route add $vb/32 dev cyph0
	ip -n $NS_A route add $va/32 via 10.77.0.2
	ip -n $NS_B addr add $vb/24 dev cyph0
	ina cyphctl tunnel add cyph0 index $((10 + i)) peer-index $((20 + i)) \
		local4 $va remote4 $vb endpoint "$(ep_of_b 4)" \
		key-id 0 tx-key "$kab" rx-key "$kba" || t_abort "tunnel $i at A"
	inb cyphctl tunnel add cyph0 index $((20 + i)) peer-index $((10 + i)) \
		local4 $vb remote4 $va endpoint "$(ep_of_a 4)" \
		key-id 0 tx-key "$kba" rx-key "$kab" || t_abort "tunnel $i at B"
done
DST=([2]=10.99.2.2 [3]=10.99.3.2 [4]=10.99.4.2)
SRC=([2]=10.99.2.1 [3]=10.99.3.1 [4]=10.99.4.1)
for i in 2 3 4; do
	t_check "device address $i reaches B through tunnel $i" \
		nsx devs ping -c 1 -W 5 -I "${SRC[$i]}" "${DST[$i]}"
done

s0=$(dstat $NS_A tx_gso_shared)
u0=$(dstat $NS_B rx_train_units)
pids=()
for i in 2 3 4; do
	nsenter --net=/run/netns/$NS_B -- iperf3 -s -1 -p $((5200 + i)) > /dev/null 2>&1 < /dev/null &
	pids+=($!)
done
for i in 2 3 4; do
	wait_until 10 listening $NS_B $((5200 + i)) || t_abort "iperf3 server $i"
done
for i in 2 3 4; do
	nsx devs iperf3 -c "${DST[$i]}" -B "${SRC[$i]}" -p $((5200 + i)) -t 4 -J > "$D/res.$i" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
for i in 2 3 4; do
	bytes=$(iperf_last "$D/res.$i" bytes)
	t_expect "stream $i (tunnel $i) carried data" "${bytes:-0}" -gt 100000
	diag "stream $i: $(($(iperf_last "$D/res.$i" bits_per_second) / 1000000)) Mbit/s"
done
shared=$(($(dstat $NS_A tx_gso_shared) - s0))
diag "A: $(dstat $NS_A tx_gso_sends) trains, $shared carrying several tunnels' packets"
t_expect "A sent trains carrying several tunnels' packets (tx_gso_shared)" "$shared" -gt 0
units=$(($(dstat $NS_B rx_train_units) - u0))
diag "B: $units units of several datagrams of a train"
t_expect "B opened trains' datagrams of one tunnel as one unit (rx_train_units)" "$units" -gt 0
t_expect "B opened every packet (no fault drops)" "$(fault_drops $NS_B)" = ""
sleep 1
# Per tunnel, A's tx_packets and B's rx_packets plus B's queue drops
# (full, share, and CoDel's delay in the crypt queue; a receive cell's
# CoDel drop comes after rx_packets counted the packet).
# tun_stat NS INDEX NAME: a counter of the tunnel with that index
tun_stat() {
	local j re="\"last_rx_ms\":[^,]*,\"stats\":\{[^}]*\"$3\":([0-9]+)"
	j=$(show_json "$1")
	[[ $j == *"\"index\":$2,\"peer_index\""* ]] || { echo "none"; return; }
	j=${j#*"\"index\":$2,\"peer_index\""}
	[[ $j =~ $re ]] && echo "${BASH_REMATCH[1]}" || echo 0
}
for i in 2 3 4; do
	tx=$(tun_stat $NS_A $((10 + i)) tx_packets)
	rx=$(tun_stat $NS_B $((20 + i)) rx_packets)
	qd=0
	for d in rx_drop_queue_full rx_drop_queue_share rx_drop_queue_delay; do
		qd=$((qd + $(tun_stat $NS_B $((20 + i)) $d)))
	done
	t_expect "tunnel $i: A sent $tx, B received $rx + $qd queue drops" "$tx" -eq "$((rx + qd))"
done

# A train crosses the veths whole, and B's UDP layer cuts it into
# segments that take references on its pages without marking them
# shared (skb_segment()). A packet socket on B's underlay that reads
# nothing for a while holds a clone of every train meanwhile: opening the
# segments in those pages would show it the plaintext when it reads
# (rx.c opens paged packets out of place). iperf3's repeating payload
# ("0123456789...") makes plaintext easy to find: PAT is 16 bytes of it.
PAT=33343536373839303132333435363738
nsx $NS_B $PKT hold --ifname eth0 --until "$D/hold.done" --pattern $PAT \
	--ready "$D/hold.ready" > "$D/hold.out" 2>&1 &
hold=$!
wait_until 5 test -e "$D/hold.ready" || t_abort "packet socket on B's eth0"
nsenter --net=/run/netns/$NS_B -- iperf3 -s -1 -p 5202 > /dev/null 2>&1 < /dev/null &
wait_until 10 listening $NS_B 5202 || t_abort "iperf3 server"
nsx devs iperf3 -c "${DST[2]}" -B "${SRC[2]}" -p 5202 -t 2 --repeating-payload \
	> /dev/null 2>&1
touch "$D/hold.done"
wait $hold
read -r _ frames _ whole _ seen < "$D/hold.out"
diag "B's packet socket held ${frames:-0} frames, ${whole:-0} of them trains that came whole"
t_expect "trains reached B whole while a packet socket held clones of them" "${whole:-0}" -gt 0
t_expect "no frame the packet socket held shows the plaintext" "${seen:-1}" -eq 0
t_end
