#!/bin/bash
# The adapter's scenario (issue 10 point 6): an adapter with five cameras
# behind a NAT router, a remote node behind another, the cloud on the
# internet; every part started from the configuration the README
# documents (node_conf + [adapter]).
#
#   cloud 192.0.2.100 (AS, NMS)
#    |
#   core: the internet's router
#    |- r1 100.64.1.2 -- gw 10.1.0.2 (adapter; LAN bridge lan0)
#    |                    |- cam1 dhclient     |- cam4 udhcpc
#    |                    |- cam2 udhcpc       |- cam5 dhclient -6 (IPv6 mode)
#    |                    |- cam3 dhclient     |- noisy (a 6th general node), rogue (unknown MAC)
#    `- r2 100.64.2.2 -- rem 10.2.0.2 (remote node)
#
# r1 maps endpoint-independently and filters like a home router (lib/nat.sh).
# r2 forwards UDP 7300 to rem (a "full cone" for the node's port, as a site
# operator sets up for a server): when the adapter's WAN address changes,
# its packets come from a new mapping, which a filtering NAT in front of
# rem would drop until both ends make a new tunnel (idle_timeout, 3 min by
# default); the daemon re-punches nothing on its own (docs/cyphonicd.md).
#
# Checks:
#   - each camera gets its VIP by DHCP (v4, stateful v6), resolves rem by
#     FQDN through the adapter and exchanges pings; rem reaches each camera
#     by its own FQDN. Diag: a device's plug-in (DHCP start) to its first
#     overlay reply, the admission target of issue 10 (<= 5 s), reported;
#   - an MJPEG-like constant-rate stream from every camera at once to rem
#     (lib/stream.py: STREAM_KBPS at 30 frames/s for STREAM_SECS):
#     datagrams and whole frames delivered, reported; each camera >=
#     STREAM_MIN_PCT. Meanwhile noisy floods its own loopback: the control
#     for the next step (the same CPU taken from the 2-vCPU guest);
#   - the same streams while noisy floods garbage to unknown overlay and
#     internet destinations and at the adapter, and rogue floods the
#     adapter: each camera keeps >= FLOOD_MIN_PCT % of its delivery
#     beside the control;
#   - the adapter's WAN address changes a third into the streams: every
#     camera's stream goes on (after the change at least half of what it
#     delivered before, where about twice is expected); the interruption
#     (the silence across the change) is reported;
#   - a device sending with another's VIP, or with another's MAC and a VIP
#     not bound to it, and an unknown MAC, are blocked and counted; an
#     unknown MAC gets no lease. (A device cloning both the MAC and the
#     VIP of another is that device to MAC admission: 802.1X is for that.)
#   - a general node deleted in the AS is cut off within its stated bound,
#     [adapter] sync_interval (10 s here) plus one AS round trip, without
#     a SIGHUP; the check allows 20 s more for TCG, the figure is reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
. "$(dirname "$0")/lib/nat.sh"
need ip nft cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyph_node curl ping dig \
	dnsmasq dhclient busybox
t_begin
D=$(mktemp -d /tmp/adapter-nat.XXXXXX)
chmod 755 "$D"	# dnsmasq, once it dropped to nobody, re-reads its hosts file here
NS_W=cloud
SITES="core r1 gw r2 rem"
CAMS="cam1 cam2 cam3 cam4 cam5"
DEVS="$CAMS noisy rogue"
# shellcheck disable=SC2034 # used by cloud.sh
W4A=$C4 W4B=$C4	# the name in the AS's certificate (cloud.sh)
STREAM_KBPS=${STREAM_KBPS:-600} STREAM_SECS=${STREAM_SECS:-12}
STREAM_MIN_PCT=${STREAM_MIN_PCT:-50} FLOOD_MIN_PCT=${FLOOD_MIN_PCT:-60} FLOOD_PPS=${FLOOD_PPS:-2000}
SYNC=10
STREAM=(/usr/bin/python3 -S "$SELFTEST_DIR/lib/stream.py")
declare -A MAC=([cam1]=02:00:5e:00:01:01 [cam2]=02:00:5e:00:01:02 [cam3]=02:00:5e:00:01:03
	[cam4]=02:00:5e:00:01:04 [cam5]=02:00:5e:00:01:05 [noisy]=02:00:5e:00:01:06
	[rogue]=02:00:5e:00:01:99)
declare -A MODE=([cam5]=ipv6)
declare -A CLIENT=([cam1]=dhclient [cam2]=udhcpc [cam3]=dhclient [cam4]=udhcpc [cam5]=dhclient6
	[noisy]=udhcpc)
G_PID='' R_PID=''
cleanup() {
	local ns
	for ns in $DEVS $SITES $NS_W; do
		[ -e "/run/netns/$ns" ] || continue
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ns") 2> /dev/null
	done
	wait 2> /dev/null
	for ns in $DEVS $SITES $NS_W; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	rm -rf "$D"
	# shellcheck disable=SC2086
	[ -n "${ARP_THRESH:-}" ] && set -- $ARP_THRESH &&
		sysctl -qw net.ipv4.neigh.default.gc_thresh2="$1" net.ipv4.neigh.default.gc_thresh3="$2"
}
trap cleanup EXIT

# One guest kernel holds every namespace's ARP entries in one table with
# one limit (gc_thresh3, 1024); on real hardware each device has its own.
# The rogue's flood of random on-link addresses fills that table with its
# unanswered ARPs within seconds, and the kernel's forced GC then evicts
# the cameras' own entries for the adapter and refuses new ones, so they
# stop sending: a shared-kernel artifact, not the adapter's doing (whose
# entries for the devices are permanent, lan.c). Room for every address
# the rogue can pick (a /16) stands in for separate machines.
ARP_THRESH=$(sysctl -n net.ipv4.neigh.default.gc_thresh2 net.ipv4.neigh.default.gc_thresh3 | tr '\n' ' ')
sysctl -qw net.ipv4.neigh.default.gc_thresh2=65536 net.ipv4.neigh.default.gc_thresh3=65536
vip() { ip -n "$1" -"$2" -br addr show "${3:-cyph0}" 2> /dev/null | awk '{ sub("/.*", "", $3); print $3 }'; }
log_has() { grep -q -- "$2" "$D/$1.log"; }
gn_metric() { metric gw 9104 "cyphonicd_general_nodes{state=\"$1\"}"; }
gn_count() { [ "$(gn_metric "$1")" = "$2" ]; }
nft_count() {
	local v
	v=$(nsx gw nft list counter inet cyphonic_adapter "$1" 2> /dev/null | awk '/packets/ { print $2 }')
	echo "${v:-0}"
}

# ---- topology: the cloud, two NAT routers, the adapter's LAN ----
nat_up() {
	local d
	NAT_NS=$SITES nat_core || return 1
	for d in gw rem; do anchor "$d"; done
	nat_router 1 gw "" && nat_router 2 rem "" 7300 || return 1
	ip -n gw link add lan0 type bridge && ip -n gw link set lan0 up || return 1
	for d in $DEVS; do
		ip netns add "$d" &&
			ip link add "p-$d" netns gw type veth peer name eth0 netns "$d" &&
			ip -n gw link set "p-$d" master lan0 up &&
			nsx "$d" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
			ip -n "$d" link set eth0 address "${MAC[$d]}" &&
			ip -n "$d" link set lo up && ip -n "$d" link set eth0 up || return 1
	done
	nat_reach gw rem
}
out=$(modprobe -a nfnetlink nf_tables nft_chain_nat nft_masq nft_ct bridge 2>&1) ||
	t_abort "nftables modules: $out"
nat_up || t_abort "topology: gw and rem behind NAT routers, 7 devices on gw's LAN"
t_ok "topology: gw and rem behind NAT routers, 7 devices on gw's LAN"

# ---- the cloud and the registry (README: "Put devices behind an adapter") ----
t_check "cloud: CA, nms and rem enrolled" cloud_enrol rem
echo gw-secret > "$D/gw.pw" && chmod 600 "$D/gw.pw"
adm() { cyphonic-admin -c "$D/as.conf" "$@" > /dev/null; }
gn_add() {
	local d
	for d in $CAMS noisy; do
		adm general-node add gw "$d" --mac "${MAC[$d]}" --method mac \
			--ip-mode "${MODE[$d]:-ipv4}" || return 1
	done
}
t_check "AS: adapter gw, general nodes cam1-cam4 (ipv4), cam5 (ipv6), noisy (ipv4)" bash -c \
	"$(declare -f adm gn_add); D=$D CAMS='$CAMS'; $(declare -p MAC MODE);
	 adm adapter add gw --password-file $D/gw.pw ${CLOUD_KDF[*]} && gn_add"
t_check "AS: policy rules nodes <-> general" bash -c \
	"$(declare -f adm); D=$D; adm rule add nodes general && adm rule add general nodes"
t_check "cloud: AS up" cloud_as
t_check "cloud: NMS up" cloud_nms
node_conf "$D/gw.conf" gw $C4 "[adapter]
enabled = true
lan_interface = lan0
sync_interval = ${SYNC}s
run_dir = $D/gw-run"
node_conf "$D/rem.conf" rem $C4
t_check "gw.conf passes --check" cyphonicd -c "$D/gw.conf" --check
node_start gw gw
G_PID=$NODE_PID
node_start rem rem
R_PID=$NODE_PID
t_check "gw and rem registered at the NMS (behind their NATs)" wait_until 90 bash -c \
	"grep -q 'registered at the NMS as node' $D/gw.log && grep -q 'registered at the NMS as node' $D/rem.log"
t_check "gw: all 6 general nodes up" wait_until 90 gn_count up 6
[ "$(gn_metric up)" = 6 ] || sed 's/^/#   /' "$D/gw.log" | tail -n 30
diag "observed: $(grep -ho 'observed [^,]*' "$D"/{gw,rem}.log | tr '\n' ' ')"
VR=$(vip rem 4) VR6=$(vip rem 6) GW4=$(vip gw 4) GW6=$(vip gw 6)

# ---- each device plugged in: DHCP, rem by name, the first overlay reply ----
dhcp() {
	case ${CLIENT[$1]} in
	dhclient) nsx "$1" dhclient -4 -1 -lf "$D/$1.leases" -pf "$D/$1.pid" eth0 ;;
	dhclient6) nsx "$1" timeout 60 dhclient -6 -1 -lf "$D/$1.leases" -pf "$D/$1.pid" eth0 ;;
	udhcpc) nsx "$1" busybox udhcpc -i eth0 -n -q -t 10 -T 1 -s "$(dirname "$0")/lib/udhcpc.script" ;;
	esac
}
declare -A V=() FAM=()
for d in $CAMS noisy; do
	f=4 rtype=A ns_ip=$GW4 dst=$VR
	[ "${MODE[$d]:-}" = ipv6 ] && f=6 rtype=AAAA ns_ip=$GW6 dst=$VR6
	FAM[$d]=$f
	# as the device does it: DHCP, the name, the first packet, one after
	# the other (the test's own checks come after, outside the figure)
	t0=$(date +%s%N)
	dhcp "$d" > "$D/$d.dhcp" 2>&1
	t_dhcp=$(ms_since "$t0") t1=$(date +%s%N) got='' ok='' i=0
	if [ "$d" != noisy ]; then
		got=$(nsx "$d" dig +short +time=10 +tries=1 @"$ns_ip" rem.cyph.test $rtype)
		t_dns=$(ms_since "$t1") t1=$(date +%s%N)
		for i in $(seq 15); do
			nsx "$d" ping -"$f" -c 1 -W 5 -q "$got" > /dev/null 2>&1 && { ok=1; break; }
		done
		# the phases: the device's DHCP exchange, its DNS lookup, and the
		# first ping's round trip, which includes the tunnel's set-up
		# (route direction, punch, handshake) while the kernel holds the packet
		diag "$d: plugged in to its first overlay reply: $(ms_since "$t0") ms (DHCP $t_dhcp ms, DNS $t_dns ms, first reply $(ms_since "$t1") ms, ping $i)"
	fi
	V[$d]=$(vip "$d" $f eth0)
	want=$(nsx gw dig +short +time=10 +tries=1 -p 5354 @127.0.0.1 "$d.cyph.test" $rtype)
	t_expect "$d (${CLIENT[$d]}): its VIP by DHCP (${V[$d]})" "${V[$d]:-none}" = "$want"
	[ "$d" = noisy ] && continue
	t_expect "$d resolves rem.cyph.test through the adapter" "$got" = "$dst"
	t_check "$d reaches rem (the reply came)" test -n "$ok"
done
# the first reply's share that is the tunnel: route direction, punch, handshake
diag "gw: tunnels set up: $(grep -o 'to rem.cyph.test up: .*handshake [0-9]* ms, setup [0-9]* ms' "$D/gw.log" |
	sed 's/.*handshake/handshake/' | tr '\n' ';')"
t_check "rem: each camera's tunnel is the camera's own (its FQDN)" bash -c \
	"for d in $CAMS; do grep -q \"to \$d.cyph.test up\" $D/rem.log || exit 1; done"
for d in $CAMS; do
	rtype=A
	[ "${FAM[$d]}" = 6 ] && rtype=AAAA
	got=$(nsx rem dig +short +time=10 +tries=2 -p 5354 @127.0.0.1 "$d.cyph.test" $rtype)
	t_expect "rem resolves $d.cyph.test" "$got" = "${V[$d]}"
	t_check "rem pings $d by its own name" nsx rem ping -"${FAM[$d]}" -c 3 -i 0.5 -W 20 -q "${V[$d]}"
done
diag "paths: $(grep -ho 'to cam[0-9].cyph.test up: [a-z]*' "$D/rem.log" | sort -u | tr '\n' ' ')"

# ---- streams ----
# streams NAME SECS [ACTION]: every camera streams to rem at once for SECS;
# ACTION runs in the background once every sender started (it may write an
# event's time, /proc/uptime, to $D/mark.NAME). Fills SENT[cam], GOT[cam]
# (the receiver's line) and prints a diag line per camera.
declare -A SENT=() GOT=()
streams() {
	local name=$1 secs=$2 action=${3:-} d rpid apid='' spids=()
	nsenter --net=/run/netns/rem -- "${STREAM[@]}" recv 5000 $((secs + 180)) "$D/mark.$name" \
		> "$D/recv.$name" 2>&1 &
	rpid=$!
	wait_until 20 grep -q listening "$D/recv.$name"
	for d in $CAMS; do
		dst=$VR
		[ "${FAM[$d]}" = 6 ] && dst=$VR6
		nsenter --net=/run/netns/"$d" -- "${STREAM[@]}" send "$dst" 5000 "$STREAM_KBPS" 30 "$secs" \
			> "$D/send.$name.$d" 2>&1 &
		spids+=($!)
	done
	if [ -n "$action" ]; then
		wait_until 60 bash -c "for d in $CAMS; do grep -q started $D/send.$name.\$d || exit 1; done"
		$action "$D/mark.$name" > "$D/action.$name" 2>&1 &
		apid=$!
	fi
	# only these: the daemons are this shell's children too
	wait $rpid "${spids[@]}" $apid
	for d in $CAMS; do
		SENT[$d]=$(grep -o 'datagrams=[0-9]*' "$D/send.$name.$d" | cut -d= -f2)
		GOT[$d]=$(grep "^src=${V[$d]} " "$D/recv.$name")
		diag "$name: $d sent ${SENT[$d]:-?}, received ${GOT[$d]:-nothing}"
	done
}
field() { sed -n "s/.* $2=\([-0-9]*\).*/\1/p" <<< "$1"; }
pct() { local n; n=$(field "${GOT[$1]}" datagrams); echo $((100 * ${n:-0} / (${SENT[$1]:-0} + 1 - (${SENT[$1]:-0} > 0)))); }

# noisy_flood MODE: the sixth general node floods for the streams' time:
# "nowhere" into its own loopback (the control: the same CPU taken from a
# guest of 2 vCPUs), or "lan" garbage to unknown overlay and internet
# destinations and at the adapter, with rogue (an unknown MAC with a
# made-up overlay address) flooding the adapter too.
noisy_flood() {
	if [ "$1" = nowhere ]; then
		nsenter --net=/run/netns/noisy -- "${STREAM[@]}" flood "$FLOOD_PPS" "$STREAM_SECS" \
			127.0.0.0/8 > "$D/flood.noisy" 2>&1
		return
	fi
	# Unknown VIPs (10.77.128.0/17: none assigned) through the adapter, not
	# resolved on the LAN one by one: a device may route as it likes.
	ip -n noisy route replace 10.77.128.0/17 via "$GW4" dev eth0 onlink
	nsenter --net=/run/netns/noisy -- "${STREAM[@]}" flood "$FLOOD_PPS" "$STREAM_SECS" \
		10.77.128.0/17 100.64.0.0/10 "$GW4" > "$D/flood.noisy" 2>&1 &
	ip -n rogue addr add 10.77.250.250/16 dev eth0 && ip -n rogue route add default via "$GW4"
	nsenter --net=/run/netns/rogue -- "${STREAM[@]}" flood "$((FLOOD_PPS / 4))" "$STREAM_SECS" \
		10.77.0.0/16 "$GW4" > "$D/flood.rogue" 2>&1
	wait $!
}
control() { noisy_flood nowhere; }
lan_flood() { noisy_flood lan; }

streams baseline "$STREAM_SECS" control
declare -A BASE=()
for d in $CAMS; do
	BASE[$d]=$(pct "$d")
	t_expect "$d: its stream delivered (${BASE[$d]}% of datagrams, $(field "${GOT[$d]}" frames) whole frames of $((STREAM_SECS * 30)))" \
		"${BASE[$d]}" -ge "$STREAM_MIN_PCT"
done
diag "control flood (into noisy's own loopback): $(cat "$D/flood.noisy")"

# ---- a flooding device does not disturb the others ----
before_mac=$(nft_count unknown_mac)
streams flood "$STREAM_SECS" lan_flood
diag "flood: noisy $(cat "$D/flood.noisy"), rogue $(cat "$D/flood.rogue")"
for d in $CAMS; do
	p=$(pct "$d")
	t_expect "$d: its stream during the flood ($p% of datagrams; ${BASE[$d]}% beside the control flood)" \
		"$((100 * p))" -ge "$((FLOOD_MIN_PCT * BASE[$d]))"
done
t_expect "the rogue's flood was dropped and counted (unknown_mac $before_mac -> $(nft_count unknown_mac))" \
	"$(nft_count unknown_mac)" -gt "$before_mac"
diag "gw kernel drops after the flood: $(nsx gw cyphctl show cyph0 --json 2> /dev/null |
	grep -o '"[rt]x_drop_[a-z_]*":[1-9][0-9]*' | tr '\n' ' ')"
t_check "gw still runs" kill -0 "$G_PID"
t_expect "all 6 general nodes still up" "$(gn_metric up)" = 6
ip -n rogue addr flush dev eth0

# ---- the adapter's WAN address changes mid-stream ----
# wan_move MARK: a third into the streams, gw's WAN address changes (the
# old one goes, a new one comes, the default route again); MARK gets the
# time.
wan_move() {
	sleep $((STREAM_SECS / 3))
	cut -d' ' -f1 /proc/uptime > "$1"
	ip -n gw -batch - <<-EOF
	addr del 10.1.0.2/24 dev eth0
	addr add 10.1.0.3/24 dev eth0
	route add default via 10.1.0.1
	EOF
}
streams wanmove $((STREAM_SECS * 3 / 2)) wan_move
for d in $CAMS; do
	b=$(field "${GOT[$d]}" before) a=$(field "${GOT[$d]}" after) cut=$(field "${GOT[$d]}" cut_ms)
	# two thirds of the stream come after the move: a stream that goes on
	# delivers about twice as much after it as before
	t_expect "$d: its stream survived the WAN address change ($b datagrams before, $a after; interruption ${cut:-?} ms)" \
		"${a:-0}" -ge $(((${b:-0} + 1) / 2))
done
t_check "gw re-registered from its new address" wait_until 60 log_has gw 're-registered .* after the address change'
diag "gw: $(grep -h 're-registered' "$D/gw.log" | tail -n 1 | sed 's/^.*re-registered/re-registered/')"
t_check "every camera still pings rem" bash -c \
	"for d in $CAMS; do nsenter --net=/run/netns/\$d -- ping -c 3 -i 0.3 -W 10 -q \$( [ \$d = cam5 ] && echo $VR6 || echo $VR) > /dev/null || exit 1; done"

# ---- no device can be another; unknown MACs get nothing ----
# blocked NS COUNTER WHAT: 3 pings from NS to rem get no answer, and the
# adapter's nftables COUNTER grows by at least 3
blocked() {
	local before
	before=$(nft_count "$2")
	nsx "$1" ping -c 3 -i 0.2 -W 1 -q "$VR" > /dev/null 2>&1
	t_check "$3 gets no answer" test $? -ne 0
	t_expect "and is dropped and counted ($2 $before -> $(nft_count "$2"))" \
		"$(nft_count "$2")" -ge $((before + 3))
}
ip -n cam2 addr add "${V[cam1]}/32" dev eth0
ip -n cam2 route replace "$VR" via "$GW4" src "${V[cam1]}"
blocked cam2 spoofed_source "cam2 sending with cam1's VIP"
ip -n cam2 route del "$VR"
ip -n cam2 addr del "${V[cam1]}/32" dev eth0
# rogue clones cam3's MAC, then sends with cam1's VIP (not cam3's)
ip -n rogue link set eth0 address "${MAC[cam3]}"
ip -n rogue addr add "${V[cam1]}/24" dev eth0
ip -n rogue route replace default via "$GW4"
blocked rogue spoofed_source "a device with cam3's MAC and cam1's VIP"
ip -n rogue addr flush dev eth0
ip -n rogue link set eth0 address "${MAC[rogue]}"
out=$(nsx rogue busybox udhcpc -i eth0 -n -q -t 3 -T 1 -s /bin/true 2>&1)
t_check "an unknown MAC gets no lease" test $? -ne 0
ip -n rogue addr add 10.77.250.250/16 dev eth0
ip -n rogue route replace default via "$GW4"
blocked rogue unknown_mac "an unknown MAC with an overlay address"
t_check "cam3 itself still reaches rem" nsx cam3 ping -c 3 -i 0.3 -W 5 -q "$VR"
t_check "/metrics shows both reasons" bash -c \
	"$(declare -f metric nsx); for r in spoofed_source unknown_mac; do v=\$(metric gw 9104 \"cyphonicd_lan_dropped_packets{reason=\\\"\$r\\\"}\"); [ \"\${v:-0}\" -gt 0 ] || exit 1; done"

# ---- a general node deleted in the AS is cut off within the bound ----
cut_off() { ! nsx cam4 ping -c 1 -W 1 -q "$VR" > /dev/null 2>&1; }
t_check "cam4 reaches rem before" nsx cam4 ping -c 2 -i 0.3 -W 5 -q "$VR"
t_check "AS: cam4 deleted (no SIGHUP)" adm general-node del cam4
t0=$(date +%s%N)
wait_until $((SYNC + 20)) log_has gw 'cam4.cyph.test (cam4): removed from the AS, cut off'
wait_until 10 cut_off
took=$(ms_since "$t0")
t_expect "cam4 cut off within sync_interval ${SYNC} s + 20 s (took $took ms)" "$took" -le $(((SYNC + 20) * 1000))
t_check "cam4 reaches rem no more" cut_off
t_check "the other cameras are unaffected" bash -c \
	"for d in cam1 cam2 cam3; do nsenter --net=/run/netns/\$d -- ping -c 2 -i 0.3 -W 5 -q $VR > /dev/null || exit 1; done"

# ---- teardown ----
for p in $G_PID $R_PID; do
	node_stop "$p"
	t_expect "daemon $p stops cleanly" "$NODE_RC" = 0
done
G_PID='' R_PID=''
if [ "$_t_fail" -gt 0 ]; then
	for n in gw rem; do
		diag "$n log:"
		grep -v 'debug: NMS datagram\|keepalive' "$D/$n.log" | sed 's/^/#   /' | tail -n 60
	done
fi
t_end
