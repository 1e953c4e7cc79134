# shellcheck shell=bash
# An internet of sites behind real NAT routers (nftables), for the
# cyphonicd scenarios, the demo and the node benchmark (sourced after
# ../lib.sh). The cloud ($NS_W) sits on one link of the core router:
#
#   cloud 192.0.2.100, 2001:db8:c::100
#    |
#   core: the internet's router
#    |- public sites: nat_public NAME 203.0.113 (IPv4 .2), nat_public6 NAME 6
#    `- rN 100.64.N.2 -- SITE 10.N.0.2: nat_router N SITE [fully-random]
#
# A router's mapping is endpoint-independent (nftables masquerade), or
# symmetric with "fully-random" (every destination a new random port).
# Every router also filters like a home router: new connections from the
# wan side are dropped (before conntrack confirms them, so a peer's early
# probe leaves no entry that would steal the port of the node's own
# mapping). Callers set NAT_NS (every namespace but $NS_W: core and the
# sites) first.
C4=192.0.2.100 C6=2001:db8:c::100

# nat_begin NAME: the scratch directory D (removed at exit, after the
# namespaces and every process in them), the cloud's namespace NS_W, the
# names in the AS's certificate (cloud.sh), and per node PID (its daemon)
# and V (its IPv4 VIP)
nat_begin() {
	D=$(mktemp -d "/tmp/$1.XXXXXX")
	NS_W=cloud
	W4A=$C4 W4B=$C6
	declare -gA PID=() V=()
	trap 'nat_down; wait 2> /dev/null; rm -rf "$D"' EXIT
}

# nat_down: every process in the namespaces killed, the namespaces deleted
nat_down() {
	local ns
	for ns in ${NAT_NS:-} $NS_W; do
		[ -e "/run/netns/$ns" ] || continue
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ns") 2> /dev/null
	done
	sleep 0.3
	for ns in ${NAT_NS:-} $NS_W; do
		[ -e "/run/netns/$ns" ] || continue
		# shellcheck disable=SC2046
		kill -9 $(ip netns pids "$ns") 2> /dev/null
		ip netns del "$ns"
	done
	return 0
}

# nat_link NS_L IF_L NS_R IF_R: a veth pair, both ends up
nat_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# nat_core: nftables' modules, the namespaces $NS_W and $NAT_NS, the
# cloud's link (both families)
nat_core() {
	local ns out
	# nftables' modules up front: an autoload failing inside `nft` only
	# says "Protocol not supported".
	out=$(modprobe -a nfnetlink nf_tables nft_chain_nat nft_masq nft_ct 2>&1) ||
		{ echo "nftables modules: $out"; return 1; }
	nat_down
	for ns in $NS_W $NAT_NS; do
		ip netns add "$ns" || return 1
	done
	nat_link core cloud $NS_W eth0 || return 1
	ip -n $NS_W -batch - <<-EOF2 || return 1
	link set lo up
	addr add $C4/24 dev eth0
	addr add $C6/64 dev eth0 nodad
	route add default via 192.0.2.1
	route add default via 2001:db8:c::1
	EOF2
	nsx core sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	ip -n core -batch - <<-EOF2
	link set lo up
	addr add 192.0.2.1/24 dev cloud
	addr add 2001:db8:c::1/64 dev cloud nodad
	EOF2
}

# nat_public NAME NET: a public IPv4-only site, NAME NET.2/24 (core NET.1)
nat_public() {
	nat_link core "$1" "$1" eth0 && ip -n core addr add "$2.1/24" dev "$1" || return 1
	ip -n "$1" -batch - <<-EOF2
	link set lo up
	addr add $2.2/24 dev eth0
	route add default via $2.1
	EOF2
}

# nat_public6 NAME N: a public IPv6-only site, NAME 2001:db8:N::2/64
nat_public6() {
	nat_link core "$1" "$1" eth0 &&
		ip -n core addr add "2001:db8:$2::1/64" dev "$1" nodad || return 1
	ip -n "$1" -batch - <<-EOF2
	link set lo up
	addr add 2001:db8:$2::2/64 dev eth0 nodad
	route add default via 2001:db8:$2::1
	EOF2
}

# nat_router N SITE [MODE [FORWARD]]: router rN and its LAN site SITE; MODE
# "" or fully-random. FORWARD (a UDP port) is a port forward to the site:
# that port then maps and filters endpoint-independently (a "full cone"),
# as an operator sets it up for a server behind the NAT.
nat_router() {
	local r=r$1 s=$2 mode=${3:-} fwd=${4:-} dnat="" open=""
	nat_link core "$r" "$r" wan && nat_link "$r" lan "$s" eth0 || return 1
	ip -n core addr add "100.64.$1.1/24" dev "$r" || return 1
	ip -n "$r" -batch - <<-EOF2 || return 1
	link set lo up
	addr add 100.64.$1.2/24 dev wan
	addr add 10.$1.0.1/24 dev lan
	route add default via 100.64.$1.1
	EOF2
	ip -n "$s" -batch - <<-EOF2 || return 1
	link set lo up
	addr add 10.$1.0.2/24 dev eth0
	route add default via 10.$1.0.1
	EOF2
	nsx "$r" sysctl -qw net.ipv4.ip_forward=1 || return 1
	if [ -n "$fwd" ]; then
		dnat="chain pre { type nat hook prerouting priority -100; iifname \"wan\" udp dport $fwd dnat to 10.$1.0.2; }"
		open="iifname \"wan\" ct state new udp dport $fwd accept"
	fi
	nsx "$r" nft -f - <<-EOF2
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
	EOF2
}

# nat_reach NS...: each site reaches the cloud (IPv6 for names ending in 6)
nat_reach() {
	local ns
	for ns in "$@"; do
		if [[ $ns == *6 ]]; then
			nsx "$ns" ping -6 -c 1 -W 5 -q $C6 > /dev/null || return 1
		else
			nsx "$ns" ping -c 1 -W 5 -q $C4 > /dev/null || return 1
		fi
	done
}

# nat_node_start NODE: cyphonicd for NODE in its namespace (same name),
# reaching the cloud over IPv6 when the name ends in 6; PID[NODE]
nat_node_start() {
	local addr=$C4
	[[ $1 == *6 ]] && addr="[$C6]"
	[ -e "$D/$1.conf" ] || node_conf "$D/$1.conf" "$1" "$addr" "${NAT_NODE_EXTRA:-}"
	nsenter --net="/run/netns/$1" -- cyphonicd -c "$D/$1.conf" > "$D/$1.log" 2>&1 &
	PID[$1]=$!
}

# nat_nodes_up NODE...: each started (nat_node_start), then each registered
nat_nodes_up() {
	local n
	for n in "$@"; do
		nat_node_start "$n"
	done
	for n in "$@"; do
		registered "$n" || return 1
	done
}

# nat_vip NS 4|6: the node's VIP on cyph0
nat_vip() { ip -n "$1" -"$2" -br addr show cyph0 2> /dev/null | awk '{ sub("/.*", "", $3); print $3 }'; }

# ---- what the scenarios read from the nodes ($D/NODE.log) ----
log_has() { grep -q -- "$2" "$D/$1.log"; }
trs_metric() { metric $NS_W 9103 "$1"; }
relayed() { local v; v=$(trs_metric cyphonic_trs_relayed_packets_total); echo "${v:-0}"; }
registered() {
	wait_until 90 log_has "$1" 'registered at the NMS as node' && return 0
	sed 's/^/#   /' "$D/$1.log" | tail -n 20
	return 1
}
# first_reply NAME NS VIP: the first packet to a never-contacted VIP, and
# its reply. One ping with a 20 s wait; when the kernel dropped the staged
# packet (setup longer than its 5 s staging window), more pings, one a
# second. Diag: ms from the first packet to the delivered reply.
first_reply() {
	local name=$1 ns=$2 ip=$3 out t0 i ms
	t0=$(date +%s%N)
	out=$(nsx "$ns" ping -c 1 -W 20 "$ip" 2>&1)
	if grep -q ' 0% packet loss' <<< "$out"; then
		ms=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<< "$out")
		diag "$name: first packet to its reply: $ms ms (the staged packet itself)"
		return 0
	fi
	for i in $(seq 20); do
		if nsx "$ns" ping -c 1 -W 1 -q "$ip" > /dev/null 2>&1; then
			diag "$name: first packet to a delivered reply: $((($(date +%s%N) - t0) / 1000000)) ms" \
				"(the staged packet was dropped; reply to ping $((i + 1)))"
			return 0
		fi
	done
	return 1
}
# setup_diag NODE PEER_FQDN: the daemon's own figures for that tunnel
setup_diag() {
	diag "  $1: $(grep -h "to $2 up:" "$D/$1.log" | tail -n 1 | sed 's/^.*tunnel //')"
	grep -h -e 'path to the peer' -e 'bound at the TRS' -e 'no authentic probe' "$D/$1.log" |
		sed "s/^.*tunnel /#   $1: tunnel /"
}
