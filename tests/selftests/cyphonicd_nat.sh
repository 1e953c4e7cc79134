#!/bin/bash
# NAT traversal and the relay (issue 9 points 2 and 7): cyphonicd nodes in
# sites behind routers doing real NAT with nftables, the cloud (AS, NMS,
# TRS, both families) in wan.
#
#   cloud 192.0.2.100, 2001:db8:c::100 (AS, NMS, TRS; one link, so its
#    |                                   answers leave from these addresses)
#   core: the internet's router
#    |- pub  203.0.113.2          public, IPv4 only (no global IPv6 address)
#    |- v6   2001:db8:6::2        public, IPv6 only
#    |- r1 100.64.1.2 -- e1 10.1.0.2   endpoint-independent mapping (masquerade)
#    |- r2 100.64.2.2 -- e2 10.2.0.2   endpoint-independent mapping
#    |- r3 100.64.3.2 -- s1 10.3.0.2   symmetric (masquerade fully-random)
#    `- r4 100.64.4.2 -- s2 10.4.0.2   symmetric
#
# Every router also filters like a home router: new connections from the
# wan side are dropped (before conntrack confirms them, so a peer's early
# probe leaves no entry that would steal the port of the node's own
# mapping). Scenarios: NAT -> public (direct), public -> NAT (the NMS
# directs a punch: the NAT side must open its mapping), EIM <-> EIM (hole
# punched, the TRS relays nothing), symmetric <-> symmetric (the punch
# fails, both fall back to the TRS), IPv4-only -> IPv6-only (through the
# dual-stack TRS), a capture on the relay path (only ciphertext), the
# relay session kept alive while idle and closed with the tunnel. For
# each scenario a diag line gives the first packet's time to its reply
# and the daemon's own setup figures; nothing is timed pass/fail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
. "$(dirname "$0")/lib/nat.sh"
need ip nft cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyphonic-trs cyph_node \
	curl ping tcpdump openssl
t_begin
nat_begin cyphonicd-nat
NAT_NS="core pub v6 r1 e1 r2 e2 r3 s1 r4 s2"
NODES="pub v6 e1 e2 s1 s2"

nat_up() {
	nat_core && nat_public pub 203.0.113 && nat_public6 v6 6 &&
		nat_router 1 e1 && nat_router 2 e2 &&
		nat_router 3 s1 fully-random && nat_router 4 s2 fully-random &&
		nat_reach pub e1 e2 s1 s2 v6
}

# t_first CHECK LABEL NS VIP: first_reply as a check, its diag shown
t_first() {
	if first_reply "$2" "$3" "$4"; then t_ok "$1"; else t_fail "$1"; fi
}
nat_up || t_abort "topology: sites behind nftables NAT routers"
t_ok "topology: 6 sites, 4 NAT routers (2 endpoint-independent, 2 symmetric)"
CLOUD_AS_LISTEN='[::]:7443' CLOUD_NMS_LISTEN6='[::]:7100'
t_check "cloud: CA, nms and the nodes enrolled" cloud_enrol $NODES
CLOUD_NMS_EXTRA=$(cloud_relay_conf "$C4:7200" "[$C6]:7200") || t_abort "relay key"
t_check "cloud: AS up (both families)" cloud_as
t_check "cloud: NMS up (both families, relay endpoints)" cloud_nms
# Sessions idle out after 6 s, so the keepalive of a relayed tunnel is seen.
t_check "cloud: TRS up (both families)" cloud_trs 6s
NODE_LOG_LEVEL=debug
for n in $NODES; do
	if [ "$n" = v6 ]; then addr="[$C6]"; else addr=$C4; fi
	node_conf "$D/$n.conf" "$n" "$addr"
	nsenter --net="/run/netns/$n" -- cyphonicd -c "$D/$n.conf" > "$D/$n.log" 2>&1 &
	PID[$n]=$!
done
for n in $NODES; do
	registered "$n" || t_abort "$n registered at the NMS"
done
t_ok "all six nodes registered (behind their NATs, v6 over IPv6)"
for n in $NODES; do V[$n]=$(nat_vip "$n" 4); done
V6_V6=$(nat_vip v6 6)
diag "observed: $(grep -ho 'observed [^,]*' "$D"/{e1,e2,s1,s2}.log | tr '\n' ' ')"

# ---- NAT -> public: direct ----
t_first "e1 (behind NAT) -> pub: the first ping is answered" "e1 -> pub (direct)" e1 "${V[pub]}"
t_check "e1: tunnel up, direct to pub's socket" log_has e1 "to pub.cyph.test up: direct via 203.0.113.2:7300"
t_check "pub: responder, the peer at r1's mapping" log_has pub "to e1.cyph.test up: direct via 100.64.1.2:"
setup_diag e1 pub.cyph.test

# ---- public -> NAT: the NMS directs a punch, the NAT side opens it ----
t_first "pub -> e2 (behind NAT): the first ping is answered" "pub -> e2 (punch)" pub "${V[e2]}"
t_check "pub: tunnel up, punched to r2's mapping" log_has pub "to e2.cyph.test up: punched via 100.64.2.2:"
t_check "e2: responder over the punched path" log_has e2 "to pub.cyph.test up: punched via 203.0.113.2:7300"
t_check "pub -> e2: 5/5 pings" nsx pub ping -c 5 -i 0.2 -W 5 -q "${V[e2]}"
setup_diag pub e2.cyph.test

# ---- EIM <-> EIM: hole punched, nothing through the TRS ----
t_first "e1 -> e2 (both behind NAT): the first ping is answered" "e1 -> e2 (punched)" e1 "${V[e2]}"
t_check "e1: punched to r2's mapping" log_has e1 "to e2.cyph.test up: punched via 100.64.2.2:"
t_check "e2: punched to r1's mapping" log_has e2 "to e1.cyph.test up: punched via 100.64.1.2:"
t_check "e1 -> e2: 20 pings over the punched path" nsx e1 ping -c 20 -i 0.1 -W 5 -q "${V[e2]}"
t_check "e2 -> e1 back" nsx e2 ping -c 3 -i 0.2 -W 5 -q "${V[e1]}"
t_expect "the TRS relayed no packet for any of these" "$(relayed)" -eq 0
t_check "e1 /metrics: punched tunnels 1, punches ok 1" bash -c \
	"$(declare -f metric nsx); [ \"\$(metric e1 9104 'cyphonicd_tunnels{path=\"punched\"}')\" = 1 ] && [ \"\$(metric e1 9104 'cyphonicd_punches_total{result=\"ok\"}')\" = 1 ]"
setup_diag e1 e2.cyph.test

# ---- symmetric <-> symmetric: the punch fails, the TRS relays ----
# A capture on s1's router (the relay path), and on s1's cyph0 as the
# control that the pattern is found where it is in clear.
PAT=c0ffee0ddba11f00c0ffee0ddba11f00
nsx r3 tcpdump -i wan -U -s 0 -w "$D/r3.pcap" udp > /dev/null 2>&1 &
CAP_R=$!
t_first "symmetric: s1 -> s2: the first ping is answered" "s1 -> s2 (relayed)" s1 "${V[s2]}"
t_check "s1: the punch failed within its bound" log_has s1 "no authentic probe through the punched holes"
t_check "s1: tunnel up through the TRS" log_has s1 "to s2.cyph.test up: relayed via $C4:7200 (relay session)"
t_check "s2: tunnel up through the TRS" log_has s2 "to s1.cyph.test up: relayed via $C4:7200 (relay session)"
setup_diag s1 s2.cyph.test
setup_diag s2 s1.cyph.test
nsenter --net=/run/netns/s1 -- tcpdump -i cyph0 -U -s 0 -w "$D/cyph0.pcap" > /dev/null 2>&1 &
CAP_C=$!
sleep 1
before=$(relayed)
t_check "s1 -> s2: 20 pings through the relay, payload $PAT" \
	nsx s1 ping -c 20 -i 0.1 -W 5 -q -p $PAT "${V[s2]}"
t_check "s2 -> s1 back" nsx s2 ping -c 3 -i 0.2 -W 5 -q "${V[s1]}"
after=$(relayed)
t_expect "the TRS relayed them (packets: $before -> $after)" "$after" -ge $((before + 40))
sleep 1
kill $CAP_R $CAP_C 2> /dev/null
wait $CAP_R $CAP_C 2> /dev/null
has_pat() { python3 -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' "$1" "$PAT"; }
udp_to_trs=$(tcpdump -r "$D/r3.pcap" -n "dst host $C4 and dst port 7200" 2> /dev/null | wc -l)
t_expect "capture on r3: the relayed traffic went by ($udp_to_trs datagrams to the TRS)" "$udp_to_trs" -ge 20
t_check "control: the payload pattern is in the clear on s1's cyph0" has_pat "$D/cyph0.pcap"
t_check "man in the middle at r3: the payload pattern is absent (ciphertext only)" \
	bash -c "$(declare -f has_pat); PAT=$PAT; ! has_pat $D/r3.pcap"

# The session survives idle periods longer than the TRS's 6 s idle
# timeout: the bind is refreshed every idle/3.
sleep 8
t_check "after 8 s idle (TRS idle timeout 6 s): s1 -> s2 still through the relay" \
	nsx s1 ping -c 2 -i 0.2 -W 5 -q "${V[s2]}"
t_expect "no relay session expired" "$(trs_metric cyphonic_trs_sessions_expired_total)" -eq 0

# ---- IPv4-only -> IPv6-only: through the dual-stack TRS ----
t_first "pub (IPv4 only) -> v6 (IPv6 only): the first ping is answered" \
	"pub -> v6 (relayed, IPv4 to IPv6)" pub "${V[v6]}"
t_check "pub: relayed via the TRS's IPv4 address" log_has pub "to v6.cyph.test up: relayed via $C4:7200"
t_check "v6: relayed via the TRS's IPv6 address" log_has v6 "to pub.cyph.test up: relayed via \[$C6\]:7200"
t_check "pub -> v6: 10 pings" nsx pub ping -c 10 -i 0.1 -W 5 -q "${V[v6]}"
t_check "v6 -> pub over the IPv6 VIPs too" nsx v6 ping -6 -c 3 -i 0.2 -W 5 -q "$(nat_vip pub 6)"
setup_diag pub v6.cyph.test
t_check "pub /metrics: one tunnel per path" bash -c \
	"$(declare -f metric nsx); [ \"\$(metric pub 9104 'cyphonicd_tunnels{path=\"direct\"}')\" = 1 ] && [ \"\$(metric pub 9104 'cyphonicd_tunnels{path=\"punched\"}')\" = 1 ] && [ \"\$(metric pub 9104 'cyphonicd_tunnels{path=\"relayed\"}')\" = 1 ]"
t_check "NMS directed all three modes" bash -c \
	"$(declare -f metric nsx); for m in direct punch relay; do [ \"\$(metric $NS_W 9102 \"cyphonic_nms_routes_total{mode=\\\"\$m\\\"}\")\" -ge 1 ] || exit 1; done"
# no_failed_handshake: each node's failed-handshake count is 0 (else its log)
no_failed_handshake() {
	local n v bad=0
	for n in $NODES; do
		v=$(metric "$n" 9104 'cyphonicd_handshakes_total{result="failed"}')
		[ "$v" = 0 ] && continue
		echo "$n: $v failed"
		grep -h -i -e 'fail' -e 'refused' -e 'removed' "$D/$n.log" | tail -n 8
		bad=1
	done
	return $bad
}
t_check "no handshake failed anywhere" no_failed_handshake

# ---- teardown: relay sessions end with their tunnels ----
closed=$(trs_metric cyphonic_trs_sessions_closed_total)
for n in s1 s2; do
	node_stop "${PID[$n]}"
	t_expect "$n stops cleanly" "$NODE_RC" = 0
done
t_check "the TRS closed the s1-s2 session (CLOSE from both ends)" wait_until 10 bash -c \
	"$(declare -f metric nsx); [ \"\$(metric $NS_W 9103 cyphonic_trs_sessions_closed_total)\" -gt ${closed:-0} ]"
for n in pub v6 e1 e2; do
	node_stop "${PID[$n]}"
done
t_end
