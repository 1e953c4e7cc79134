# shellcheck shell=bash
# Sites behind NAT routers doing real NAT with nftables (sourced after
# ../lib.sh), for the NAT scenarios (cyphonicd_nat, adapter_nat). The
# routers hang off a namespace "core" (the internet's router), which must
# exist.

# link NS_L IF_L NS_R IF_R: a veth pair, both ends up
link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# router N SITE MODE [FORWARD]: rN (wan 100.64.N.2, core 100.64.N.1) with
# its LAN site SITE (10.N.0.2 behind 10.N.0.1), NAT with MODE ("" for an
# endpoint-independent mapping, or fully-random for a symmetric one).
# Every router filters like a home router: new connections from the wan
# side are dropped (before conntrack confirms them, so a peer's early
# probe leaves no entry that would steal the port of the node's own
# mapping). FORWARD (a UDP port) is a port forward to the site: that port
# then maps and filters endpoint-independently (a "full cone"), as an
# operator sets it up for a server behind the NAT.
router() {
	local r=r$1 s=$2 mode=$3 fwd=${4:-} dnat="" open=""
	link core "$r" "$r" wan && link "$r" lan "$s" eth0 || return 1
	ip -n core addr add "100.64.$1.1/24" dev "$r" || return 1
	ip -n "$r" -batch - <<-EOF || return 1
	link set lo up
	addr add 100.64.$1.2/24 dev wan
	addr add 10.$1.0.1/24 dev lan
	route add default via 100.64.$1.1
	EOF
	ip -n "$s" -batch - <<-EOF || return 1
	link set lo up
	addr add 10.$1.0.2/24 dev eth0
	route add default via 10.$1.0.1
	EOF
	nsx "$r" sysctl -qw net.ipv4.ip_forward=1 || return 1
	if [ -n "$fwd" ]; then
		dnat="chain pre { type nat hook prerouting priority -100; iifname \"wan\" udp dport $fwd dnat to 10.$1.0.2; }"
		open="iifname \"wan\" ct state new udp dport $fwd accept"
	fi
	nsx "$r" nft -f - <<-EOF
	table ip nat {
		$dnat
		chain post {
			type nat hook postrouting priority 100;
			oifname "wan" masquerade $mode
		}
	}
	table inet fw {
		chain pre {
			type filter hook prerouting priority -150;
			$open
			iifname "wan" ct state new drop
		}
	}
	EOF
}
