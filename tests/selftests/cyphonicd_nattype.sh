#!/bin/bash
# NAT-type detection and re-punching after the node's own mapping changed
# (issue 9 points 2 and 7; docs/cyphonicd.md "NAT type"): cyphonicd nodes
# behind real nftables NAT routers (tests/selftests/lib/nat.sh), the NMS
# with its mapping port ([nms] mapping_listen 7101), every node with
# [nms] mapping_address.
#
#   pub 203.0.113.2  public                       -> NAT type none
#   r1 -- e1, r2 -- e2  masquerade (EIM)          -> cone
#   r3 -- s1, r4 -- s2  masquerade fully-random   -> symmetric
#
# 1. each node's type in /metrics, `cyphctl show` and its --json;
# 2. s1 -> s2: both report symmetric, so the NMS directs RELAY at once:
#    no punch is tried (cyphonicd_nat shows the 2 s punch this saves);
#    s2 takes s1's ClientHello, sent before s1 knew s2's index, by the
#    index of s1's probe; s1 -> e1 with e1's link slowed: e1 binds last,
#    what s1 sent first is dropped at the TRS, and s1 sends its
#    ClientHello again behind its answer to e1's probe;
# 3. mobility with both NATs filtering: e1 <-> e2 punched, then r1's public
#    address changes (the masquerade's conntrack entries go with it), so
#    e1's own mapping changes under a running ping. e1 learns it from its
#    next keepalive answer and punches again; e2's NAT would drop e1's
#    packets from the new mapping forever otherwise. Diag: the pings lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
. "$(dirname "$0")/lib/nat.sh"
need ip nft tc cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyphonic-trs cyph_node \
	curl ping
t_begin
nat_begin cyphonicd-nattype
NAT_NS="core pub r1 e1 r2 e2 r3 s1 r4 s2"
NODES="pub e1 e2 s1 s2"

nat_core && nat_public pub 203.0.113 && nat_router 1 e1 && nat_router 2 e2 &&
	nat_router 3 s1 fully-random && nat_router 4 s2 fully-random &&
	nat_reach pub e1 e2 s1 s2 || t_abort "topology: sites behind nftables NAT routers"
t_ok "topology: 5 sites, 4 NAT routers (2 endpoint-independent, 2 symmetric)"
t_check "cloud: CA, nms and the nodes enrolled" cloud_enrol $NODES
CLOUD_NMS_EXTRA=$(cloud_relay_conf "$C4:7200" "[$C6]:7200") || t_abort "relay key"
CLOUD_NMS_MAPPING=0.0.0.0:7101
t_check "cloud: AS up" cloud_as
t_check "cloud: NMS up, mapping port 7101" cloud_nms
t_check "cloud: TRS up" cloud_trs
NODE_LOG_LEVEL=debug NODE_NMS_MAPPING=7101
# shellcheck disable=SC2086
nat_nodes_up $NODES || t_abort "the nodes registered at the NMS"
t_ok "all five nodes registered"
for n in $NODES; do V[$n]=$(nat_vip "$n" 4); done

# ---- 1. each node's NAT type ----
nat_is() { [ "$(metric "$1" 9104 "cyphonicd_nat_type{type=\"$2\"}")" = 1 ]; }
for x in pub:none e1:cone e2:cone s1:symmetric s2:symmetric; do
	t_check "${x%%:*}: NAT type ${x#*:} (/metrics)" wait_until 10 nat_is "${x%%:*}" "${x#*:}"
done
diag "$(grep -h 'NAT type' "$D"/{pub,e1,s1}.log | sed 's/^.*: NAT/NAT/')"
t_check "s1: cyphctl show names its NAT" bash -c \
	"nsenter --net=/run/netns/s1 -- cyphctl show cyph0 | grep -q 'NAT symmetric'"
t_check "e1: cyphctl show --json: \"nat\": \"cone\"" bash -c \
	"nsenter --net=/run/netns/e1 -- cyphctl show cyph0 --json | grep -q '\"nat\": *\"cone\"'"
t_expect "the NMS answered MAPPINGs only on its mapping port, none refused" \
	"$(metric $NS_W 9102 'cyphonic_nms_requests_total{type="mapping",result="ok"}')" -ge 5

# ---- 2. symmetric <-> symmetric: RELAY at once ----
t0=$(date +%s%N)
t_check "s1 -> s2: the first ping is answered" nsx s1 ping -c 1 -W 20 -q "${V[s2]}"
diag "s1 -> s2: first ping to its reply $((($(date +%s%N) - t0) / 1000000)) ms (with the 2 s punch first: cyphonicd_nat)"
t_check "s1: tunnel up through the TRS" log_has s1 "to s2.cyph.test up: relayed via $C4:7200"
t_check "s1: no punch was tried" bash -c "! grep -q 'punching towards' $D/s1.log"
t_check "s2: no punch was tried" bash -c "! grep -q 'punching towards' $D/s2.log"
t_check "s2: took s1's ClientHello by the index of s1's probe (sent before s1 knew s2's index)" \
	log_has s2 'relayed ClientHello from the index'

# ---- 2b. relayed, the target bound last ----
# e1's access link 150 ms each way: e1 binds at the TRS about 0.6 s after
# s1, so s1's probe and early ClientHello reach a session whose other end
# is not bound and are dropped there; e1's probe then reaches s1, which
# answers it and sends the same ClientHello again right behind.
unbound0=$(trs_metric 'cyphonic_trs_dropped_packets_total{reason="peer_unbound"}')
nsx e1 tc qdisc add dev eth0 root netem delay 150ms &&
	nsx r1 tc qdisc add dev lan root netem delay 150ms || t_abort "e1: 150 ms each way"
t0=$(date +%s%N)
t_check "s1 -> e1 (relayed, e1 bound last): the first ping is answered" \
	nsx s1 ping -c 1 -W 20 -q "${V[e1]}"
diag "s1 -> e1: first ping to its reply $((($(date +%s%N) - t0) / 1000000)) ms (e1's link 150 ms each way)"
nsx e1 tc qdisc del dev eth0 root
nsx r1 tc qdisc del dev lan root
t_check "s1: tunnel to e1 up through the TRS" log_has s1 "to e1.cyph.test up: relayed via"
t_check "s1: sent its ClientHello again behind the answer to e1's probe" \
	log_has s1 'ClientHello again, behind the answer'
t_expect "the TRS dropped what s1 sent before e1 was bound (peer_unbound)" \
	"$(trs_metric 'cyphonic_trs_dropped_packets_total{reason="peer_unbound"}')" -gt "${unbound0:-0}"

# ---- 3. e1's own mapping changes under a running ping ----
t_check "e1 -> e2: punched" nsx e1 ping -c 3 -i 0.2 -W 10 -q "${V[e2]}"
t_check "e1: punched to r2's mapping" log_has e1 "to e2.cyph.test up: punched via 100.64.2.2:"
t_check "e2: punched to r1's mapping 100.64.1.2" log_has e2 "to e1.cyph.test up: punched via 100.64.1.2:"
nsx e1 ping -c 100 -i 0.1 -W 1 "${V[e2]}" > "$D/move.ping" 2>&1 &
PING=$!
sleep 2
# r1's public address changes: masquerade drops the conntrack entries of
# the address that went, so e1's next datagram gets a new mapping.
nsx r1 sysctl -qw net.ipv4.conf.wan.promote_secondaries=1
ip -n r1 addr add 100.64.1.3/24 dev wan && ip -n r1 addr del 100.64.1.2/24 dev wan &&
	ip -n r1 route replace default via 100.64.1.1 || t_abort "r1: new public address"
wait $PING
t_check "e1: learnt its new endpoint and punched again" \
	wait_until 10 log_has e1 'our public endpoint changed, punching again'
t_check "e2: punched to e1's new mapping 100.64.1.3" \
	wait_until 10 log_has e2 "to e1.cyph.test up: punched via 100.64.1.3:"
t_check "e1 -> e2 after the move: 10/10 pings" nsx e1 ping -c 10 -i 0.2 -W 5 -q "${V[e2]}"
t_check "e2 -> e1 after the move" nsx e2 ping -c 3 -i 0.2 -W 5 -q "${V[e1]}"
t_expect "e1 /metrics: repunches 1" "$(metric e1 9104 cyphonicd_repunches_total)" -ge 1
lost=$(sed -n 's/.* \([0-9]*\)% packet loss.*/\1/p' "$D/move.ping")
last=$(grep -o 'icmp_seq=[0-9]*' "$D/move.ping" | tail -n 1)
diag "during the move: ${lost:-?}% of 100 pings (10/s) lost; last answered $last; up again:" \
	"$(grep -h 'to e2.cyph.test up' "$D/e1.log" | tail -n 1 | sed 's/^.*tunnel //')"
t_check "e1: still cone after the move" nat_is e1 cone

for n in $NODES; do
	node_stop "${PID[$n]}"
done
t_end
