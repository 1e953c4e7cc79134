#!/bin/bash
# Tunnels on demand, direct path (issue 9 point 2): alice (site-a) and bob
# (site-b) each run cyphonicd against the cloud in wan; both underlay
# addresses are public, so the NMS directs DIRECT. alice pings bob's VIP
# never having contacted him: the kernel stages the packet and reports
# "tunnel needed", alice's daemon asks the NMS, runs the DTLS handshake
# with bob's daemon over the nodes' own sockets, both install the tunnel
# with the exported keys, and the staged packet goes out: the first ping
# is answered. A ping stream then crosses several rekeys (new handshake,
# next key slot, swap / promotion) without losing a packet; idle tunnels
# are removed on both sides and made again by the next packet. Reports the first ping's round trip (route direction +
# handshake + delivery) in the guest. Then names: each daemon's DNS
# responder answers its own name and looks peers up at the NMS, an
# unknown name is NXDOMAIN, and after a restart resolving bob's name alone
# sets up the tunnel before the first packet.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
need ip cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyph_node curl ping dig
t_begin
D=$(mktemp -d /tmp/cyphonicd-tunnel.XXXXXX)
A_PID= B_PID=
cleanup() {
	local p
	for p in $A_PID $B_PID; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	topo_down
	rm -rf "$D"
}
trap cleanup EXIT
# vip NS 4|6: the VIP cyphonicd put on NS's cyph0
vip() { ip -n "$1" -"$2" -br addr show cyph0 2> /dev/null | awk '{ sub("/.*", "", $3); print $3 }'; }
# tunnel_ep NS: the endpoint of NS's first tunnel (cyphctl show)
tunnel_ep() { tfield "$1" endpoint; }
log_has() { grep -q -- "$2" "$D/$1.log"; }
# m_are NS NAME VALUE...: each metric of NS's cyphonicd has its value
m_are() {
	local ns=$1
	shift
	while [ $# -ge 2 ]; do
		[ "$(metric "$ns" 9104 "$1")" = "$2" ] || return 1
		shift 2
	done
}
dstat_is() { [ "$(dstat "$1" "$2")" = "$3" ]; }
dstat_ge() { [ "$(dstat "$1" "$2")" -ge "$3" ]; }
# dns NS NAME [TYPE]: the answer of NS's cyphonicd DNS responder
dns() { nsx "$1" dig +short +time=10 +tries=1 -p 5354 @127.0.0.1 "$2" "${3:-A}"; }
registered() {
	wait_until 60 log_has "$1" 'registered at the NMS as node' && return 0
	sed 's/^/#   /' "$D/$1.log" | tail -n 20
	return 1
}

topo_up || t_abort "topology"
t_check "cloud: CA, nms, alice and bob enrolled" cloud_enrol alice bob
t_check "cloud: AS up" cloud_as
t_check "cloud: NMS up" cloud_nms
# Rekey every 5 s, so a 15 s ping stream crosses rekeys; idle tunnels go
# after 12 s.
fast=$(printf '[node]\nrekey_after = 5s\nidle_timeout = 12s')
NODE_LOG_LEVEL=debug
nodes_up "$fast"
for n in alice bob; do
	registered $n || t_abort "$n registered at the NMS"
	t_ok "$n registered at the NMS"
done
VB=$(vip $NS_B 4) VB6=$(vip $NS_B 6) VA=$(vip $NS_A 4)
t_check "bob's VIPs from the AS: $VB, $VB6" test -n "$VB" -a -n "$VB6"
t_check "no tunnel before the first packet" test -z "$(tunnel_ep $NS_A)"

# The first packet to a never-contacted peer: staged, then delivered.
out=$(nsx $NS_A ping -c 1 -W 20 "$VB" 2>&1)
if grep -q ' 0% packet loss' <<< "$out"; then
	t_ok "the first ping to bob's VIP is answered (staged, not lost)"
	diag "first packet to its reply, route direction + DTLS handshake included:" \
		"$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' <<< "$out") ms (TCG guest)"
else
	t_fail "the first ping to bob's VIP is answered (staged, not lost)" "$out"
fi
t_check "alice: tunnel up, direct to bob's socket" log_has alice "up: direct via $B4:7300, initiator"
t_check "bob: tunnel up, direct to alice's socket" log_has bob "up: direct via $A4:7300, responder"
t_expect "alice's kernel tunnel endpoint is bob's" "$(tunnel_ep $NS_A)" = "$B4:7300"
t_check "bob's kernel tunnel endpoint is alice's" test "$(tunnel_ep $NS_B)" = "$A4:7300"
t_check "more pings over the tunnel: 5/5" nsx $NS_A ping -c 5 -i 0.2 -W 5 -q "$VB"
t_check "IPv6 VIPs use the same tunnel: ping6 bob" nsx $NS_A ping -6 -c 2 -i 0.2 -W 5 -q "$VB6"
t_check "bob reaches alice back" nsx $NS_B ping -c 2 -i 0.2 -W 5 -q "$VA"
diag "$(grep -h 'up: direct' "$D/alice.log" "$D/bob.log" | sed 's/^[^:]*: [a-z]*: //')"
t_check "NMS directed one DIRECT route" wait_until 10 metric_ge $NS_W 9102 \
	'cyphonic_nms_routes_total{mode="direct"}' 1
t_check "alice /metrics: handshake ok 1, direct tunnels 1" \
	m_are $NS_A 'cyphonicd_handshakes_total{result="ok"}' 1 'cyphonicd_tunnels{path="direct"}' 1
t_check "bob /metrics: handshake ok 1, direct tunnels 1" \
	m_are $NS_B 'cyphonicd_handshakes_total{result="ok"}' 1 'cyphonicd_tunnels{path="direct"}' 1
t_check "alice /metrics: one route-direction latency observed" \
	m_are $NS_A cyphonicd_route_direction_seconds_count 1
t_check "no handshake failed on either side" bash -c \
	"$(declare -f m_are metric nsx); m_are $NS_A 'cyphonicd_handshakes_total{result=\"failed\"}' 0 && m_are $NS_B 'cyphonicd_handshakes_total{result=\"failed\"}' 0"
t_check "kernel: no staged packet timed out on alice" dstat_is $NS_A tx_drop_staged_timeout 0
t_check "kernel: nothing dropped for want of a key on alice" dstat_is $NS_A tx_drop_no_key 0

# A VIP no node has: the NMS answers NOT_FOUND, the daemon tells the kernel
# (TUNNEL_UNREACHABLE) and ping gets an ICMP error instead of silence.
out=$(nsx $NS_A ping -c 1 -W 15 10.77.250.250 2>&1)
t_check "a VIP nobody has: ping gets Destination Host Unreachable" \
	grep -q 'Unreachable' <<< "$out"
t_check "kernel: the ICMP error is counted (tx_icmp_unreachable)" \
	dstat_ge $NS_A tx_icmp_unreachable 1

# ---- rekeying without loss ----
out=$(nsx $NS_A ping -c 60 -i 0.25 -W 2 -q "$VB" 2>&1)
t_check "60 pings over 15 s across rekeys: none lost" grep -q ' 0% packet loss' <<< "$out"
diag "$(grep 'packet loss' <<< "$out")"
t_check "alice rekeyed at least twice" metric_ge $NS_A 9104 'cyphonicd_rekeys_total{result="ok"}' 2
t_check "bob installed the rekeys too" metric_ge $NS_B 9104 'cyphonicd_rekeys_total{result="ok"}' 2
t_check "no rekey failed on either side" bash -c \
	"$(declare -f m_are metric nsx); m_are $NS_A 'cyphonicd_rekeys_total{result=\"failed\"}' 0 && m_are $NS_B 'cyphonicd_rekeys_total{result=\"failed\"}' 0"
# bob promotes alice's new key on her first packet under it: right after
# a swap he may still be on the key she just left.
nsx $NS_A ping -c 1 -W 5 -q "$VB" > /dev/null
ka=$(primary_key_id $NS_A) kb=$(primary_key_id $NS_B)
same_or_previous() { [ -n "$1" ] && [ -n "$2" ] && { [ "$2" = "$1" ] || [ "$2" = $((($1 + 3) % 4)) ]; }; }
t_check "both ends on the same keys (key ids: alice $ka, bob $kb, or bob one behind)" \
	same_or_previous "$ka" "$kb"
t_check "kernel: no authentication failure or unknown key on bob" bash -c \
	"$(declare -f dstat show_json jpick nsx); [ \"\$(dstat $NS_B rx_drop_auth)\" = 0 ] && [ \"\$(dstat $NS_B rx_drop_no_key)\" = 0 ]"
diag "$(grep -h 'rekeyed' "$D/alice.log" | tail -n 2 | sed 's/^[^:]*: [a-z]*: //')"

# ---- names ----
# Fresh traffic first: the tunnel must stay until the idle part below.
nsx $NS_A ping -c 1 -W 5 -q "$VB" > /dev/null
hs_a=$(metric $NS_A 9104 'cyphonicd_handshakes_total{result="ok"}')
idle_a=$(grep -c 'removed: idle' "$D/alice.log") idle_b=$(grep -c 'removed: idle' "$D/bob.log")
t_expect "alice's DNS answers her own name" "$(dns $NS_A alice.cyph.test)" = "$VA"
hs_b=$(metric $NS_B 9104 'cyphonicd_handshakes_total{result="ok"}')
t_expect "bob's DNS looks alice up at the NMS: her VIP" "$(dns $NS_B alice.cyph.test)" = "$VA"
t_expect "and her IPv6 VIP (AAAA)" "$(dns $NS_B alice.cyph.test AAAA)" = "$(vip $NS_A 6)"
t_check "the lookup made no second tunnel (bob: still $hs_b handshakes)" \
	m_are $NS_B 'cyphonicd_handshakes_total{result="ok"}' "$hs_b"
out=$(nsx $NS_A dig +time=10 +tries=1 -p 5354 @127.0.0.1 nobody.cyph.test 2>&1)
t_check "a name the NMS does not know: NXDOMAIN" grep -q 'status: NXDOMAIN' <<< "$out"
out=$(nsx $NS_A dig +time=10 +tries=1 -p 5354 @127.0.0.1 www.example.org 2>&1)
t_check "a name outside the domain: REFUSED" grep -q 'status: REFUSED' <<< "$out"

# ---- idle tunnels go, and come back on demand ----
more_idle() { [ "$(grep -c 'removed: idle' "$D/$1.log")" -gt "$2" ]; }
t_check "idle 12 s: alice removed her tunnel" wait_until 40 more_idle alice "$idle_a"
t_check "idle 12 s: bob removed his" wait_until 40 more_idle bob "$idle_b"
t_check "no tunnel left in alice's kernel" test -z "$(tunnel_ep $NS_A)"
t_check "alice /metrics: direct tunnels 0" m_are $NS_A 'cyphonicd_tunnels{path="direct"}' 0
t_check "the next ping makes a new tunnel and is answered" nsx $NS_A ping -c 1 -W 20 -q "$VB"
t_check "alice: one more handshake, one tunnel again" \
	m_are $NS_A 'cyphonicd_handshakes_total{result="ok"}' $((hs_a + 1)) 'cyphonicd_tunnels{path="direct"}' 1

node_stop $A_PID
A_PID=
t_expect "alice: SIGTERM exit 0" "$NODE_RC" -eq 0
node_stop $B_PID
B_PID=
t_expect "bob: SIGTERM exit 0" "$NODE_RC" -eq 0
t_check "no device left in either site" bash -c \
	"! ip -n $NS_A link show cyph0 2> /dev/null && ! ip -n $NS_B link show cyph0 2> /dev/null"

# ---- restart: a name lookup alone sets the tunnel up ----
cp "$D/alice.log" "$D/alice-1.log"
cp "$D/bob.log" "$D/bob-1.log"
node_start $NS_A alice
A_PID=$NODE_PID
node_start $NS_B bob
B_PID=$NODE_PID
if registered alice && registered bob; then
	t_ok "restart: both registered again (stored credentials)"
else
	t_fail "restart: both registered again (stored credentials)"
fi
t_expect "resolving bob.cyph.test through alice's DNS answers his VIP" \
	"$(dns $NS_A bob.cyph.test)" = "$VB"
t_check "the lookup alone set up the tunnel (alice initiator, no packet sent)" \
	wait_until 30 log_has alice "up: direct via $B4:7300, initiator"
t_check "the first ping to the resolved VIP is answered" nsx $NS_A ping -c 1 -W 10 -q "$VB"
node_stop $A_PID
A_PID=
node_stop $B_PID
B_PID=
t_check "stopped: no device left" bash -c \
	"! ip -n $NS_A link show cyph0 2> /dev/null && ! ip -n $NS_B link show cyph0 2> /dev/null"
[ "$_t_fail" -eq 0 ] || for n in alice-1 bob-1 alice bob; do
	[ -f "$D/$n.log" ] || continue
	diag "$n log:"
	grep -v 'debug: NMS datagram\|keepalive' "$D/$n.log" | sed 's/^/#   /' | tail -n 60
done
t_end
