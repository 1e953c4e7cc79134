# shellcheck shell=bash
# What the adapter scenarios share (sourced after ../lib.sh and cloud.sh):
# the LAN behind the adapter gw in site-a (a bridge lan0, one namespace
# per device in $DEVS with its MAC from the array MAC), its clean-up, and
# readers of gw's state. The scenario sets D, DEVS, MAC, G_PID and B_PID.

# adapter_cleanup: the daemons, the devices' processes and namespaces, the sites, $D
adapter_cleanup() {
	local p ns
	for p in $G_PID $B_PID; do kill "$p" 2> /dev/null; done
	for ns in $DEVS; do
		p=$(ip netns pids "$ns" 2> /dev/null)
		# shellcheck disable=SC2086 # one pid per word
		[ -n "$p" ] && kill $p 2> /dev/null
	done
	wait 2> /dev/null
	for ns in $DEVS; do ip netns del "$ns" 2> /dev/null; done
	topo_down
	rm -rf "$D"
}

# adapter_lan_up [BRIDGE OPTIONS]: topo_up, lan0 in site-a, and each device on it
adapter_lan_up() {
	local d
	topo_up || t_abort "topology"
	# shellcheck disable=SC2068 # the options are words
	ip -n $NS_A link add lan0 type bridge $@ && ip -n $NS_A link set lan0 up || t_abort "lan0"
	for d in $DEVS; do
		ip netns add "$d" && anchor "$d" &&
			ip link add "p-$d" netns $NS_A type veth peer name eth0 netns "$d" &&
			ip -n $NS_A link set "p-$d" master lan0 up &&
			nsx "$d" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
			ip -n "$d" link set eth0 address "${MAC[$d]}" &&
			ip -n "$d" link set lo up && ip -n "$d" link set eth0 up || t_abort "device $d"
	done
}

# vip NS 4|6 [DEV]: the namespace's first address of that family on DEV (cyph0)
vip() { ip -n "$1" -"$2" -br addr show "${3:-cyph0}" 2> /dev/null | awk '{ sub("/.*", "", $3); print $3 }'; }
log_has() { grep -q -- "$2" "$D/$1.log"; }
# gw's /metrics: general nodes by state, LAN drops by reason
gn_metric() { metric $NS_A 9104 "cyphonicd_general_nodes{state=\"$1\"}"; }
lan_drops() { metric $NS_A 9104 "cyphonicd_lan_dropped_packets{reason=\"$1\"}"; }
# nft_count REASON: packets of that named counter in gw's LAN guard
nft_count() {
	nsx $NS_A nft list counter inet cyphonic_adapter "$1" 2> /dev/null |
		awk '/packets/ { print $2 }'
}
gt0() { local v; v=$("$@"); [ -n "$v" ] && [ "$v" -gt 0 ]; }
