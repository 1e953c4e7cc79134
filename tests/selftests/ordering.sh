#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In-order delivery: the tunnel must not reorder a flow's packets (the
# design's per-tunnel reorder buffer releases them strictly in sequence),
# with the crypt work on every CPU (workers 0), the same with each CPU
# held up in turn by a real-time busy loop (a tunnel's serial stage moves
# between CPUs only once the old one has handed on all it released), with
# CPU 1 taken offline and brought back again and again (its stages, cells
# and kept-back packets move to CPU 0, and come back), and on one CPU
# (workers 1).
#
# Each phase runs at once, from site-a to site-b: 4 parallel iperf3 TCP
# streams, and a flood of numbered UDP datagrams in 4 flows (seqcheck
# udp-send, as fast as it can). On site-b, seqcheck ipid-watch checks that
# no IPv4 flow's IP ID steps back in the order the device delivers the
# packets (Linux numbers a socket's packets consecutively, retransmissions
# included, so loss cannot cause a step back), and seqcheck udp-recv that
# no datagram arrives after a higher numbered one, or twice. Loss is
# allowed, but every lost datagram must show in some drop counter.
#
# Controls over the plain underlay: pinned to one CPU, where nothing can
# reorder, both checkers find nothing (they make no false alarms); with
# netem reordering, duplicating and losing wan's packets to site-b, they
# report all three (they can fail).
. "$(dirname "$0")/lib.sh"
need ip tc taskset chrt cyphctl iperf3 seqcheck
t_begin
trap 'topo_down; rm -rf "$TMP"' EXIT
TMP=$(mktemp -d)

SECS=4		# traffic per tunnel phase
UDP_PORT=5300
MIN_TCP=100	# TCP packets a phase must carry (the flood starves TCP)
MIN_UDP=500	# UDP datagrams likewise
PIN=()		# command prefix for every process of a phase

# kv FILE KEY: the number after KEY= in a seqcheck summary line
kv() {
	local re="(^| )$2=([0-9]+)"
	[[ $(< "$1") =~ $re ]] || { echo -1; return 1; }
	echo "${BASH_REMATCH[2]}"
}

# dev_field NS IF COL: a column of IF's line in NS's /proc/net/dev (no
# exec): 1 rx packets, 3 rx drops, 11 tx drops; NS's total over every
# device when IF is "all".
dev_field() {
	local name l sum=0
	while IFS=: read -r name l; do
		read -r -a l <<< "$l"
		[ ${#l[@]} -ge 12 ] && [[ ${l[$3]} =~ ^[0-9]+$ ]] || continue
		[ "$2" = all ] || [ "${name// /}" = "$2" ] || continue
		sum=$((sum + l[$3]))
	done < "/proc/${ANCHOR[$1]}/net/dev"
	echo $sum
}
# Drops outside cyphonic: device drops in every namespace but cyph0's
# (its netdev counters add up the drops `drops` reads), plus the backlog
# drops of all CPUs (softnet_stat's second column, global).
other_drops() {
	local ns l c sum=0
	for ns in $NS_A $NS_W $NS_B; do
		for c in 3 11; do
			sum=$((sum + $(dev_field $ns all $c) - $(dev_field $ns cyph0 $c)))
		done
	done
	while read -r -a l; do
		sum=$((sum + 16#${l[1]}))
	done < /proc/net/softnet_stat
	echo $sum
}
# sum_kv "a=1 b=2 ...": the sum of the values
sum_kv() {
	local kv sum=0
	for kv in $1; do
		sum=$((sum + ${kv#*=}))
	done
	echo $sum
}

# quiet NS IF: wait until IF has received nothing for 0.3 s (at most 10 s),
# so that no datagram is still on its way when the receivers stop.
quiet() {
	local last=-1 now i
	for ((i = 0; i < 33; i++)); do
		now=$(dev_field "$1" "$2" 1)
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 0.3
	done
}

# bg_b NAME CMD...: CMD in site-b in the background, output in $TMP/NAME.*
bg_b() {
	local name=$1
	shift
	nsenter --net="/run/netns/$NS_B" -- "${PIN[@]}" "$@" > "$TMP/$name.out" \
		2> "$TMP/$name.err" < /dev/null &
}

# phase LABEL SECS IFNAME DST: the traffic from A to DST for SECS s, checked
# on B's IFNAME; every process is prefixed with ${PIN[@]}. Leaves the
# summaries in $TMP/{watch,recv,send}.out and the drops seen outside
# cyphonic meanwhile in OTHER_DROPS.
phase() {
	local label=$1 secs=$2 ifname=$3 dst=$4 wpid rpid ipid spid d0
	local t0=$SECONDS
	rm -f "$TMP"/*
	bg_b watch seqcheck ipid-watch "$ifname" --seconds 120 --ready "$TMP/watch.ready"
	wpid=$!
	bg_b recv seqcheck udp-recv $UDP_PORT --seconds 120 --ready "$TMP/recv.ready"
	rpid=$!
	bg_b iperfd iperf3 -s -1
	ipid=$!
	if ! wait_until 20 test -e "$TMP/watch.ready" -a -e "$TMP/recv.ready" ||
		! wait_until 20 listening $NS_B 5201; then
		kill $wpid $rpid $ipid
		return 1
	fi
	d0=$(other_drops)
	ina "${PIN[@]}" seqcheck udp-send "$dst" $UDP_PORT --seconds "$secs" \
		--flows 4 > "$TMP/send.out" 2>&1 &
	spid=$!
	if ! ina "${PIN[@]}" iperf3 -c "$dst" -P 4 -t "$secs" > "$TMP/iperf.out" 2>&1; then
		diag "$label: iperf3 failed: $(tail -n 2 "$TMP/iperf.out")"
		kill $ipid	# never got its one test
	fi
	wait $spid
	wait $ipid
	quiet $NS_B "$ifname"
	kill -INT $wpid $rpid
	wait $wpid $rpid
	OTHER_DROPS=$(($(other_drops) - d0))
	diag "$label: ipid-watch: $(< "$TMP/watch.out")"
	diag "$label: udp-send: $(< "$TMP/send.out")"
	diag "$label: udp-recv: $(< "$TMP/recv.out")"
	sed "s/^/# $label: /" "$TMP/watch.err" "$TMP/recv.err"
	diag "$label: $((SECONDS - t0)) s; drops outside cyphonic meanwhile: $OTHER_DROPS"
}

# path_lost: UDP datagrams of the last phase lost on the way: neither
# refused to the sender nor dropped by the receiving socket. (Drop counters
# also count TCP's packets: they are an upper bound for it.)
path_lost() {
	echo $(($(kv "$TMP/recv.out" lost) - $(kv "$TMP/send.out" errors) -
		$(kv "$TMP/recv.out" overflow)))
}

# expect_in_order LABEL CYPH_DROPS: the phase's flows all arrived in order,
# and CYPH_DROPS (cyphonic's drops) with OTHER_DROPS cover the UDP loss.
expect_in_order() {
	local w=$TMP/watch.out r=$TMP/recv.out lost
	t_expect "$1: TCP flowed (packets seen: $(kv $w tcp))" "$(kv $w tcp)" -ge $MIN_TCP
	t_expect "$1: UDP flowed (datagrams received: $(kv $r received))" "$(kv $r received)" -ge $MIN_UDP
	t_expect "$1: no IPv4 flow's IP ID steps back (backward=$(kv $w backward))" "$(kv $w backward)" -eq 0
	t_expect "$1: no UDP datagram reordered (reordered=$(kv $r reordered))" "$(kv $r reordered)" -eq 0
	t_expect "$1: no UDP datagram duplicated (duplicate=$(kv $r duplicate))" "$(kv $r duplicate)" -eq 0
	lost=$(path_lost)
	t_expect "$1: every lost UDP datagram shows in a drop counter (lost on the way $lost, cyphonic drops $2, other drops $OTHER_DROPS)" \
		"$lost" -le $(($2 + OTHER_DROPS))
}

setup 4 workers 0 || t_abort "setup failed"

# Everything on CPU 0: every queue on the path is then one FIFO, so a step
# back here would be the checkers' own error. (Left to both CPUs, the
# plain underlay itself reorders a little: TCP sends from process and
# softirq context on different CPUs, and veth queues each packet on the
# sending CPU's backlog.)
PIN=(taskset -c 0)
if phase "plain, one CPU" 3 eth0 $B4; then
	expect_in_order "control: plain underlay on one CPU" 0
else
	t_fail "control: plain underlay on one CPU: phase setup"
fi
PIN=()

# netem reorders, duplicates and loses packets without counting a drop
# anywhere the checks look.
tc -n $NS_W qdisc add dev b0 root netem delay 2ms reorder 25% duplicate 5% loss 2% ||
	t_abort "tc netem on wan's b0"
if phase "netem" 2 eth0 $B4; then
	w=$TMP/watch.out r=$TMP/recv.out
	t_expect "control: netem reordering is caught by ipid-watch (backward=$(kv $w backward))" \
		"$(kv $w backward)" -gt 0
	t_expect "control: netem reordering is caught by udp-recv (reordered=$(kv $r reordered))" \
		"$(kv $r reordered)" -gt 0
	t_expect "control: netem duplicates are caught by udp-recv (duplicate=$(kv $r duplicate))" \
		"$(kv $r duplicate)" -gt 0
	t_expect "control: netem's uncounted loss is noticed (lost on the way $(path_lost), drops $OTHER_DROPS)" \
		"$(path_lost)" -gt "$OTHER_DROPS"
else
	t_fail "control: netem: phase setup"
fi
tc -n $NS_W qdisc del dev b0 root

# hold_cpus: until killed, hold each CPU in turn for 20 ms out of 100
# with a real-time busy loop, as a host does to a guest's vCPUs or an
# interrupt storm to a CPU: softirq work that overflows to ksoftirqd then
# waits on that CPU (its backlog, its receive cells), while the other CPU
# runs on. The controller outranks the loops, so it always gets to stop
# them.
hold_cpus() {
	local h0 h1
	chrt -f 50 taskset -c 0 sh -c 'kill -STOP $$; while :; do :; done' &
	h0=$!
	chrt -f 50 taskset -c 1 sh -c 'kill -STOP $$; while :; do :; done' &
	h1=$!
	trap 'kill -KILL $h0 $h1 2> /dev/null; exit 0' TERM
	while :; do
		kill -CONT $h0; sleep 0.02; kill -STOP $h0; sleep 0.03
		kill -CONT $h1; sleep 0.02; kill -STOP $h1; sleep 0.03
	done
}

# cycle_cpu CPU FILE: until killed, take CPU offline and bring it back,
# 0.5 s each, as an operator or a power manager does; FILE gets a line
# per round trip. Killed, it leaves the CPU online.
cycle_cpu() {
	local f=/sys/devices/system/cpu/cpu$1/online
	trap 'echo 1 > $f; exit 0' TERM
	while :; do
		echo 0 > $f || exit 1
		sleep 0.5
		echo 1 > $f || exit 1
		echo >> "$2"
		sleep 0.5
	done
}
HP_CPU=1 HP_LOG=$(mktemp)
trap 'echo 1 > /sys/devices/system/cpu/cpu$HP_CPU/online 2> /dev/null; topo_down; rm -rf "$TMP" "$HP_LOG"' EXIT
# offline_trims MARKER: kmod/trim.c's "cpu offline" lines since MARKER
offline_trims() { dmesg | sed -n "/$1/,\$p" | grep "cyphonic: cpu offline: cpu $HP_CPU "; }
# offline_downs MARKER: kmod/serial.c's "cpu N going offline" lines
offline_downs() { dmesg | sed -n "/$1/,\$p" | grep "cyphonic: cpu $HP_CPU going offline: "; }

# The tunnel. Its drop counters start from zero: no tunnel traffic so far.
c0=0
for w in 0 held hotplug 1; do
	if [ $w = held ]; then
		chrt -f 60 bash -c "$(declare -f hold_cpus); hold_cpus" &
		holder=$!
	fi
	if [ $w = hotplug ]; then
		[ -w /sys/devices/system/cpu/cpu$HP_CPU/online ] || {
			t_fail "hotplug: CPU $HP_CPU cannot be taken offline (no .../cpu$HP_CPU/online)"
			continue
		}
		: > "$HP_LOG"
		hp_marker="ordering: hotplug $$ $(date +%s%N)"
		echo "$hp_marker" > /dev/kmsg
		ddebug +p || diag "no dynamic debug: the caches' release is not checked"
		bash -c "$(declare -f cycle_cpu); cycle_cpu $HP_CPU $HP_LOG" &
		cycler=$!
	fi
	if [ $w = 1 ]; then
		ina cyphctl set cyph0 workers 1 && inb cyphctl set cyph0 workers 1 ||
			{ t_fail "workers 1: cyphctl set cyph0 workers 1"; continue; }
	fi
	label="workers $w"
	[ $w = held ] && label="workers 0, CPUs held up in turn"
	[ $w = hotplug ] && label="workers 0, CPU $HP_CPU offline and back in turn"
	if phase "$label" $SECS cyph0 $VB4; then
		da=$(drops $NS_A) db=$(drops $NS_B)
		diag "$label: cyphonic drops so far: A: ${da:-none} B: ${db:-none}"
		c1=$(sum_kv "$da $db")
		expect_in_order "$label" $((c1 - c0))
		c0=$c1
	else
		t_fail "$label: phase setup"
	fi
	if [ $w = held ]; then
		kill -TERM $holder
		wait $holder
	fi
	if [ $w = hotplug ]; then
		kill -TERM $cycler
		wait $cycler
		n=$(wc -l < "$HP_LOG")
		t_expect "$label: CPU $HP_CPU went offline and came back during the phase ($n times)" "$n" -ge 2
		t_check "$label: CPU $HP_CPU is online again" \
			grep -qx 1 /sys/devices/system/cpu/cpu$HP_CPU/online
		if ddebug -p; then
			t_expect "$label: each time, what the CPU kept for reuse was let go ($(offline_trims "$hp_marker" | wc -l) releases)" \
				"$(offline_trims "$hp_marker" | wc -l)" -ge "$n"
			offline_trims "$hp_marker" | tail -n 3 | sed 's/^.*cyphonic: /#   /'
			downs=$(offline_downs "$hp_marker" | grep -c "handed on")
			t_expect "$label: each time, the CPU ran what its stages released there out before it died ($downs times)" \
				"$downs" -ge "$n"
			offline_downs "$hp_marker" | grep -v "handed on" | sed 's/^.*cyphonic: /#   /'
		fi
		t_check "$label: the tunnel still works" ina ping -c 2 -i 0.2 -W 5 $VB4
	fi
done
t_end
