#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Inner checksums left pending (DATA flag CSUM_PARTIAL, issue 13). A does
# not compute the TCP/UDP checksums its stack left to the device: the AEAD
# covers every byte, and B rebuilds CHECKSUM_PARTIAL at the same place.
# Local delivery on B takes them as verified (ping_tcp covers that); here
# B forwards them, as an adapter does for its general nodes, to a host C
# behind it, over a veth whose checksum offload is off: B's stack must
# complete every checksum in software and C verifies each one. So a wrong
# checksum place would show as C's InCsumErrors and a failed transfer.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3
t_begin
NS_C=site-c
VC4=10.99.0.3 VC6=fd00:99::3
res=$(mktemp)
cleanup() {
	local p
	p=$(ip netns pids $NS_C 2> /dev/null)
	[ -n "$p" ] && kill $p 2> /dev/null
	[ -e /run/netns/$NS_C ] && ip netns del $NS_C
	topo_down
	rm -f "$res"
}
trap cleanup EXIT

# txcsum_off DEV (in B): ethtool -K DEV tx off, through the ioctl (no
# ethtool binary needed); prints the state read back (0 = off).
txcsum_off() {
	inb $PY -S -c '
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def ethtool(cmd, data):
	ev = array.array("B", struct.pack("II", cmd, data))
	ifr = struct.pack("16sP", sys.argv[1].encode(), ev.buffer_info()[0]) + bytes(16)
	fcntl.ioctl(s, 0x8946, ifr)	# SIOCETHTOOL
	return struct.unpack("II", ev.tobytes())[1]
ethtool(0x17, 0)			# ETHTOOL_STXCSUM
print(ethtool(0x16, 0))			# ETHTOOL_GTXCSUM
' "$1"
}

csum_errors() {
	echo $(($(snmp $NS_C snmp Tcp:InCsumErrors) + $(snmp $NS_C snmp Udp:InCsumErrors) +
		$(snmp $NS_C snmp6 Udp6InCsumErrors)))
}

setup 4 || t_abort "setup failed (see above)"
KEY_AC=$(cyphctl genkey) && KEY_CA=$(cyphctl genkey) || t_abort "genkey"
# C's VIPs are B's identities (an adapter's general node), reached through
# c0; C sends from them (a reply from the link address has no tunnel).
ip netns add $NS_C && ip link add c0 netns $NS_B type veth peer name eth0 netns $NS_C ||
	t_abort "namespace C"
anchor $NS_C
inb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || t_abort "forwarding on B"
ip -n $NS_B -batch - <<-EOF || t_abort "B's link to C"
addr add 172.31.0.1/30 dev c0
addr add fd31::1/64 dev c0 nodad
link set c0 up
route add $VC4/32 via 172.31.0.2
route add $VC6/128 via fd31::2
EOF
ip -n $NS_C -batch - <<-EOF || t_abort "C's addresses"
link set lo up
addr add 172.31.0.2/30 dev eth0
addr add fd31::2/64 dev eth0 nodad
addr add $VC4/32 dev eth0
addr add $VC6/128 dev eth0 nodad
link set eth0 up
route add default via 172.31.0.1 src $VC4
route add default via fd31::1 src $VC6
EOF
inb cyphctl local add cyph0 vip4 $VC4 vip6 $VC6 &&
	ina cyphctl tunnel add cyph0 index 3 peer-index 4 local4 $VA4 remote4 $VC4 \
		local6 $VA6 remote6 $VC6 endpoint "$(ep_of_b 4)" \
		key-id 0 tx-key "$KEY_AC" rx-key "$KEY_CA" 2> /dev/null &&
	inb cyphctl tunnel add cyph0 index 4 peer-index 3 local4 $VC4 remote4 $VA4 \
		local6 $VC6 remote6 $VA6 endpoint "$(ep_of_a 4)" \
		key-id 0 tx-key "$KEY_CA" rx-key "$KEY_AC" 2> /dev/null ||
	t_abort "C's tunnel"
t_expect "B's c0: transmit checksum offload off" "$(txcsum_off c0)" = 0
t_check "A pings C through B (IPv4)" ina ping -c 2 -i 0.2 -W 5 $VC4
t_check "A pings C through B (IPv6)" ina ping -c 2 -i 0.2 -W 5 $VC6

e0=$(csum_errors)
for dst in $VC4 $VC6; do
	for mode in tcp udp; do
		if ! iperf_server $NS_C; then
			t_fail "$mode to $dst: iperf3 server in C did not start"
			continue
		fi
		if [ $mode = udp ]; then
			ina iperf3 -c $dst -u -b 20M -l 1000 -t 2 -J > "$res" 2>&1
		else
			ina iperf3 -c $dst -t 2 -J > "$res" 2>&1
		fi
		wait "$IPERF_SERVER_PID" 2> /dev/null
		bytes=$(iperf_last "$res" bytes)
		t_expect "$mode to $dst: C received data (bytes)" "${bytes:-0}" -gt 100000
	done
done
t_expect "C counted no checksum error (TCP, UDP, UDPv6 InCsumErrors)" \
	"$(($(csum_errors) - e0))" -eq 0
diag "drops on B: $(drops $NS_B)"
d=$(fault_drops $NS_B)
t_check "no drops counted on B but congestion${d:+ ($d)}" test -z "$d"
t_end
