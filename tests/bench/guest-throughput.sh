#!/bin/bash
# SPDX-License-Identifier: MIT
# Guest side of the data-plane benchmark (make bench); runs as root inside
# the QEMU guest started by tests/bench/throughput.sh.
#
# Two sites joined through a router namespace (tests/selftests/lib.sh), and
# between them, all at once: the plain underlay (veth, the ceiling), an
# in-kernel WireGuard tunnel, and four cyphonic devices (aes-gcm and
# chacha20-poly1305, each with workers 1 and workers 0 = all CPUs). Every
# tunnel has MTU 1420. Measurements are interleaved (round, then test, then
# configuration, with the configuration order rotated every round) so that
# machine noise hits every configuration alike.
#
# Output: one record per measurement on stdout, "@@BENCH key=value ...",
# and the kernel's tcrypt speed lines as "@@TCRYPT <line>"; progress on
# stderr. The host (tests/bench/report.py) turns them into the table.
#
# Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5, per iperf3 run, plus 1 s
# omitted TCP warm-up), BENCH_PINGS (100), BENCH_UDP_RATE (2G),
# BENCH_TCRYPT (1; 0 skips the cipher ceilings), BENCH_TCRYPT_SEC (1).
# shellcheck source=/dev/null  # lib.sh: topology, nsx, genkeys, listening
. "$(dirname "$0")/../selftests/lib.sh"
# shellcheck source=wg.sh
. "$(dirname "$0")/wg.sh"

ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-5}
PINGS=${BENCH_PINGS:-100}
UDP_RATE=${BENCH_UDP_RATE:-2G}
TCRYPT=${BENCH_TCRYPT:-1}
TCRYPT_SEC=${BENCH_TCRYPT_SEC:-1}
MTU=1420
# UDP payload filling one 1420-byte inner packet (IPv4 20 + UDP 8).
UDP_LEN=$((MTU - 28))
W=/tmp/bench
mkdir -p $W

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }
rec() { echo "@@BENCH $*"; }

# Configurations: id -> destination address in site-b.
CONFIGS=(veth wg cy-aes-1 cy-chacha-1 cy-aes-all cy-chacha-all)
declare -A DST=([veth]=$B4 [wg]=$WG4B)
declare -A CY_CIPHER=([aes]=aes-gcm [chacha]=chacha20-poly1305)

# ---- setup ---------------------------------------------------------------

# Load the fastest implementations first, so that tcrypt, WireGuard and
# cyphonic all get the same SIMD code.
load_crypto() {
	modprobe -a aesni_intel ghash_clmulni_intel chacha_x86_64 \
		poly1305_x86_64 chacha20poly1305 gcm wireguard 2> /dev/null
	modprobe -a cyphonic || die "cannot load cyphonic.ko"
}

# tcrypt runs its speed tests at load time, prints them and then refuses
# to stay loaded (EAGAIN): the failure is expected. Mode 211 is gcm(aes)
# (and rfc4106), 213 rfc7539esp(chacha20,poly1305); sizes include 1420.
tcrypt() {
	local mode l
	for mode in 211 213; do
		say "tcrypt mode $mode (sec=$TCRYPT_SEC)"
		dmesg -C
		modprobe tcrypt mode=$mode sec="$TCRYPT_SEC" 2> /dev/null
		dmesg | while IFS= read -r l; do
			case $l in
			*"testing speed of"* | *"byte blocks"*) echo "@@TCRYPT mode=$mode $l" ;;
			esac
		done
	done
}

# cy_side NS DEV PORT VIP PEER_VIP INDEX PEER_INDEX ENDPOINT CIPHER WORKERS TX RX
cy_side() {
	local ns=$1 dev=$2
	ip -n "$ns" link add "$dev" type cyphonic || return 1
	nsx "$ns" cyphctl set "$dev" listen-port "$3" cipher "$9" workers "${10}" &&
		nsx "$ns" cyphctl local add "$dev" vip4 "$4" &&
		nsx "$ns" cyphctl tunnel add "$dev" index "$6" peer-index "$7" \
			local4 "$4" remote4 "$5" endpoint "$8" \
			key-id 0 tx-key "${11}" rx-key "${12}" || return 1
	ip -n "$ns" -batch - <<-EOF
	link set $dev mtu $MTU
	addr add $4/24 dev $dev
	link set $dev up
	EOF
}

# One cyphonic device pair per (cipher, workers): subnet 10.101.N.0/24,
# ports 4100N (A) and 4200N (B), tunnel indices 10+N (A) and 20+N (B).
cy_up() {
	local n=0 c w dev id
	genkeys || return 1
	for c in aes chacha; do
		for w in 1 all; do
			n=$((n + 1))
			id=cy-$c-$w dev=cy$c$w
			DST[$id]=10.101.$n.2
			cy_side "$NS_A" "$dev" $((41000 + n)) 10.101.$n.1 10.101.$n.2 \
				$((10 + n)) $((20 + n)) "$B4:$((42000 + n))" \
				"${CY_CIPHER[$c]}" "${w/all/0}" "$KEY_AB" "$KEY_BA" &&
				cy_side "$NS_B" "$dev" $((42000 + n)) 10.101.$n.2 10.101.$n.1 \
					$((20 + n)) $((10 + n)) "$A4:$((41000 + n))" \
					"${CY_CIPHER[$c]}" "${w/all/0}" "$KEY_BA" "$KEY_AB" ||
				return 1
		done
	done
}

cy_down() {
	local ns dev
	for ns in "$NS_A" "$NS_B"; do
		for dev in cyaes1 cyaesall cychacha1 cychachaall; do
			ip -n "$ns" link del "$dev" 2> /dev/null
		done
	done
	return 0
}

cleanup() {
	cy_down
	topo_down
}

# ---- measurements --------------------------------------------------------

# One long-lived iperf3 server in site-b serves every configuration (one
# test at a time); restarted when a client run failed, since a server can
# be left waiting for a peer that gave up.
iperf_srv_up() {
	local rc
	[ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2> /dev/null && wait "$SRV_PID" 2> /dev/null
	iperf_server "$NS_B" persistent
	rc=$?
	SRV_PID=$IPERF_SERVER_PID
	return $rc
}

# jnum FILE KEY: KEY's number in the receiver's end summary of an iperf3
# JSON report (the last "sum_received" object; no jq: each exec is slow).
jnum() {
	local j re="\"$2\":[[:space:]]*([-0-9.eE+]+)"
	j=$(<"$1")
	[[ $j == *'"sum_received"'* ]] || return 1
	j=${j##*\"sum_received\"}
	[[ $j =~ $re ]] || return 1
	echo "${BASH_REMATCH[1]}"
}
# sender's retransmits (TCP)
jretr() {
	local j re='"retransmits":[[:space:]]*([0-9]+)'
	j=$(<"$1")
	j=${j##*\"sum_sent\"}
	[[ $j =~ $re ]] && echo "${BASH_REMATCH[1]}"
}

# iperf ROUND TEST CFG ARGS...: one iperf3 run from site-a, one record.
iperf() {
	local r=$1 t=$2 c=$3 f=$W/iperf.json bps loss retr
	shift 3
	if ! timeout -k 5 $((SECS + 60)) nsenter --net=/run/netns/"$NS_A" -- \
		iperf3 -c "${DST[$c]}" -t "$SECS" -J "$@" > $f 2> /dev/null ||
		! bps=$(jnum $f bits_per_second); then
		say "round $r $t $c: iperf3 failed: $(grep -m1 '"error"' $f)"
		rec "round=$r test=$t cfg=$c error=1"
		iperf_srv_up || die "iperf3 server does not restart"
		return 0
	fi
	if [ "$t" = udp ]; then
		loss=$(jnum $f lost_percent)
		rec "round=$r test=$t cfg=$c bps=$bps loss_pct=${loss:-nan}"
	else
		retr=$(jretr $f)
		rec "round=$r test=$t cfg=$c bps=$bps retransmits=${retr:-nan}"
	fi
}

# icmp ROUND CFG: PINGS echo requests 10 ms apart. Records ping's average
# and every round trip (the host takes the median too: on a busy host one
# descheduled vCPU turns a few pings into outliers that dominate a mean).
icmp() {
	local r=$1 c=$2 out l times="" re='= ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms'
	local lre='([0-9.]+)% packet loss' tre='time=([0-9.]+) ms'
	out=$(nsenter --net=/run/netns/"$NS_A" -- ping -n -c "$PINGS" -i 0.01 -W 1 "${DST[$c]}" 2>&1)
	if [[ $out =~ $re ]]; then
		local avg=${BASH_REMATCH[2]} mdev=${BASH_REMATCH[4]}
		[[ $out =~ $lre ]]
		local loss=${BASH_REMATCH[1]}
		while IFS= read -r l; do
			[[ $l =~ $tre ]] && times+=${times:+,}${BASH_REMATCH[1]}
		done <<< "$out"
		rec "round=$r test=icmp cfg=$c rtt_ms=$avg mdev_ms=$mdev loss_pct=$loss times_ms=$times"
	else
		say "round $r icmp $c: ping failed"
		rec "round=$r test=icmp cfg=$c error=1"
	fi
}

measure() {
	local r=$1 t=$2 c=$3
	case $t in
	icmp) icmp "$r" "$c" ;;
	tcp1) iperf "$r" tcp1 "$c" -O 1 ;;
	tcp4) iperf "$r" tcp4 "$c" -O 1 -P 4 ;;
	udp) iperf "$r" udp "$c" -u -b "$UDP_RATE" -l $UDP_LEN ;;
	esac
}

# Non-zero drop counters of each cyphonic device (a drop-heavy result
# deserves a look), as one record per device and side.
cy_drops() {
	local ns dev j out re='"((rx|tx)_drop_[a-z_]+)":([1-9][0-9]*)'
	for ns in "$NS_A" "$NS_B"; do
		for dev in cyaes1 cyaesall cychacha1 cychachaall; do
			j=$(nsx "$ns" cyphctl show "$dev" --json 2> /dev/null) || continue
			j=${j%%\"locals\"*}
			out=
			while [[ $j =~ $re ]]; do
				out+=" ${BASH_REMATCH[1]}=${BASH_REMATCH[3]}"
				j=${j#*"${BASH_REMATCH[0]}"}
			done
			rec "drops ns=$ns dev=$dev${out}"
		done
	done
}

# Which implementation the kernel crypto API picked for each AEAD.
crypto_drivers() {
	local name="" driver="" l
	while IFS= read -r l; do
		case $l in
		"name "*) name=${l##*: } ;;
		"driver "*) driver=${l##*: } ;;
		"refcnt "*)
			case $name in
			"gcm(aes)" | "rfc7539(chacha20,poly1305)")
				[ "${l##*: }" -gt 1 ] && rec "crypto name=$name driver=$driver refcnt=${l##*: }" ;;
			esac
			;;
		esac
	done < /proc/crypto
}

# ---- main ----------------------------------------------------------------

main() {
	local r t i n c start
	start=$(date +%s)
	rec "meta kernel=$(uname -r) cpus=$(nproc) rounds=$ROUNDS seconds=$SECS pings=$PINGS udp_rate=$UDP_RATE udp_len=$UDP_LEN mtu=$MTU"
	load_crypto
	[ "$TCRYPT" = 1 ] && tcrypt
	trap cleanup EXIT
	say "setting up the topology, WireGuard and 4 cyphonic tunnels"
	topo_up || die "topology setup failed"
	wg_up || die "WireGuard setup failed"
	cy_up || die "cyphonic setup failed"
	# First packets: neighbour entries, WireGuard's handshake.
	for c in "${CONFIGS[@]}"; do
		nsx "$NS_A" ping -q -c 2 -W 5 "${DST[$c]}" > /dev/null ||
			die "no ping through $c (${DST[$c]})"
	done
	crypto_drivers
	iperf_srv_up || die "iperf3 server does not start"
	n=${#CONFIGS[@]}
	for ((r = 1; r <= ROUNDS; r++)); do
		for t in icmp tcp1 tcp4 udp; do
			say "round $r/$ROUNDS: $t"
			for ((i = 0; i < n; i++)); do
				measure "$r" "$t" "${CONFIGS[(i + r - 1) % n]}"
			done
		done
	done
	cy_drops
	rec "meta elapsed_s=$(($(date +%s) - start))"
}

main
