# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The ecmp suite's topology (docs/ecmp.md): network namespaces on the
# host, an edge router and N replica hosts speaking real BGP (BIRD 2), and
# client hosts behind the edge. Sourced by tests/ecmp/suite.sh, which sets
#
#   P      namespace prefix (unique per run: other jobs share the host)
#   D      scratch directory (BIRD configs, sockets, logs)
#   NREP   replica count;  NCLI  client count
#
#   edge   r1..rN  10.200.i.1/24 fd00:200:i::1/64 --veth-- up0 10.200.i.2 (replica i)
#          c1..cM  10.201.j.1/24 fd00:201:j::1/64 --veth-- eth0 10.201.j.2 (client j)
#   replica i: lo carries every service VIP; BIRD announces the VIPs of the
#   services that are ready (static protocols <svc>4/<svc>6, one per VIP)
#   to the edge over eBGP (AS 64501 -> AS 64500), one session per family.

# shellcheck disable=SC2034	# used by suite.sh
EDGE_AS=64500
REPLICA_AS=64501
# service VIPs (documentation ranges: never routed outside the namespaces)
NMS_VIP4=192.0.2.53 NMS_VIP6=2001:db8:53::53
TRS_VIP4=192.0.2.54 TRS_VIP6=2001:db8:53::54
AS_VIP4=192.0.2.55 AS_VIP6=2001:db8:53::55	# tests/bench/scale.sh
NMS_PORT=7100 TRS_PORT=7200 AS_PORT=7443

# nsenter, not `ip netns exec`: the latter also makes / a slave mount,
# which fails where / is not a mount point (a chroot, as fresh-machine's).
nsx() {	# nsx NS CMD...: run CMD in namespace NS (edge, rI, cJ)
	local n=$1; shift
	nsenter --net=/run/netns/"$P-$n" "$@"
}

# `ip -n NS` switches namespaces the same way as `ip netns exec`.
nsx_ip() {	# nsx_ip FULLNAME ARGS...: ip ARGS in that namespace
	local n=$1; shift
	nsenter --net=/run/netns/"$n" ip "$@"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for SECONDS CMD...: poll CMD every 20 ms until it succeeds, at most
# SECONDS of wall-clock time (a loaded machine makes each poll slower)
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	until "${@:2}" > /dev/null 2>&1; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

ns_add() {	# ns_add NAME: a namespace with lo up, no IPv6 DAD
	ip netns add "$P-$1" || return 1
	nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	nsx "$1" ip link set lo up
}

# link EDGE_IF NS NS_IF V4NET V6NET: veth edge<->NS, .1 on the edge, .2 in NS
link() {
	nsx_ip "$P-edge" link add "$1" type veth peer name "$3" netns "$P-$2" || return 1
	nsx_ip "$P-edge" addr add "$4.1/24" dev "$1"
	nsx_ip "$P-edge" addr add "$5::1/64" dev "$1" nodad
	nsx_ip "$P-$2" addr add "$4.2/24" dev "$3"
	nsx_ip "$P-$2" addr add "$5::2/64" dev "$3" nodad
	nsx_ip "$P-edge" link set "$1" up
	nsx_ip "$P-$2" link set "$3" up
	nsx_ip "$P-$2" route add default via "$4.1"
	nsx_ip "$P-$2" -6 route add default via "$5::1"
}

topology_up() {
	local i
	ns_add edge || return 1
	# a router that hashes on the 5-tuple (L4), for both families
	nsx edge sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1
	for ((i = 1; i <= NREP; i++)); do
		ns_add "r$i" || return 1
		link "r$i" "r$i" up0 "10.200.$i" "fd00:200:$i" || return 1
		nsx_ip "$P-r$i" addr add "$NMS_VIP4/32" dev lo
		nsx_ip "$P-r$i" addr add "$TRS_VIP4/32" dev lo
		nsx_ip "$P-r$i" addr add "$NMS_VIP6/128" dev lo nodad
		nsx_ip "$P-r$i" addr add "$TRS_VIP6/128" dev lo nodad
		nsx_ip "$P-r$i" addr add "$AS_VIP4/32" dev lo
		nsx_ip "$P-r$i" addr add "$AS_VIP6/128" dev lo nodad
	done
	for ((i = 1; i <= NCLI; i++)); do
		ns_add "c$i" || return 1
		link "c$i" "c$i" eth0 "10.201.$i" "fd00:201:$i" || return 1
	done
}

topology_down() {
	local n
	for n in $(ip netns list | awk -v p="$P-" 'index($1, p) == 1 { print $1 }'); do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$n"
	done
}

# ---- daemon configuration (the ecmp suite's and bench-scale's) --------------

# nms_conf [LINES]: an NMS replica bound to the VIPs; LINES go into [nms],
# $EXTRA_CONF and $STORE (a [store] section) at the end
nms_conf() {
	cat <<EOC
[nms]
listen = $NMS_VIP4:$NMS_PORT
listen6 = [$NMS_VIP6]:$NMS_PORT
grace_period = 5s
${1:-}
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
[relay]
endpoint4 = $TRS_VIP4:$TRS_PORT
endpoint6 = [$TRS_VIP6]:$TRS_PORT
key_file = $D/relay.key
[http]
listen = 127.0.0.1:9102
${EXTRA_CONF:-}
${STORE:-}
EOC
}

# trs_conf [LINES]: a TRS replica bound to the VIPs, the same way
trs_conf() {
	cat <<EOC
[trs]
listen = $TRS_VIP4:$TRS_PORT
listen6 = [$TRS_VIP6]:$TRS_PORT
threads = 1
grace_period = 5s
${1:-}
[relay]
key_file = $D/relay.key
[http]
listen = 127.0.0.1:9103
${EXTRA_CONF:-}
${STORE:-}
EOC
}

# ---- BIRD ------------------------------------------------------------------

bird_edge_conf() {
	local i
	cat <<EOC
# edge router: learns the service VIPs from every replica, installs them
# as one multipath route (ECMP, hashed by the kernel on the 5-tuple)
router id 10.200.0.1;
log "$D/bird-edge.log" all;
protocol device { scan time 2; }
protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; merge paths on limit 16; }
template bgp replica {
	local as $EDGE_AS;
	passive on;		# the speakers connect: they may start later
	hold time 6; keepalive time 2;
}
EOC
	for ((i = 1; i <= NREP; i++)); do
		cat <<EOC
protocol bgp r${i}v4 from replica {
	neighbor 10.200.$i.2 as $REPLICA_AS;
	ipv4 { import all; export none; };
}
protocol bgp r${i}v6 from replica {
	neighbor fd00:200:$i::2 as $REPLICA_AS;
	ipv6 { import all; export none; };
}
EOC
	done
}

# bird_replica_conf I: the speaker of replica I (what MetalLB's speaker is
# on a Kubernetes node); every VIP starts withdrawn (disabled) until the
# readiness watcher sees its service ready.
bird_replica_conf() {
	cat <<EOC
router id 10.200.$1.2;
log "$D/bird-r$1.log" all;
protocol device { scan time 2; }
protocol static nms4 { disabled; ipv4; route $NMS_VIP4/32 blackhole; }
protocol static nms6 { disabled; ipv6; route $NMS_VIP6/128 blackhole; }
protocol static trs4 { disabled; ipv4; route $TRS_VIP4/32 blackhole; }
protocol static trs6 { disabled; ipv6; route $TRS_VIP6/128 blackhole; }
protocol static auth4 { disabled; ipv4; route $AS_VIP4/32 blackhole; }
protocol static auth6 { disabled; ipv6; route $AS_VIP6/128 blackhole; }
template bgp edge {
	local as $REPLICA_AS;
	neighbor as $EDGE_AS;
	hold time 6; keepalive time 2;
	connect delay time 1; connect retry time 1; error wait time 1, 4;
}
protocol bgp edge4 from edge {
	neighbor 10.200.$1.1;
	ipv4 { import none; export where source = RTS_STATIC; };
}
protocol bgp edge6 from edge {
	neighbor fd00:200:$1::1;
	ipv6 { import none; export where source = RTS_STATIC; };
}
EOC
}

# birdc NS ARGS...: the BIRD client of a namespace's daemon
birdc_ns() {
	local n=$1; shift
	birdc -s "$D/bird-$n.ctl" "$@"
}

bird_start() {	# bird_start NS CONF: BIRD in the foreground, in the background
	nsenter --net=/run/netns/"$P-$1" bird -f -c "$2" -s "$D/bird-$1.ctl" -P "$D/bird-$1.pid" \
		> "$D/bird-$1.out" 2>&1 &
	echo $! >> "$D/pids"
}

# bgp_up: BIRD on the edge and on every replica host (configs in $D)
bgp_up() {
	local i
	bird_edge_conf > "$D/edge.conf"
	bird_start edge "$D/edge.conf"
	for ((i = 1; i <= NREP; i++)); do
		bird_replica_conf "$i" > "$D/r$i.conf"
		bird_start "r$i" "$D/r$i.conf"
	done
}
# bgp_established: the edge has a session per replica and family
bgp_established() { [ "$(birdc_ns edge show protocols | grep -c Established)" -eq $((2 * NREP)) ]; }

# edge_nexthops PREFIX [-6]: the next hops of the edge's route to PREFIX
edge_nexthops() {
	nsx edge ip ${2:+"$2"} route show "$1" 2>/dev/null | grep -Eo 'via [0-9a-f.:]+' | awk '{ print $2 }' | sort
}

edge_nexthop_count() {	# edge_nexthop_count PREFIX [-6]
	edge_nexthops "$@" | grep -c .
}

# edge_pick CLIENT SPORT VIP DPORT: the replica (its index) the edge's hash
# sends this UDP flow to (ip route get with the flow's L4 keys)
edge_pick() {
	local fam="" src="10.201.$1.2"
	case $3 in *:*) fam=-6 src="fd00:201:$1::2" ;; esac
	nsx edge ip $fam route get "$3" from "$src" iif "c$1" ipproto udp sport "$2" dport "$4" |
		grep -Eo 'via [0-9a-f.:]+' | head -n1 | awk -F'[.:]' '{ print $3 }'
}
