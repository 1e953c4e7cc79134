# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared code of the cyphonic selftests (sourced). Runs inside the test VM
# as root; never touches the host's network.
#
# Topology (all namespaces inside the guest):
#
#   site-a                      wan (router)                     site-b
#   eth0 192.0.2.2/24     <-> a0 192.0.2.1/24
#        2001:db8:a::2/64         2001:db8:a::1/64
#                                 b0 198.51.100.1/24    <-> eth0 198.51.100.2/24
#                                    2001:db8:b::1/64          2001:db8:b::2/64
#   cyph0 VIP 10.99.0.1/24                                     cyph0 VIP 10.99.0.2/24
#         fd00:99::1/64    ===== cyphonic tunnel (UDP) =====         fd00:99::2/64
#   UDP port 40001                                             UDP port 40002
#
# Tunnel indices: A's tunnel has index 1 (B sends to index 1), B's index 2.

set -u
SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
PKT="$PY -S $SELFTEST_DIR/lib/pkt.py"
KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4

NS_A=site-a NS_B=site-b NS_W=wan
A4=192.0.2.2 W4A=192.0.2.1 B4=198.51.100.2 W4B=198.51.100.1
A6=2001:db8:a::2 W6A=2001:db8:a::1 B6=2001:db8:b::2 W6B=2001:db8:b::1
VA4=10.99.0.1 VB4=10.99.0.2 VA6=fd00:99::1 VB6=fd00:99::2
PORT_A=40001 PORT_B=40002
IDX_A=1 IDX_B=2

# ---- TAP -----------------------------------------------------------------

_t_n=0 _t_fail=0
t_begin() { echo "TAP version 13"; }
t_ok() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $1"; }
t_fail() {
	_t_n=$((_t_n + 1)); _t_fail=$((_t_fail + 1))
	echo "not ok $_t_n - $1"
	[ $# -gt 1 ] && printf '#   %s\n' "${@:2}"
	return 0
}
t_skip() { _t_n=$((_t_n + 1)); echo "ok $_t_n - $1 # SKIP $2"; }
# t_check NAME CMD...: ok when CMD succeeds; its output is shown on failure.
t_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_ok "$name"
	else
		t_fail "$name" "command: $*"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
}
# t_expect NAME ACTUAL OP EXPECTED: numeric comparison (-eq, -gt, -ge ...).
t_expect() {
	if [ "$2" "$3" "$4" ] 2> /dev/null; then
		t_ok "$1"
	else
		t_fail "$1" "got '$2', expected $3 '$4'"
	fi
}
t_end() {
	echo "1..$_t_n"
	[ "$_t_fail" -eq 0 ] && exit $KSFT_PASS
	exit $KSFT_FAIL
}
# t_tool NAME CMD...: run a TAP-printing test tool and merge its lines as
# "NAME: ..." (its comments passed on), then its exit status.
t_tool() {
	local name=$1 out rc line
	shift
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) t_ok "$name: ${line#ok [0-9] - }" ;;
		"not ok "*) t_fail "$name: ${line#not ok [0-9] - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <<< "$out"
	t_expect "$name exit status" "$rc" -eq 0
}
# t_abort WHY: fail and stop here (a broken setup is a failure, not a skip).
t_abort() {
	t_fail "$1"
	t_end
}
# Skip the whole test (kselftest exit code 4).
t_skip_all() {
	echo "1..0 # SKIP $1"
	exit $KSFT_SKIP
}
need() {
	local c
	for c in "$@"; do
		command -v "$c" > /dev/null || t_skip_all "$c not installed"
	done
}
diag() { echo "# $*"; }

# ---- namespaces ----------------------------------------------------------
# Every exec costs 0.1-0.5 s under TCG, so helpers avoid them: nsenter
# instead of `ip netns exec` (no mount namespace work), `ip -n NS -batch`
# for configuration, and counters read with bash from the files of an
# "anchor" process living in each namespace (/proc/PID/net/...).

declare -A ANCHOR=()
nsx() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}
ina() { nsx $NS_A "$@"; }
inb() { nsx $NS_B "$@"; }
inw() { nsx $NS_W "$@"; }

ns_kill_all() {
	local ns pids
	for ns in $NS_A $NS_B $NS_W; do
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns" 2> /dev/null)
		[ -n "$pids" ] && kill $pids 2> /dev/null
	done
	sleep 0.2
	for ns in $NS_A $NS_B $NS_W; do
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns" 2> /dev/null)
		[ -n "$pids" ] && kill -9 $pids 2> /dev/null
	done
	ANCHOR=()
	return 0
}

topo_down() {
	local ns
	ns_kill_all
	for ns in $NS_A $NS_B $NS_W; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	return 0
}

# A sleeping process in NS whose /proc/PID/net shows NS's counters.
anchor() {
	# Not through nsx: a backgrounded function would run in a subshell of
	# the root namespace, and $! would be that subshell.
	# No inherited stdout: `$(setup)` would otherwise wait for it forever.
	nsenter --net="/run/netns/$1" -- sleep infinity > /dev/null 2>&1 < /dev/null &
	ANCHOR[$1]=$!
	disown	# no "Terminated" job message when topo_down kills it
}

# Router "wan" with one veth to each site, IPv4 and IPv6 underlay.
topo_up() {
	local ns
	topo_down
	for ns in $NS_A $NS_B $NS_W; do
		ip netns add "$ns" || return 1
		anchor "$ns"
	done
	ip link add a0 netns $NS_W type veth peer name eth0 netns $NS_A &&
		ip link add b0 netns $NS_W type veth peer name eth0 netns $NS_B ||
		return 1
	inw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	ip -n $NS_W -batch - <<-EOF || return 1
	link set lo up
	addr add $W4A/24 dev a0
	addr add $W6A/64 dev a0 nodad
	addr add $W4B/24 dev b0
	addr add $W6B/64 dev b0 nodad
	link set a0 up
	link set b0 up
	EOF
	ip -n $NS_A -batch - <<-EOF || return 1
	link set lo up
	addr add $A4/24 dev eth0
	addr add $A6/64 dev eth0 nodad
	link set eth0 up
	route add default via $W4A
	route add default via $W6A
	EOF
	ip -n $NS_B -batch - <<-EOF || return 1
	link set lo up
	addr add $B4/24 dev eth0
	addr add $B6/64 dev eth0 nodad
	link set eth0 up
	route add default via $W4B
	route add default via $W6B
	EOF
	# Underlay must work before anything else is worth testing. A loaded
	# TCG guest may take a while to resolve the first neighbours: retry.
	wait_until 30 ina ping -c1 -W 2 -q $B4 ||
		{ diag "topo_up: A cannot ping B's underlay $B4"; return 1; }
	wait_until 30 ina ping -6 -c1 -W 2 -q $B6 ||
		{ diag "topo_up: A cannot ping B's underlay $B6"; return 1; }
}

# ---- cyphonic devices and tunnels ----------------------------------------

# cyph_dev NS PORT VIP4 VIP6 [cipher C] [workers N]: cyph0 with one identity
cyph_dev() {
	local ns=$1 port=$2 v4=$3 v6=$4
	shift 4
	ip -n "$ns" link add cyph0 type cyphonic || return 1
	nsx "$ns" cyphctl set cyph0 listen-port "$port" "$@" || return 1
	nsx "$ns" cyphctl local add cyph0 vip4 "$v4" vip6 "$v6" || return 1
	ip -n "$ns" -batch - <<-EOF
	addr add $v4/24 dev cyph0
	addr add $v6/64 dev cyph0 nodad
	link set cyph0 up
	EOF
}

# Both sites' devices; extra args go to `cyphctl set` (cipher, workers).
cyph_up() {
	cyph_dev $NS_A $PORT_A $VA4 $VA6 "$@" &&
		cyph_dev $NS_B $PORT_B $VB4 $VB6 "$@"
}

genkeys() {
	KEY_AB=$(cyphctl genkey) && KEY_BA=$(cyphctl genkey) &&
		[ ${#KEY_AB} -eq 64 ] && [ ${#KEY_BA} -eq 64 ]
}

# Endpoint of the other side for outer family 4 or 6.
ep_of_b() { [ "$1" = 6 ] && echo "[$B6]:$PORT_B" || echo "$B4:$PORT_B"; }
ep_of_a() { [ "$1" = 6 ] && echo "[$A6]:$PORT_A" || echo "$A4:$PORT_A"; }

# tunnel_a OUTER / tunnel_b OUTER [B_RX_KEY]: the static tunnel A<->B over
# outer IPv4 or IPv6 carrying both inner families, on one side. Keys from
# genkeys; B_RX_KEY overrides what B expects from A (to make authentication
# fail on purpose).
tunnel_a() {
	ina cyphctl tunnel add cyph0 index $IDX_A peer-index $IDX_B \
		local4 $VA4 remote4 $VB4 local6 $VA6 remote6 $VB6 \
		endpoint "$(ep_of_b "$1")" \
		key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA"
}
tunnel_b() {
	inb cyphctl tunnel add cyph0 index $IDX_B peer-index $IDX_A \
		local4 $VB4 remote4 $VA4 local6 $VB6 remote6 $VA6 \
		endpoint "$(ep_of_a "$1")" \
		key-id 0 tx-key "$KEY_BA" rx-key "${2:-$KEY_AB}"
}
tunnels_up() { tunnel_a "$1" && tunnel_b "$@"; }

# setup OUTER [cyphctl set args]: topology + devices + keys + tunnels.
setup() {
	local outer=$1
	shift
	topo_up || return 1
	cyph_up "$@" || { diag "setup: cyphonic devices"; return 1; }
	genkeys || { diag "setup: cyphctl genkey"; return 1; }
	tunnels_up "$outer" || { diag "setup: tunnels"; return 1; }
}

# ---- reading state -------------------------------------------------------
# `cyphctl show --json` is compact JSON; values are picked with bash regular
# expressions (jq costs a second per call under TCG). The device's "stats"
# come before its tunnels', and the first tunnel before the others.

show_json() { nsx "$1" cyphctl show cyph0 --json; }
# jpick JSON REGEX: print the first capture group of the leftmost match
jpick() {
	[[ $1 =~ $2 ]] || return 1
	echo "${BASH_REMATCH[1]}"
}
# dstat NS NAME: a device counter
dstat() { jpick "$(show_json "$1")" "\"stats\":\{[^}]*\"$2\":([0-9]+)"; }
# tstat NS NAME: a counter of the first tunnel
tstat() { jpick "$(show_json "$1")" "\"last_rx_ms\":[^,]*,\"stats\":\{[^}]*\"$2\":([0-9]+)"; }
# tfield NS endpoint|relay|peer_index...: a scalar of the first tunnel
tfield() { jpick "$(show_json "$1")" "\"tunnels\":\[\{[^]]*\"$2\":\"?([^\",]*)"; }
# primary_key NS id|tx|rx: the primary key's id or counters
primary_key() {
	local j re='"slot":"primary","key_id":([0-9]+),"age_ms":[0-9]+,"tx_counter":([0-9]+),"rx_counter":([0-9]+)'
	j=$(show_json "$1")
	[[ $j =~ $re ]] || return 1
	case $2 in
	id) echo "${BASH_REMATCH[1]}" ;;
	tx) echo "${BASH_REMATCH[2]}" ;;
	rx) echo "${BASH_REMATCH[3]}" ;;
	esac
}
primary_key_id() { primary_key "$1" id; }
# nkeys NS: number of key slots in use on the first tunnel
nkeys() { local j; j=$(show_json "$1"); j=${j//\"slot\":/@}; j=${j//[^@]/}; echo ${#j}; }
# drops NS: "name=value" for every non-zero device drop counter
drops() {
	local j re='"(rx_drop_[a-z_]+|tx_drop_[a-z_]+)":([1-9][0-9]*)' out=""
	j=$(show_json "$1")
	j=${j%%\"locals\"*}
	while [[ $j =~ $re ]]; do
		out+="${BASH_REMATCH[1]}=${BASH_REMATCH[2]} "
		j=${j#*"${BASH_REMATCH[0]}"}
	done
	echo "$out"
}
# fault_drops NS: drops(NS) without the congestion drops (queue_full,
# queue_share, and CoDel's queue_delay). A TCP sender may outrun the
# receiver's workers on a loaded host, and then dropping is the right
# answer: TCP backs off. Every other reason means a packet or the tunnel
# was wrong.
fault_drops() {
	local d out=""
	for d in $(drops "$1"); do
		[[ $d =~ _drop_queue_(full|share|delay)= ]] || out+="$d "
	done
	echo "$out"
}
# snmp NS FILE NAME: a counter of /proc/net/snmp ("Tcp:InCsumErrors") or
# /proc/net/snmp6 ("Udp6InCsumErrors").
snmp() {
	nsx "$1" cat "/proc/net/$2" | awk -v want="$3" '
		$1 ~ /:$/ { if (names[$1]) { for (i = 2; i <= NF; i++)
				if ($1 names[$1, i] == want) print $i }
			else { names[$1] = 1; for (i = 2; i <= NF; i++) names[$1, i] = $i }
			next }
		$1 == want { print $2 }'
}
# devstats NS [DEV]: "rx_bytes rx_packets tx_bytes tx_packets" of DEV
devstats() {
	local l dev=${2:-cyph0}
	while read -r l; do
		if [[ $l =~ ^$dev:\ *([0-9]+)\ +([0-9]+)\ +([0-9]+\ +){6}([0-9]+)\ +([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]}"
			return 0
		fi
	done < "/proc/${ANCHOR[$1]}/net/dev"
	return 1
}
# link_rx_packets NS: packets cyph0 handed to NS's stack (/proc/net/dev)
link_rx_packets() {
	local l
	while read -r l; do
		if [[ $l =~ ^cyph0:\ *[0-9]+\ +([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
	done < "/proc/${ANCHOR[$1]}/net/dev"
	return 1
}

# proc_socket NS FILE PORT [STATE]: a socket in NS's /proc/net/FILE (tcp,
# tcp6, udp, udp6) has local PORT (and STATE, hex, if given); no exec.
# The file is taken whole, then parsed: `read` on a file reads ahead and
# seeks back to each line's end, and a seq_file whose sockets changed
# meanwhile goes on from another place, mid-line. Such a short line,
# under set -u, stopped `make bench-adapter` right after its set-up.
proc_socket() {
	local hex t l
	printf -v hex '%04X' "$3"
	t=$(< "/proc/${ANCHOR[$1]}/net/$2") || return 1
	while read -r -a l; do
		[[ ${l[1]:-} == *":$hex" ]] || continue
		[ -z "${4:-}" ] || [ "${l[3]:-}" = "$4" ] && return 0
	done <<< "$t"
	return 1
}

# udp_bound NS PORT: some UDP socket of NS is bound to PORT (v4 or v6)
udp_bound() {
	proc_socket "$1" udp "$2" || proc_socket "$1" udp6 "$2"
}

# ddebug +p|-p: the module's dynamic debug messages (its "DEV created" /
# "DEV destroyed" lines) on or off; fails if dynamic debug is unavailable
ddebug() {
	local c
	for c in /proc/dynamic_debug/control /sys/kernel/debug/dynamic_debug/control; do
		[ -w "$c" ] && echo "module cyphonic $1" > "$c" 2> /dev/null && return 0
	done
	return 1
}

# iperf_last FILE KEY: the last number after "KEY": in iperf3's JSON (the
# end summary comes last), e.g. bytes of sum_received for TCP.
iperf_last() {
	local j re
	j=$(<"$1")
	re=".*\"$2\":[[:space:]]*([0-9.e+]+)"
	[[ $j =~ $re ]] || return 1
	echo "${BASH_REMATCH[1]%%.*}"
}

# ---- traffic -------------------------------------------------------------

# listening NS PORT: a TCP socket listens on PORT in NS (/proc, no exec)
listening() {
	proc_socket "$1" tcp "$2" 0A || proc_socket "$1" tcp6 "$2" 0A
}

# iperf_server NS [persistent]: iperf3 server in NS, for one test (then it
# exits) or, with "persistent", until killed; waits until it listens.
iperf_server() {
	local ns=$1 once=-1 i
	[ "${2:-}" = persistent ] && once=
	# shellcheck disable=SC2086  # $once: one optional word
	nsenter --net="/run/netns/$ns" -- iperf3 -s $once > /dev/null 2>&1 < /dev/null &
	IPERF_SERVER_PID=$!
	for i in $(seq 100); do
		listening "$ns" 5201 && return 0
		sleep 0.1
	done
	return 1
}

# wait_until TIMEOUT_S CMD...: poll CMD every 0.2 s
# ms_since T0: milliseconds since T0 (date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	while ! "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# ---- wan packet tools ----------------------------------------------------

# Drop what wan forwards to B (to capture fresh, never-seen DATA packets in
# wan), or stop dropping. A blackhole route costs one exec; nft costs more.
wan_block_b() { ip -n $NS_W route add blackhole $B4/32; }
wan_unblock_b() { ip -n $NS_W route del blackhole $B4/32 2> /dev/null; return 0; }

# wan_fwd 4|6: packets wan has forwarded so far per IP family (to prove
# which outer family a tunnel really uses); read from /proc, no exec.
wan_fwd() {
	local f k v
	if [ "$1" = 6 ]; then
		while read -r k v; do
			[ "$k" = Ip6OutForwDatagrams ] && { echo "$v"; return 0; }
		done < "/proc/${ANCHOR[$NS_W]}/net/snmp6"
	else
		# Two "Ip:" lines: names, then values.
		local names=() vals=() i l
		while read -r -a l; do
			[ "${l[0]:-}" = Ip: ] || continue
			if [ ${#names[@]} -eq 0 ]; then names=("${l[@]}"); else vals=("${l[@]}"); break; fi
		done < "/proc/${ANCHOR[$NS_W]}/net/snmp"
		for i in "${!names[@]}"; do
			[ "${names[$i]}" = ForwDatagrams ] && { echo "${vals[$i]}"; return 0; }
		done
	fi
	return 1
}

# mac_of NS IF: MAC address (for frames injected from wan).
mac_of() {
	local l
	l=$(ip -n "$1" -br link show "$2") || return 1
	set -- $l
	echo "$3"
}

# capture_data N FILE [fresh]: capture N DATA packets A sends to B while A
# pings B. With "fresh", wan drops them, so B has never seen them (their
# counters are new to B); otherwise B receives them normally.
capture_data() {
	local n=$1 file=$2 mode=${3:-} ready pid rc
	ready=$(mktemp -u)
	[ "$mode" = fresh ] && { wan_block_b || return 1; }
	inw $PKT capture --ifname a0 --dport $PORT_B --count "$n" --out "$file" \
		--timeout 20 --ready "$ready" &
	pid=$!
	wait_until 10 test -e "$ready" || return 1
	ina ping -c "$n" -i 0.3 -W 2 -q $VB4 > /dev/null
	wait $pid
	rc=$?
	rm -f "$ready"
	[ "$mode" = fresh ] && wan_unblock_b
	return $rc
}
