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
# gn_count STATE N: gw has N general nodes in STATE (re-read on every try of wait_until)
gn_count() { [ "$(gn_metric "$1")" = "$2" ]; }
lan_drops() { metric $NS_A 9104 "cyphonicd_lan_dropped_packets{reason=\"$1\"}"; }
# nft_count REASON: packets of that named counter in gw's LAN guard
nft_count() {
	nsx $NS_A nft list counter inet cyphonic_adapter "$1" 2> /dev/null |
		awk '/packets/ { print $2 }'
}
# wrong_port: packets of gw's bridge table counter (802.1X MAC from another port)
wrong_port() {
	nsx $NS_A nft list counter bridge cyphonic_adapter wrong_port 2> /dev/null |
		awk '/packets/ { print $2 }'
}
gt0() { local v; v=$("$@"); [ -n "$v" ] && [ "$v" -gt 0 ]; }

# unit_sandbox UNIT [DROPIN...]: fills the array SANDBOX with a command
# prefix that runs a program in the sandbox the packaged unit (with its
# drop-ins) gives cyphonicd, as far as it can be built without systemd:
# User=/Group= (the user is made if missing), CapabilityBoundingSet=,
# AmbientCapabilities=, NoNewPrivileges= (setpriv) and
# ProtectKernelTunables= (/proc/sys read-only in a mount namespace).
# RestrictAddressFamilies= and the system-call filter need systemd: not
# applied. As systemd does, an empty assignment resets a list and later
# ones add to it; for the others the last one wins.
unit_sandbox() {
	local f k v user=root group=root bound='' amb='' nnp=no tunables=no
	for f in "$@"; do
		while IFS='=' read -r k v; do
			case $k in
			User) user=$v ;;
			Group) group=$v ;;
			NoNewPrivileges) nnp=$v ;;
			ProtectKernelTunables) tunables=$v ;;
			CapabilityBoundingSet) if [ -z "$v" ]; then bound=''; else bound="$bound $v"; fi ;;
			AmbientCapabilities) if [ -z "$v" ]; then amb=''; else amb="$amb $v"; fi ;;
			esac
		done < <(grep -E '^[A-Za-z]+=' "$f")
	done
	id -u "$user" > /dev/null 2>&1 || useradd --system --no-create-home --user-group "$user" || return 1
	# CAP_NET_ADMIN -> +net_admin for setpriv
	caps_arg() { local x out='-all'; for x in $1; do x=${x,,}; out="$out,+${x#cap_}"; done; echo "$out"; }
	SANDBOX=(unshare -m --propagation private sh -c
		"[ $tunables = yes ] && { mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys || exit 1; }
		 exec setpriv --reuid=$user --regid=$group --init-groups --bounding-set=$(caps_arg "$bound") \
			--inh-caps=$(caps_arg "$amb") --ambient-caps=$(caps_arg "$amb") $([ "$nnp" = yes ] && echo --no-new-privs) \"\$@\"" sandbox)
}
