#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest side of the adapter benchmark (make bench-adapter); runs as root
# inside the QEMU guest started by tests/bench/adapter.sh.
#
# site-a is the adapter: a LAN bridge lan0 with up to BENCH_DEVICES (20)
# general nodes dev1..devN as namespaces, each with an iperf3 client;
# site-b (tests/selftests/lib.sh topology) is the remote node with one
# iperf3 server per device. Three ways across, set up side by side:
#   cy-1, cy-all  the adapter's data plane: one cyphonic device each
#                 (workers 1 / workers 0 = all CPUs) holding every device's
#                 VIP as a local identity and one tunnel per device, with
#                 its own keys, to the remote node (static tunnels: what
#                 cyphonicd installs after the handshakes);
#   wg            in-kernel WireGuard as a plain subnet router: one tunnel,
#                 the remote peer's allowed-ips holding the whole LAN;
#   plain         no tunnel: the adapter routes the LAN to the remote node
#                 through the wan router (the same packet size): what the
#                 guest's TCP, bridge and routing cost without any tunnel,
#                 to tell what many slow flows cost everyone from what
#                 they cost a tunnel.
# Each device has one address per way (10.77.1.i, 10.77.2.i, 10.66.0.i,
# 10.77.9.i)
# and a route to each far end from that address. For every round, every
# count of devices in BENCH_COUNTS and every way (order rotated per
# round), all N devices run an iperf3 TCP test at once for BENCH_SECONDS.
#
# Output: "@@BENCH round=R n=N cfg=C dev=I bps=X" per device and run
# ("error=1" instead of bps when that client failed), meta records;
# tests/bench/adapter-report.py turns them into the table.
# shellcheck source=/dev/null  # lib.sh: topology, nsx, iperf helpers
. "$(dirname "$0")/../selftests/lib.sh"
# shellcheck source=wg.sh
. "$(dirname "$0")/wg.sh"
# shellcheck source=tcgprof/marks.sh
. "$(dirname "$0")/tcgprof/marks.sh"

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-5}
COUNTS=${BENCH_COUNTS:-1 5 20}
MAXN=0
for n in $COUNTS; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
MTU=1420
W=/tmp/bench-adapter
mkdir -p $W
# Every way is set up; BENCH_WAYS picks those measured.
ALL_WAYS=(cy-1 cy-all wg plain)
read -r -a CONFIGS <<< "${BENCH_WAYS:-${ALL_WAYS[*]}}"
declare -A FAR=([cy-1]=10.88.1.2 [cy-all]=10.88.2.2 [wg]=$WG4B [plain]=10.88.9.2)
declare -A CYDEV=([cy-1]=cy1 [cy-all]=cyall)
declare -A NET=([cy-1]=10.77.1 [cy-all]=10.77.2 [wg]=10.66.0 [plain]=10.77.9)

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }
rec() { echo "@@BENCH $*"; }

# Keys for every tunnel from one read of the kernel's RNG (each exec costs
# a fraction of a second under TCG): key K is KEYS[K*64 .. K*64+63].
KEYS=$(head -c $((32 * 4 * MAXN)) /dev/urandom | od -An -v -tx1 | tr -d ' \n')
key() { echo "${KEYS:$(($1 * 64)):64}"; }

# cy_dev CFG DEV WORKERS N: one cyphonic device per side, MAXN identities
# on the adapter, a tunnel per device (indices 100+i / 200+i).
cy_dev() {
	local dev=$2 workers=$3 n=$4 i net=${NET[$1]} far=${FAR[$1]} pa pb k
	pa=$((41000 + n)) pb=$((42000 + n))
	ip -n "$NS_A" link add "$dev" type cyphonic && ip -n "$NS_B" link add "$dev" type cyphonic ||
		return 1
	nsx "$NS_A" cyphctl set "$dev" listen-port $pa workers "$workers" &&
		nsx "$NS_B" cyphctl set "$dev" listen-port $pb workers "$workers" &&
		nsx "$NS_B" cyphctl local add "$dev" vip4 "$far" || return 1
	for ((i = 1; i <= MAXN; i++)); do
		k=$(((n - 1) * 2 * MAXN + 2 * (i - 1)))
		nsx "$NS_A" cyphctl local add "$dev" vip4 "$net.$((10 + i))" &&
			nsx "$NS_A" cyphctl tunnel add "$dev" index $((100 + i)) peer-index $((200 + i)) \
				local4 "$net.$((10 + i))" remote4 "$far" endpoint "$B4:$pb" \
				key-id 0 tx-key "$(key $k)" rx-key "$(key $((k + 1)))" 2>> $W/cyphctl.err &&
			nsx "$NS_B" cyphctl tunnel add "$dev" index $((200 + i)) peer-index $((100 + i)) \
				local4 "$far" remote4 "$net.$((10 + i))" endpoint "$A4:$pa" \
				key-id 0 tx-key "$(key $((k + 1)))" rx-key "$(key $k)" 2>> $W/cyphctl.err ||
			{ grep -v 'static keys are for testing' $W/cyphctl.err >&2; return 1; }
	done
	ip -n "$NS_A" -batch - <<-EOF || return 1
	link set $dev mtu $MTU
	link set $dev up
	route add $far/32 dev $dev
	EOF
	ip -n "$NS_B" -batch - <<-EOF
	link set $dev mtu $MTU
	addr add $far/32 dev $dev
	link set $dev up
	route add $net.0/24 dev $dev
	EOF
}

# WireGuard as a subnet router: wg.sh's pair, then the LAN behind site-a
# in the remote peer's allowed-ips and routes.
wg_subnet() {
	local pa
	wg_up || return 1
	pa=$(wg pubkey < "$W/wga.key") || return 1
	nsx "$NS_B" wg set wg0 peer "$pa" allowed-ips "$WG4A/32,${NET[wg]}.0/24" &&
		ip -n "$NS_B" route add "${NET[wg]}.0/24" dev wg0
}

# No tunnel: the far end is an address of site-b, the LAN's subnet is
# routed by wan (site-a and site-b already route everything through it).
plain_up() {
	nsx "$NS_W" ip route add "${FAR[plain]}/32" via "$B4" &&
		nsx "$NS_W" ip route add "${NET[plain]}.0/24" via "$A4" &&
		nsx "$NS_B" ip addr add "${FAR[plain]}/32" dev lo
}

# The LAN: lan0 with the adapter's address in each way's subnet, devices
# with one address per way, a route to each far end from that address.
lan_up() {
	local i d c mtu
	nsx "$NS_A" sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip -n "$NS_A" link add lan0 type bridge && ip -n "$NS_A" link set lan0 up || return 1
	for c in "${ALL_WAYS[@]}"; do
		ip -n "$NS_A" addr add "${NET[$c]}.1/24" dev lan0 || return 1
	done
	for ((i = 1; i <= MAXN; i++)); do
		d=dev$i
		ip netns add $d && anchor $d &&
			ip link add "p-$d" netns "$NS_A" type veth peer name eth0 netns $d &&
			ip -n "$NS_A" link set "p-$d" master lan0 up || return 1
		{
			echo "link set lo up"
			echo "link set eth0 up"
			for c in "${ALL_WAYS[@]}"; do
				echo "addr add ${NET[$c]}.$((10 + i))/24 dev eth0"
				# the tunnels' packet size (theirs come from their MTU)
				[ "$c" = plain ] && mtu="mtu $MTU" || mtu=
				echo "route add ${FAR[$c]}/32 via ${NET[$c]}.1 src ${NET[$c]}.$((10 + i)) $mtu"
			done
		} | ip -n $d -batch - || return 1
	done
}

cleanup() {
	local rc=$? what=$BASH_COMMAND i
	# A failure that printed nothing (a shell error under a redirect)
	# still says where it stopped.
	[ $rc = 0 ] || say "exiting with status $rc while running: $what"
	for ((i = 1; i <= MAXN; i++)); do ip netns del "dev$i" 2> /dev/null; done
	topo_down
}

# One iperf3 server per device in site-b (ports 5201..), each serving one
# test at a time, restarted when a run failed.
SRV_PIDS=()
srv_up() {
	local i
	for ((i = 1; i <= MAXN; i++)); do
		nsenter --net=/run/netns/"$NS_B" -- iperf3 -s -p $((5200 + i)) > /dev/null 2>&1 < /dev/null &
		SRV_PIDS+=($!)
	done
	for ((i = 1; i <= MAXN; i++)); do
		wait_until 30 listening "$NS_B" $((5200 + i)) || return 1
	done
}
srv_down() {
	kill "${SRV_PIDS[@]}" 2> /dev/null
	wait "${SRV_PIDS[@]}" 2> /dev/null
	SRV_PIDS=()
}

# jextra FILE: when the client started (s), its TCP retransmissions, to
# tell a late start or a loss-driven back-off from the tunnel's share, and
# its mean RTT (us): how long the path's queues stand
jextra() {
	local j t='"timesecs":[[:space:]]*([0-9]+)' x='"retransmits":[[:space:]]*([0-9]+)'
	local m='"mean_rtt":[[:space:]]*([0-9]+)'
	j=$(<"$1")
	[[ $j =~ $t ]] && printf 'start=%s ' "${BASH_REMATCH[1]}"
	[[ $j =~ $m ]] && printf 'rtt_us=%s ' "${BASH_REMATCH[1]}"
	j=${j##*\"sum_sent\"}
	[[ $j =~ $x ]] && printf 'retr=%s' "${BASH_REMATCH[1]}"
}

# drops CFG: the cyphonic devices' drop counters on both sides so far, as
# one diag record (what the crypt queues refused), and the devices'
# rx_dropped (/proc/net/dev: what the stack refused at delivery, a
# receive cell or the backlog full, which rx_drop_queue_full counts too)
drops() {
	local c=$1 d=${CYDEV[$1]:-} ns out=
	[ -n "$d" ] || return 0
	for ns in "$NS_A" "$NS_B"; do
		out+=" ${ns}:$(nsx "$ns" cyphctl show "$d" |
			awk 'NR > 1 && !/^  /{exit} /^  [a-z_]*drop[a-z_]*: /{sub(":", "="); printf "%s,", $1 $2}')"
		out+="dev_rx_dropped=$(nsx "$ns" awk -v d="$d:" '$1 == d { print $5 }' /proc/net/dev),"
	done
	rec "diag cfg=$c drops$out"
}

# The remote node counts what it receives from each device (inner IP
# bytes, nftables), so every device is measured over one common window.
# iperf3's own figure covers each client's own seconds, and under TCG
# starting 20 clients takes longer than a run: their windows barely
# overlapped, and early and late clients ran partly alone. The counters
# sit on the elements of one hashed set: a chain of one rule per device
# cost every packet a walk of half the devices' rules (about 1,100 guest
# instructions per packet with 20 devices, BENCH_TCGPROF), which the
# measurement added to the ways measured.
count_up() {
	local n=$1 c=$2 i
	{
		echo "add table ip bench"
		echo "add set ip bench devs { type ipv4_addr; counter; }"
		for ((i = 1; i <= n; i++)); do
			echo "add element ip bench devs { ${NET[$c]}.$((10 + i)) }"
		done
		echo "add chain ip bench in { type filter hook input priority 0; }"
		echo "add rule ip bench in ip saddr @devs"
	} | nsx "$NS_B" nft -f -
}
count_down() { nsx "$NS_B" nft delete table ip bench 2> /dev/null; }
# counts: "ADDR BYTES" per device, from elements listed as
# "ADDR counter packets N bytes M" (commas and braces around them)
counts() {
	nsx "$NS_B" nft list set ip bench devs | tr ',{}' '   ' |
		awk '{ for (i = 2; i + 4 <= NF; i++) if ($i == "counter" && $(i + 3) == "bytes") print $(i - 1), $(i + 4) }'
}
# rx_bytes CFG: set RXB to the bytes the remote node's end of way CFG
# has received so far: its tunnel device's inner IP bytes (for plain,
# site-b's eth0: 14 bytes of Ethernet header more per packet). Read with
# builtins only, through an iperf3 server's view of site-b, so reading it
# right at a measured window's edges runs no process.
declare -A RXDEV=([cy-1]=cy1 [cy-all]=cyall [wg]=wg0 [plain]=eth0)
rx_bytes() {
	local name bytes rest
	RXB=
	while read -r name bytes rest; do
		[ "$name" = "${RXDEV[$1]}:" ] && RXB=$bytes
	done < "/proc/${SRV_PIDS[0]}/net/dev"
	[ -n "$RXB" ] || { say "no ${RXDEV[$1]} in site-b's /proc/net/dev"; RXB=0; return 1; }
}
# cpustat: the guest's CPU ticks (all CPUs; USER_HZ) and context switches
# so far: "user nice system idle iowait irq softirq ctxt"
cpustat() {
	local k a b c d e f g rest cpu=
	while read -r k a b c d e f g rest; do
		case $k in
		cpu) cpu="$a $b $c $d $e $f $g" ;;
		ctxt) echo "$cpu $a" ;;
		esac
	done < /proc/stat
}
# threadstat: CPU ticks so far by kind of thread: "iperf3 kworker
# ksoftirqd other" (utime + stime of every live thread; BENCH_TRACE only)
threadstat() {
	[ "${BENCH_TRACE:-0}" = 1 ] || return 0
	cat /proc/[0-9]*/task/[0-9]*/stat 2> /dev/null | awk '
		{ sub(/^[0-9]+ \(/, ""); c = $0; sub(/\).*/, "", c); sub(/^.*\) /, "")
		  t = $12 + $13
		  if (c == "iperf3") i += t; else if (c ~ /^kworker/) k += t
		  else if (c ~ /^ksoftirqd/) s += t; else o += t }
		END { print i + 0, k + 0, s + 0, o + 0 }'
}
# threadrec ROUND N CFG BYTES "BEFORE" "AFTER": CPU us per packet by kind
# of thread (softirqs run in whatever thread they interrupt, so they are
# counted there unless ksoftirqd ran them)
threadrec() {
	local hz pk
	[ "${BENCH_TRACE:-0}" = 1 ] || return 0
	hz=$(getconf CLK_TCK)
	pk=$(($4 / MTU))
	[ "$pk" -gt 0 ] || return 0
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" $5 $6
	say "trace round=$1 n=$2 cfg=$3 CPU us per packet by thread: iperf3 $((($8 - $4) * 1000000 / hz / pk))" \
		"kworker $((($9 - $5) * 1000000 / hz / pk)) ksoftirqd $(((${10} - $6) * 1000000 / hz / pk))" \
		"other $(((${11} - $7) * 1000000 / hz / pk))"
}
# cpurec ROUND N CFG BYTES "BEFORE" "AFTER": what the window cost the whole
# guest (every vCPU, iperf3 included), per full-size inner packet (MTU
# bytes): busy share, CPU microseconds and context switches per packet
cpurec() {
	local hz pk
	hz=$(getconf CLK_TCK)
	pk=$(($4 / MTU))
	[ "$pk" -gt 0 ] || return 0
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" $5 $6
	# $4..$11 before, $12..$19 after: user nice system idle iowait irq softirq ctxt
	local user=$((${12} + ${13} - $4 - $5)) sys=$((${14} + ${17} - $6 - $9))
	local idle=$((${15} + ${16} - $7 - $8)) soft=$((${18} - ${10}))
	local busy=$((user + sys + soft)) all
	all=$((busy + idle))
	[ "$all" -gt 0 ] || return 0
	rec "cpu round=$1 n=$2 cfg=$3 busy_pct=$((100 * busy / all)) user_pct=$((100 * user / all))" \
		"sys_pct=$((100 * sys / all)) softirq_pct=$((100 * soft / all))" \
		"us_per_pkt=$((busy * 1000000 / hz / pk)) ctxt_per_pkt=$(awk "BEGIN { printf \"%.2f\", (${19} - ${11}) / $pk }")"
}

# cystats CFG: the adapter's and the remote node's device counters that
# tell how units and trains form: "A:name value" and "B:name value" lines
# (BENCH_TRACE only; the device stats come first in cyphctl's JSON)
CYSTATS="tx_packets tx_gso_sends tx_gso_shared rx_packets"
cystats() {
	local ns side json k
	[ "${BENCH_TRACE:-0}" = 1 ] && [ -n "${CYDEV[$1]:-}" ] || return 0
	for side in A B; do
		[ $side = A ] && ns=$NS_A || ns=$NS_B
		json=$(nsx "$ns" cyphctl show "${CYDEV[$1]}" --json)
		for k in $CYSTATS; do
			echo "$side:$k $(grep -o "\"$k\":[0-9]*" <<< "$json" | head -n 1 | cut -d: -f2)"
		done
	done
}
# cystatrec ROUND N CFG BYTES "BEFORE" "AFTER": those counters per packet
cystatrec() {
	local pk=$(($4 / MTU))
	[ "${BENCH_TRACE:-0}" = 1 ] && [ "$pk" -gt 0 ] && [ -n "$5" ] || return 0
	say "trace round=$1 n=$2 cfg=$3 device counters per packet: $(
		join <(sort <<< "$5") <(sort <<< "$6") |
			awk -v pk="$pk" '{ printf "%s %.3f  ", $1, ($3 - $2) / pk }')"
}

# BENCH_TRACE=1: over each window, also count with the kernel's histogram
# triggers (in-kernel counting, no trace buffer) the work items run, by
# function, the context switches, by the thread leaving its CPU, the skbs
# each device transmitted and delivered into the stack, by device, and
# the softirqs, by vector (3 is NET_RX), and print them per packet: a
# diagnosis aid, not part of the records. The
# triggers are set once, before any traffic, and only cleared (>>, never
# a truncating open) between windows: adding or removing one patches
# kernel text, and under TCG that once left a vCPU unresponsive for good
# while the other waited for it (soft lockup in text_poke_bp).
T=/sys/kernel/tracing
HISTS="workqueue/workqueue_execute_start:function.sym sched/sched_switch:prev_comm net/net_dev_xmit:name net/netif_receive_skb:name irq/softirq_entry:vec"
# hists [:clear]: set every histogram (before any traffic), or empty them
hists() {
	local h
	[ "${BENCH_TRACE:-0}" = 1 ] || return 0
	[ -d $T/events ] || mount -t tracefs tracefs $T
	for h in $HISTS; do
		echo "hist:keys=${h#*:}:sort=hitcount.descending:size=256${1:-}" >> "$T/events/${h%%:*}/trigger"
	done
}
# trace_off ROUND N CFG BYTES
trace_off() {
	local h pk=$(($4 / MTU))
	[ "${BENCH_TRACE:-0}" = 1 ] || return 0
	for h in $HISTS; do
		say "trace round=$1 n=$2 cfg=$3 ${h%%:*} per packet ($pk packets):"
		# lines: "{ function: [ffff...] cyph_serial_work [cyphonic] } hitcount: N"
		sed -n 's/^{ [a-z_]*: *\(\[[0-9a-f]*\] \)\{0,1\}\(.*[^ ]\) *} hitcount: *\([0-9]*\)$/\3 \2/p' \
			"$T/events/${h%%:*}/hist" | head -n 8 |
			awk -v pk="$pk" '{ n = $1; $1 = ""; printf "  %8.3f %s\n", pk ? n / pk : 0, $0 }' >&2
	done
}

# moving N CFG: every device has sent its first 64 KB
moving() {
	local n=$1 c=$2 a b k=0
	while read -r a b; do
		[ "$b" -ge 65536 ] && k=$((k + 1))
	done < <(counts)
	[ $k -ge "$n" ]
}

# run ROUND N CFG: N devices at once, one record per device: its rate over
# BENCH_SECONDS once every device's flow is moving, plus a second (what
# iperf3 -O 1 skipped: slow start)
run() {
	local r=$1 n=$2 c=$3 i pids=() bad=0 t0 t1 a b s0 s1 h0 h1 c0 c1 p0=0 p1=0 sum=0
	local -A b0=() b1=()
	count_down
	count_up "$n" "$c" || die "nftables counters for $c"
	for ((i = 1; i <= n; i++)); do
		timeout -k 5 $((SECS + 150)) nsenter --net=/run/netns/dev$i -- \
			iperf3 -c "${FAR[$c]}" -p $((5200 + i)) -t $((SECS + 120)) -J \
			> "$W/$i.json" 2> /dev/null &
		pids+=($!)
	done
	if wait_until 90 moving "$n" "$c"; then
		sleep 1
		t0=$(date +%s%N)
		while read -r a b; do b0[$a]=$b; done < <(counts)
		hists :clear
		h0=$(threadstat)
		c0=$(cystats "$c")
		s0=$(cpustat)
		rx_bytes "$c"
		p0=$RXB
		prof_begin
		sleep "$SECS"
		prof_end
		rx_bytes "$c"
		p1=$RXB
		s1=$(cpustat)
		h1=$(threadstat)
		c1=$(cystats "$c")
		t1=$(date +%s%N)
		while read -r a b; do b1[$a]=$b; done < <(counts)
		for a in "${!b1[@]}"; do sum=$((sum + b1[$a] - ${b0[$a]:-${b1[$a]}})); done
		# The packets of the CPU window; none (a server gone) fails the run.
		[ "$p1" -gt "$p0" ] || bad=1
		cpurec "$r" "$n" "$c" $((p1 - p0)) "$s0" "$s1"
		# The traces' windows span their own slow reads (every thread's
		# stats, cyphctl): they keep the nftables packets, read around
		# all of it, as their earlier figures did.
		trace_off "$r" "$n" "$c" "$sum"
		threadrec "$r" "$n" "$c" "$sum" "$h0" "$h1"
		cystatrec "$r" "$n" "$c" "$sum" "$c0" "$c1"
	else
		say "round $r n=$n $c: not every device got going in 90 s"
		bad=1
	fi
	kill -INT "${pids[@]}" 2> /dev/null
	wait "${pids[@]}"
	for ((i = 1; i <= n; i++)); do
		a=${NET[$c]}.$((10 + i))
		if [ $bad = 0 ] && [ -n "${b0[$a]:-}" ] && [ -n "${b1[$a]:-}" ]; then
			rec "round=$r n=$n cfg=$c dev=$i bps=$(((b1[$a] - b0[$a]) * 8 * 1000000000 / (t1 - t0))) $(jextra "$W/$i.json")"
		else
			rec "round=$r n=$n cfg=$c dev=$i error=1"
			bad=1
		fi
	done
	# A profiled window counts only if the run does (its marks were made).
	[ $bad = 0 ] && prof_record $(((p1 - p0) / MTU)) "$c n=$n round $r"
	count_down
	drops "$c"
	if [ $bad = 1 ]; then
		say "round $r n=$n $c: a client failed; restarting the servers"
		srv_down
		srv_up || die "iperf3 servers do not restart"
	fi
}

main() {
	local r n i k c start
	start=$(date +%s)
	rec "meta kernel=$(uname -r) cpus=$(nproc) rounds=$ROUNDS seconds=$SECS counts=${COUNTS// /,} mtu=$MTU"
	modprobe -a aesni_intel ghash_clmulni_intel chacha_x86_64 poly1305_x86_64 \
		chacha20poly1305 gcm wireguard 2> /dev/null
	modprobe cyphonic || die "cannot load cyphonic.ko"
	trap cleanup EXIT
	say "topology, the adapter's LAN with $MAXN devices, WireGuard, 2 cyphonic devices, plain routing"
	topo_up || die "topology setup failed"
	lan_up || die "LAN setup failed"
	wg_subnet || die "WireGuard setup failed"
	plain_up || die "plain routing setup failed"
	cy_dev cy-1 cy1 1 1 && cy_dev cy-all cyall 0 2 || die "cyphonic setup failed"
	for ((i = 1; i <= MAXN; i++)); do
		for c in "${ALL_WAYS[@]}"; do
			nsx dev$i ping -q -c 1 -W 5 "${FAR[$c]}" > /dev/null ||
				die "no ping from dev$i through $c (${FAR[$c]})"
		done
	done
	rec "meta setup_s=$(($(date +%s) - start))"
	hists
	srv_up || die "iperf3 servers do not start"
	k=${#CONFIGS[@]}
	for ((r = 1; r <= ROUNDS; r++)); do
		for n in $COUNTS; do
			say "round $r/$ROUNDS: $n device(s)"
			for ((i = 0; i < k; i++)); do
				run "$r" "$n" "${CONFIGS[(i + r - 1) % k]}"
			done
		done
	done
	# After the runs: the first one loads nf_tables (count_up).
	prof_symbols
	rec "meta elapsed_s=$(($(date +%s) - start))"
}

main
