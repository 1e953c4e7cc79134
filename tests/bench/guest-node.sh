#!/bin/bash
# SPDX-License-Identifier: MIT
# The node benchmark's guest side (tests/bench/node.sh boots the VM): the
# cloud and six cyphonicd nodes behind real nftables NAT routers
# (tests/selftests/lib/nat.sh), then
#
# 1. tunnel setup, first packet to its delivered reply, per scenario:
#      direct    e1 (EIM NAT) -> pub (public), by VIP
#      byname    e2 (EIM NAT) -> pub by name: the DNS lookup asks the NMS
#                for the route and starts the handshake before the first
#                packet exists (total_ms, from the DNS query, is dominated
#                by process start-up under TCG and not summarised)
#      punched   e1 -> e2 (both EIM NAT)
#      relayed   pub (IPv4 only) -> v6 (IPv6 only), through the TRS
#      symmetric s1 -> s2 (symmetric NATs, detected: relayed at once)
#    BENCH_NODE_ROUNDS rounds; every round restarts all daemons (so every
#    tunnel is made afresh) and alternates the source's access link
#    between no added delay and BENCH_NODE_DELAY_MS each way (tc netem on
#    both directions of that one link). Every round trip the source takes
#    part in crosses its link twice, whatever the other end (NMS, TRS,
#    peer, or the peer through the TRS), so
#      round trips = (median with delay - median without) / (2 x delay);
#    what the source does not wait for (the NMS's notify to the target,
#    the target's bind) is not counted, as it should not be. After the
#    delay is set the source waits 2.5 s, one keepalive (2 s): a real
#    path's round trip is not new when its first packet goes, and the
#    daemon paces its retries by the round trip it measured (a path
#    slowed the instant before would count spurious retries).
# 2. the daemon's CPU while iperf3 saturates a tunnel (direct e1 -> pub,
#    relayed s1 -> s2): utime + stime of each end's cyphonicd from
#    /proc/PID/stat over the run, against the run's wall time.
# 3. mobility, BENCH_NODE_MOVES times: e1 changes its LAN address in the
#    middle of a TCP transfer to pub (below).
#
# With BENCH_NODE_TRACE=1 every scenario's first packet is also traced
# (tcpdump in the source's namespace, every UDP datagram with its guest
# time and size, "@@TRACE" lines): which round trips and retransmissions
# the setup really took.
#
# Prints "@@NODE ..." records for tests/bench/node.sh, and the summary.
set -u
. "$(dirname "$0")/../selftests/lib.sh"
. "$(dirname "$0")/../selftests/lib/cloud.sh"
. "$(dirname "$0")/../selftests/lib/nat.sh"
ROUNDS=${BENCH_NODE_ROUNDS:-10}
DELAY=${BENCH_NODE_DELAY_MS:-100}
IPERF_S=${BENCH_NODE_IPERF_S:-10}
nat_begin bench-node
NAT_NS="core pub v6 r1 e1 r2 e2 r3 s1 r4 s2"
NODES="pub v6 e1 e2 s1 s2"
die() { echo "bench-node: $*" >&2; exit 1; }

# scenario name, source, target, the source's link (its namespace and
# the far side's namespace and interface) for the delay
SCEN=("direct e1 pub e1:r1:lan" "byname e2 pub e2:r2:lan" "punched e1 e2 e1:r1:lan"
	"relayed pub v6 pub:core:pub" "symmetric s1 s2 s1:r3:lan")

nodes_restart() {
	local n
	for n in $NODES; do
		[ -n "${PID[$n]:-}" ] && node_stop "${PID[$n]}"
		: > "$D/$n.log"
		nat_node_start "$n"
	done
	for n in $NODES; do
		registered "$n" > /dev/null || die "$n did not register"
	done
}
# delay NS FAR_NS FAR_IF MS: netem on both directions of a site's link (0: none)
delay() {
	local q=(qdisc replace) dl=(netem delay "${4}ms")
	[ "$4" = 0 ] && q=(qdisc del) dl=()
	nsx "$1" tc "${q[@]}" dev eth0 root "${dl[@]}" 2> /dev/null
	nsx "$2" tc "${q[@]}" dev "$3" root "${dl[@]}" 2> /dev/null
	return 0
}
# first_ms NS IP: ms from the first packet to its reply, or "lost"
first_ms() {
	local out
	out=$(nsx "$1" ping -c 1 -W 20 "$2" 2>&1)
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<< "$out" | grep . || echo lost
}
# cpu_ticks PID: utime + stime (clock ticks) from /proc/PID/stat
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# trace_start NS / trace_end SCENARIO ROUND DELAY: BENCH_NODE_TRACE=1 only
trace_start() {
	[ "${BENCH_NODE_TRACE:-0}" = 1 ] || return 0
	nsenter --net="/run/netns/$1" -- tcpdump -i any -U -n -tt -l udp > "$D/trace.txt" 2> /dev/null &
	TRACE_PID=$!
	sleep 1
}
trace_end() {
	[ -n "${TRACE_PID:-}" ] || return 0
	sleep 0.5
	kill "$TRACE_PID" 2> /dev/null
	wait "$TRACE_PID" 2> /dev/null
	TRACE_PID=
	sed "s/^/@@TRACE $1 round=$2 delay=$3 /" "$D/trace.txt"
}

modprobe sch_netem 2> /dev/null
nat_core && nat_public pub 203.0.113 && nat_public6 v6 6 && nat_router 1 e1 && nat_router 2 e2 &&
	nat_router 3 s1 fully-random && nat_router 4 s2 fully-random &&
	nat_reach pub e1 e2 s1 s2 v6 || die "topology"
CLOUD_AS_LISTEN='[::]:7443' CLOUD_NMS_LISTEN6='[::]:7100'
cloud_enrol $NODES > /dev/null || die "enrol"
CLOUD_NMS_EXTRA=$(cloud_relay_conf "$C4:7200" "[$C6]:7200") || die "relay key"
# The NMS's mapping port: the IPv4 nodes learn their NAT type (the
# symmetric pair is then relayed at once, without the 2 s punch).
CLOUD_NMS_MAPPING=0.0.0.0:7101 NODE_NMS_MAPPING=7101
cloud_as && cloud_nms && cloud_trs || die "cloud"
NODE_LOG_LEVEL=info

echo "bench-node: $ROUNDS rounds, delay ${DELAY} ms each way on the source's link in every other round"
for r in $(seq "$ROUNDS"); do
	d=$((r % 2 ? 0 : DELAY))
	nodes_restart
	[ $r = 1 ] && for n in $NODES; do V[$n]=$(nat_vip "$n" 4); done
	for s in "${SCEN[@]}"; do
		read -r name src dst link <<< "$s"
		[ "$link" = - ] && [ "$d" != 0 ] && continue
		IFS=: read -r l1 l2 l3 <<< "$link"
		[ "$link" != - ] && delay "$l1" "$l2" "$l3" "$d" && [ "$d" != 0 ] && sleep 2.5
		trace_start "$src"
		t0=$(date +%s%N)
		ip=${V[$dst]}
		[ "$name" = byname ] && ip=$(nsx "$src" dig +short +time=20 +tries=1 @127.0.0.1 -p 5354 "$dst.cyph.test" A)
		ms=$(first_ms "$src" "$ip")
		total=$((($(date +%s%N) - t0) / 1000000))
		[ "$link" != - ] && delay "$l1" "$l2" "$l3" 0
		trace_end "$name" "$r" "$d"
		hs=$(grep -h "to $dst.cyph.test up:" "$D/$src.log" | tail -n 1 |
			sed -n 's/.*handshake \([0-9]*\) ms, setup \([0-9]*\) ms.*/\1 \2/p')
		echo "@@NODE setup scenario=$name round=$r delay=$d ms=$ms total_ms=$total daemon_hs_setup=${hs// /,}"
	done
done

# ---- the daemon's CPU under a saturating iperf3 ----
cpu_run() {
	local name=$1 src=$2 dst=$3 t0 a0 b0 w a b hz sp mbit
	hz=$(getconf CLK_TCK)
	nsx "$src" ping -c 2 -i 0.2 -W 10 -q "${V[$dst]}" > /dev/null || { echo "@@NODE cpu scenario=$name error=no_tunnel"; return; }
	nsenter --net="/run/netns/$dst" -- iperf3 -s -1 -p 5201 > /dev/null 2>&1 &
	sp=$!
	sleep 2
	a0=$(cpu_ticks "${PID[$src]}")
	b0=$(cpu_ticks "${PID[$dst]}")
	t0=$(date +%s%N)
	mbit=$(nsx "$src" iperf3 -c "${V[$dst]}" -p 5201 -t "$IPERF_S" -f m 2>&1 |
		awk '/receiver/ { print $7 }')
	w=$((($(date +%s%N) - t0) / 1000000))
	a=$(($(cpu_ticks "${PID[$src]}") - a0))
	b=$(($(cpu_ticks "${PID[$dst]}") - b0))
	kill "$sp" 2> /dev/null
	wait "$sp" 2> /dev/null
	echo "@@NODE cpu scenario=$name wall_ms=$w mbit=${mbit:-?} src_cpu_ms=$((a * 1000 / hz)) dst_cpu_ms=$((b * 1000 / hz))"
}
cpu_run direct e1 pub
cpu_run relayed s1 s2

# ---- mobility: the source moves to another network in mid-transfer ----
# e1 moves between r1's LAN (10.1.0.2) and a second LAN of r2's
# (10.12.0.2, a second link): a new underlay address behind a different
# NAT, so a new public endpoint. pub's kernel follows the first
# authenticated packet from there (roaming), and e1's daemon re-registers
# at the NMS. Interruption: the longest run of empty 0.1 s iperf3
# intervals of a TCP transfer e1 -> pub over the VIPs (TCP's
# retransmission timer included); re-registration: e1's daemon's own
# figure, from the address event to the NMS's answer.
move_run() {
	local i=$1 gap rereg rc sp n0 cl
	local to=(10.12.0.2 eth1 10.12.0.1) from=(10.1.0.2 eth0 10.1.0.1)
	if [ $((i % 2)) = 0 ]; then
		to=(10.1.0.2 eth0 10.1.0.1) from=(10.12.0.2 eth1 10.12.0.1)
	fi
	nsenter --net=/run/netns/pub -- iperf3 -s -1 -p 5202 > /dev/null 2>&1 &
	sp=$!
	sleep 1
	n0=$(grep -c 're-registered' "$D/e1.log")
	nsx e1 iperf3 -c "${V[pub]}" -p 5202 -t 6 -i 0.1 -b 20M --connect-timeout 10000 > "$D/move.txt" 2>&1 &
	cl=$!
	sleep 2.5
	ip -n e1 addr add "${to[0]}/24" dev "${to[1]}" &&
		ip -n e1 route replace default via "${to[2]}" dev "${to[1]}" &&
		ip -n e1 addr del "${from[0]}/24" dev "${from[1]}"
	wait "$cl"
	rc=$?
	kill "$sp" 2> /dev/null
	wait "$sp" 2> /dev/null
	gap=$(awk '/sec/ && /bits\/sec/ && !/sender|receiver/ { if ($7 + 0 == 0) { run++; if (run > max) max = run } else run = 0 } END { print max * 100 }' "$D/move.txt")
	wait_until 10 bash -c "[ \$(grep -c 're-registered' $D/e1.log) -gt $n0 ]"
	rereg=$(grep 're-registered' "$D/e1.log" | tail -n 1 | sed -n 's/.*re-registered \([0-9]*\) ms.*/\1/p')
	echo "@@NODE move round=$i to=${to[0]} survived=$((rc == 0)) gap_ms=${gap:-?} rereg_ms=${rereg:-?}"
}
nat_link r2 lan2 e1 eth1 && ip -n r2 addr add 10.12.0.1/24 dev lan2 || die "r2's second LAN"
for i in $(seq "${BENCH_NODE_MOVES:-4}"); do
	move_run "$i"
done
