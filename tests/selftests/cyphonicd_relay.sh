#!/bin/bash
# The relay under attack and under failure, and credentials that end
# (issue 9 point 7): cyphonicd nodes behind real nftables NAT routers, the
# cloud (AS, NMS, TRS) in its own namespace (lib/nat.sh).
#
#   pub 203.0.113.2, x 198.18.0.2       public, IPv4
#   r1 -- e1                            endpoint-independent NAT
#   r3 -- s1, r4 -- s2                  symmetric NAT: s1 <-> s2 is relayed
#
# Scenarios:
#   - a lost route request: the NMS drops e1's signaling until e1 asks
#     again; the retry (backoff with jitter) gets the route, the first
#     ping is answered, the retry is counted;
#   - the relay grant (session_ttl 30 s) renewed in place under a ping
#     stream: the same kernel tunnel moves to a new relay session, no ping
#     is lost;
#   - a man in the middle on the relay path (the core router, between
#     the TRS and s2's NAT) replays the relayed DATA packets it saw: s2's
#     kernel drops every one as a replay; a copy with its counter changed
#     fails authentication; nothing reaches s2's stack and s1 sees no
#     extra reply;
#   - the TRS restarted mid-session: a direct tunnel (e1 -> pub) loses
#     nothing, the relayed one (s1 -> s2) flows again once both ends have
#     bound afresh (the refresh every idle/3, the TRS's return-routability
#     challenge answered); the interruption is reported (diag);
#   - an expired credential: x logs in while the AS issues 30 s
#     certificates, then cannot renew (the AS is down); pub's tunnel to x
#     is removed when x's certificate ends (logged, counted), the NMS ends
#     x's registration with it and refuses its expired REGISTER (counted),
#     and no tunnel is made to or from x afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
. "$(dirname "$0")/lib/nat.sh"
need ip nft cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyphonic-trs cyph_node \
	curl ping openssl $PY
t_begin
nat_begin cyphonicd-relay
NAT_NS="core pub x r1 e1 r3 s1 r4 s2"
NODES="pub e1 s1 s2"
nat_up() {
	nat_core && nat_public pub 203.0.113 && nat_public x 198.18.0 && nat_router 1 e1 &&
		nat_router 3 s1 fully-random && nat_router 4 s2 fully-random &&
		nat_reach pub x e1 s1 s2
}
# gaps FILE: the longest time between two replies of a `ping -D` log, ms
gaps() {
	awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (p && t - p > g) g = t - p; p = t }
		END { printf "%d\n", g }' "$1"
}
rx_of() { nsx "$1" cat /proc/net/dev | awk '$1 == "cyph0:" { print $2 }'; }
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }
nms_refused_expired() {
	nsx $NS_W curl -sf http://127.0.0.1:9102/metrics |
		awk 'tolower($1) ~ /^cyphonic_nms_requests_total\{type="[^"]*",result="[^"]*expired[^"]*"\}/ { n += $2 } END { exit !(n >= 1) }'
}

nat_up || t_abort "topology: sites behind nftables NAT routers"
t_ok "topology: 5 sites, 3 NAT routers (1 endpoint-independent, 2 symmetric)"
CLOUD_AS_LISTEN='[::]:7443' CLOUD_NMS_LISTEN6='[::]:7100'
t_check "cloud: CA, nms and the nodes enrolled" cloud_enrol $NODES x
CLOUD_NMS_EXTRA=$(cloud_relay_conf "$C4:7200" "[$C6]:7200") || t_abort "relay key"
# relay grants of 30 s: renewed in place at 20 s
CLOUD_NMS_EXTRA+=$'\nsession_ttl = 30s'
# (not in t_check: its subshell would lose AS_PID and TRS_PID)
cloud_as || t_abort "cloud: AS up"
t_check "cloud: NMS up (relay grants of 30 s)" cloud_nms
cloud_trs 6s || t_abort "cloud: TRS up"
t_ok "cloud: AS and TRS up (TRS idle timeout 6 s: binds refreshed every 2 s)"
NODE_LOG_LEVEL=debug
for n in $NODES; do nat_node_start "$n"; done
for n in $NODES; do
	registered "$n" || t_abort "$n registered at the NMS"
done
t_ok "pub, e1, s1, s2 registered"
for n in $NODES; do V[$n]=$(nat_vip "$n" 4); done

# ---- a lost route request is retried ----
# The cloud drops e1's first ROUTE_REQ (SIGNAL op 5, byte 2 of the UDP
# payload) and nothing else.
nsx $NS_W nft -f - <<EOF
table inet lossy {
	chain in {
		type filter hook input priority 0;
		ip saddr 100.64.1.2 udp dport 7100 @th,80,8 5 numgen inc mod 1000000 0 counter drop;
	}
}
EOF
nsx e1 ping -c 1 -W 20 "${V[pub]}" > "$D/retry.ping" 2>&1
t_check "e1: no route direction within the first backoff step, asks again" \
	log_has e1 'no route direction yet, asking the NMS again'
t_check "e1 -> pub: the tunnel is made after the retried route request" \
	wait_until 20 log_has e1 'to pub.cyph.test up:'
t_check "the cloud dropped exactly one ROUTE_REQ" bash -c \
	"nsenter --net=/run/netns/$NS_W -- nft list table inet lossy | grep -q 'counter packets 1 '"
nsx $NS_W nft delete table inet lossy
diag "the first ping: $(grep -h 'packet loss' "$D/retry.ping")" \
	"(lost only when the retry and the handshake took longer than the kernel's 5 s staging)"
t_check "e1 -> pub answered" nsx e1 ping -c 2 -i 0.2 -W 5 -q "${V[pub]}"
t_check "e1 /metrics: route retries counted" metric_ge e1 9104 cyphonicd_route_retries_total 1
diag "$(grep -h 'asking the NMS again' "$D/e1.log" | head -n 3 | sed 's/^.*tunnel /e1: tunnel /')"

# ---- relayed s1 <-> s2 ----
first_reply "s1 -> s2 (relayed)" s1 "${V[s2]}" || t_fail "s1 -> s2: the first ping is answered"
t_check "s1: tunnel up through the TRS" log_has s1 "to s2.cyph.test up: relayed via $C4:7200"
setup_diag s1 s2.cyph.test
setup_diag s2 s1.cyph.test
# ---- the relay grant renewed in place ----
index0=$(tfield s1 index) session0=$(tfield s1 relay)
nsenter --net=/run/netns/s1 -- ping -D -c 600 -i 0.1 -W 2 "${V[s2]}" > "$D/renew.ping" 2>&1 &
renew_pid=$!	# ping itself: SIGINT ends it with its summary
t_check "s1: the relay grant renewed in place (at 2/3 of its 30 s)" \
	wait_until 40 log_has s1 'relay grant renewed in place'
t_check "s2: moved to the new session too" wait_until 10 log_has s2 'relay grant renewed in place'
sleep 4
kill -INT $renew_pid
wait $renew_pid
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$D/renew.ping")
t_expect "no ping lost across the renewal ($(received "$D/renew.ping")/$sent)" \
	"$(received "$D/renew.ping")" -ge "$((sent - 1))"
t_expect "s1: the same kernel tunnel ($index0)" "$(tfield s1 index)" = "$index0"
t_expect "s1: a new relay session (was $session0)" "$(tfield s1 relay)" != "$session0"
t_check "s1 /metrics: relay renewals ok" metric_ge s1 9104 'cyphonicd_relay_renewals_total{result="ok"}' 1
grep -h 'relay grant' "$D/s1.log" "$D/s2.log" | head -n 6 | sed 's/^.*tunnel /# tunnel /'
diag "renewal: longest gap between replies $(gaps "$D/renew.ping") ms (pings every 100 ms)"

# ---- a man in the middle on the relay path ----
# r4's wan port sees what the TRS forwards to s2 (relay header stripped):
# the DATA packets as s1 sent them, now from the TRS's address. Captured
# there, and sent again from the core router towards r4, they reach s2
# through its NAT as if the TRS had sent them once more. (Not towards the
# TRS: the grants are renewed every 20 s, and a session closed since the
# capture would drop them before any node sees them.)
nsx r4 $PKT capture --ifname wan --sport 7200 --count 5 --out "$D/relay.caps" \
	--timeout 120 --ready "$D/cap.ready" 2> "$D/cap.err" &
cap_pid=$!
wait_until 60 test -e "$D/cap.ready"
nsenter --net=/run/netns/s1 -- ping -c 1200 -i 0.1 -W 5 -q "${V[s2]}" > /dev/null 2>&1 &
stream_pid=$!
wait $cap_pid
t_expect "man in the middle: 5 relayed DATA packets to s2 captured" "$?" -eq 0
kill -INT $stream_pid 2> /dev/null
wait $stream_pid
sleep 1
r4_mac=$(mac_of r4 wan)
rx0=$(rx_of s2)
arx0=$(dstat s1 rx_packets)
rep0=$(dstat s2 rx_drop_replay)
nsx core $PKT inject --ifname r4 --dst-mac "$r4_mac" --from "$D/relay.caps"
sleep 1
t_expect "s2's kernel: every replayed packet dropped as a replay (rx_drop_replay +5)" \
	"$(($(dstat s2 rx_drop_replay) - rep0))" -eq 5
# Offset 14 of a DATA packet: the second lowest byte of its counter (type,
# flags, reserved, receiver index, counter), flipped: a fresh counter, so
# only the AEAD tag can refuse it.
auth0=$(dstat s2 rx_drop_auth)
nsx core $PKT inject --ifname r4 --dst-mac "$r4_mac" --from "$D/relay.caps" --limit 1 --tamper 14
sleep 1
t_expect "a modified packet (fresh counter): s2's kernel drops it, rx_drop_auth +1" \
	"$(($(dstat s2 rx_drop_auth) - auth0))" -eq 1
t_expect "nothing injected reached s2's stack (cyph0 rx unchanged)" "$(($(rx_of s2) - rx0))" -eq 0
t_expect "s1 got no extra reply" "$(($(dstat s1 rx_packets) - arx0))" -eq 0
t_check "s1 -> s2 still works" nsx s1 ping -c 3 -i 0.2 -W 5 -q "${V[s2]}"

# ---- the TRS restarted mid-session ----
t_check "e1 -> pub: tunnel up (direct)" nsx e1 ping -c 2 -i 0.2 -W 5 -q "${V[pub]}"
nsx e1 ping -D -c 120 -i 0.1 -W 1 "${V[pub]}" > "$D/direct.ping" 2>&1 &
direct_pid=$!
nsx s1 ping -D -c 200 -i 0.1 -W 1 "${V[s2]}" > "$D/relayed.ping" 2>&1 &
relayed_pid=$!
sleep 2
node_stop "$TRS_PID"
diag "TRS stopped (SIGTERM: $NODE_RC)"
cloud_trs 6s || t_fail "TRS started again"
t_ok "TRS started again (no session state)"
t_check "s1 and s2 bound at the new TRS (session created afresh)" \
	wait_until 20 metric_ge $NS_W 9103 cyphonic_trs_sessions_created_total 1
wait $direct_pid $relayed_pid
t_expect "direct e1 -> pub during the TRS restart: 120/120 replies" "$(received "$D/direct.ping")" -eq 120
r=$(received "$D/relayed.ping")
t_expect "relayed s1 -> s2: replies again after the restart ($r/200)" "$r" -ge 100
t_check "relayed s1 -> s2: the last pings answered" \
	bash -c "tail -n 8 '$D/relayed.ping' | grep -q 'icmp_seq=1[89][0-9]'"
diag "TRS restart: relayed path interrupted $(gaps "$D/relayed.ping") ms" \
	"(longest gap between replies at 100 ms; binds refreshed every idle/3 = 2 s), direct path $(gaps "$D/direct.ping") ms"
t_check "s1 -> s2 through the new TRS" nsx s1 ping -c 3 -i 0.2 -W 5 -q "${V[s2]}"

# ---- an expired credential ----
# The AS now issues 30 s certificates; x logs in, then the AS goes away,
# so x cannot renew.
node_stop "$AS_PID"
sed -i '/^\[ca\]$/a cert_lifetime = 30s' "$D/as.conf"
cloud_as || t_abort "AS restarted issuing 30 s certificates"
t_ok "AS restarted issuing 30 s certificates"
nat_node_start x
registered x || t_abort "x registered at the NMS"
V[x]=$(nat_vip x 4)
not_after=$(metric x 9104 cyphonicd_credential_expiry_seconds)
diag "x's certificate ends at ${not_after:-?} (now $(date +%s))"
node_stop "$AS_PID"
t_check "pub -> x: tunnel while x's credential is valid" nsx pub ping -c 2 -i 0.2 -W 10 -q "${V[x]}"
t_check "x's certificate ends (renewal impossible: the AS is down)" \
	wait_until 60 bash -c "[ \$(date +%s) -gt $((${not_after:-0} + 2)) ]"
t_check "pub: the tunnel to x removed when x's credential ended (logged)" \
	wait_until 10 log_has pub 'to x.cyph.test removed: the peer.s credential expired'
t_check "pub /metrics: cyphonicd_tunnels_peer_expired_total 1" \
	metric_ge pub 9104 cyphonicd_tunnels_peer_expired_total 1
t_check "x: credential renewal failed (logged)" log_has x 'credential renewal failed'
t_check "the NMS refused x's REGISTER with the expired certificate (counted)" \
	wait_until 30 nms_refused_expired
t_check "pub -> x: no tunnel any more" bash -c "! nsenter --net=/run/netns/pub -- ping -c 2 -i 0.3 -W 2 -q ${V[x]}"
t_check "x -> pub: no tunnel either" bash -c "! nsenter --net=/run/netns/x -- ping -c 2 -i 0.3 -W 2 -q ${V[pub]}"
t_check "pub's kernel has no tunnel to x" bash -c "! nsenter --net=/run/netns/pub -- cyphctl show cyph0 | grep -q '${V[x]}'"

for n in $NODES x; do
	node_stop "${PID[$n]}"
	t_expect "$n stops cleanly" "$NODE_RC" = 0
done
t_end
