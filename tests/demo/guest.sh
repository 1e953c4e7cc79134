#!/bin/bash
# SPDX-License-Identifier: MIT
# The cyphonic demo, run inside the test VM by tests/demo/demo.sh.
# Narrates every step; exits non-zero as soon as one fails.
#
# The whole system: the cloud (AS, NMS, TRS) in its own namespace behind
# the internet's core router, and one node per site running cyphonicd,
# which logs in, registers, answers the overlay's names and makes tunnels
# on demand. Every site sits behind its own NAT router doing real NAT with
# nftables (tests/selftests/lib/nat.sh): alice and bob behind two
# different home routers (endpoint-independent mapping: their tunnel is
# hole-punched), carol behind a symmetric NAT (a new random port per
# destination: reached only through the relay); then an adapter, gw,
# behind a fourth home router, puts three unmodified devices (stock DHCP
# clients) on the overlay, each with its own name. The sites are listed
# once, in SITES ("node:namespace:address of the cloud as the site sees
# it"); the underlay is built in demo_underlay.
. "$(dirname "$0")/../selftests/lib.sh"
. "$(dirname "$0")/../selftests/lib/cloud.sh"
. "$(dirname "$0")/../selftests/lib/nat.sh"
D=$(mktemp -d /tmp/cyphonic-demo.XXXXXX)
chmod 755 "$D"	# gw's dnsmasq, once it dropped to nobody, re-reads its hosts file here
NS_W=cloud
CAMS="cam1 cam2 cam3"
NAT_NS="core r1 site-a r2 site-b r3 site-c r4 site-d $CAMS"
W4A=$C4 W4B=$C6	# the AS certificate's names (cloud.sh)
SITES=("alice:site-a:$C4" "bob:site-b:$C4" "carol:site-c:$C4")
PIDS=()
declare -A CAM_MAC=([cam1]=02:00:5e:00:00:01 [cam2]=02:00:5e:00:00:02 [cam3]=02:00:5e:00:00:03)
declare -A CAM_MODE=([cam1]=ipv4 [cam2]=ipv4 [cam3]=ipv6)
finish() {
	local p s
	for p in "${PIDS[@]}" ${AS_PID:-} ${NMS_PID:-} ${TRS_PID:-}; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	nat_down
	for s in "${SITES[@]}"; do rm -rf "/etc/netns/$(cut -d: -f2 <<< "$s")"; done
	rm -rf /etc/netns/site-d /etc/netns/cam[123]
	rm -rf "$D"
}
trap finish EXIT

say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() {
	local f
	printf '\nDEMO FAILED: %s\n' "$*"
	for f in "$D"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
	done
	exit 1
}
# run NS CMD...: show the command as typed in that namespace, then run it
run() {
	local ns=$1
	shift
	printf '[%s]# %s\n' "$ns" "$*"
	if [ "$ns" = host ]; then
		"$@"
	else
		ip netns exec "$ns" "$@"
	fi
	local rc=$?
	[ $rc -eq 0 ] || fail "\"$*\" exited with status $rc"
}
# ping_name NS ARGS...: ping by name, again while the tunnel is being set
# up (ping -w stops at the first ICMP error)
ping_name() {
	local ns=$1
	shift
	printf '[%s]# ping %s\n' "$ns" "$*"
	for _ in $(seq 12); do
		ip netns exec "$ns" ping "$@" && return 0
		note "(the tunnel is not up yet: again)"
		sleep 1
	done
	fail "\"ping $*\" in $ns: no answer in 12 tries"
}
site() { IFS=: read -r NODE NS CLOUD <<< "$1"; }
# site_up NS: the site's own view of /etc: its resolv.conf (cyphonicd
# edits it), as a separate host would have
site_up() {
	mkdir -p "/etc/netns/$1"
	printf 'nameserver %s\n' "$C4" > "/etc/netns/$1/resolv.conf"
}
# demo_underlay: the core router, the cloud's link, and the three sites
# behind their NAT routers
demo_underlay() {
	nat_core && nat_router 1 site-a && nat_router 2 site-b &&
		nat_router 3 site-c fully-random && nat_router 4 site-d &&
		nat_reach site-a site-b site-c site-d
}
# gw_lan: site-d's LAN bridge lan0 and the devices on it, each with its
# own resolv.conf (DHCP fills it)
gw_lan() {
	local d
	site_up site-d && ip -n site-d link add lan0 type bridge && ip -n site-d link set lan0 up ||
		return 1
	for d in $CAMS; do
		mkdir -p "/etc/netns/$d" && : > "/etc/netns/$d/resolv.conf" &&
			ip link add "p-$d" netns site-d type veth peer name eth0 netns "$d" &&
			ip -n site-d link set "p-$d" master lan0 up &&
			ip netns exec "$d" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
			ip -n "$d" link set eth0 address "${CAM_MAC[$d]}" &&
			ip -n "$d" link set lo up && ip -n "$d" link set eth0 up || return 1
	done
	echo gw-secret > "$D/gw.pw" && chmod 600 "$D/gw.pw"
}
# demo_iperf_server NS: iperf3 -s for one test in NS (IPERF_SERVER_PID),
# once it listens
demo_iperf_server() {
	nsenter --net="/run/netns/$1" -- iperf3 -s -1 > /dev/null 2>&1 < /dev/null &
	IPERF_SERVER_PID=$!
	wait_until 20 bash -c "nsenter --net=/run/netns/$1 -- ss -ltnH 'sport = :5201' | grep -q ."
}
# demo_path NODE PEER: the path of NODE's tunnel to PEER, as its daemon logged it
demo_path() {
	grep -h "to $2.cyph.test up:" "$D/$1.log" | tail -n 1 | sed 's/^.* up: \([a-z]*\) via \([^ ,]*\).*/\1 via \2/'
}

cat <<'TXT'
cyphonic demo
=============
A CYPHONIC overlay in one VM: the cloud (AS: authentication, NMS: node
management and route direction, TRS: the relay) in the "cloud" namespace,
and three sites, each a host running cyphonicd, the node daemon, behind
its own NAT router (real nftables NAT). Nobody configures a tunnel or a
key: the nodes log in, register, and make an end-to-end encrypted tunnel
(DTLS key agreement) the moment one names the other: hole-punched through
the two home routers, through the relay for the symmetric NAT.

                      cloud 192.0.2.100: AS, NMS, TRS
                                  |
                     core (the internet's router)
          /                       |                        \
   r1 100.64.1.2            r2 100.64.2.2            r3 100.64.3.2
   NAT (home router)        NAT (home router)        NAT, symmetric
   site-a 10.1.0.2          site-b 10.2.0.2          site-c 10.3.0.2
   alice                    bob                      carol

Then an adapter joins: gw in site-d (behind r4, a home router) with a LAN
bridge of devices that run no client at all (cameras): each gets its own
identity, VIP and name, and bob reaches each one by its name.
TXT

say "1. Build the underlay: the core router, the cloud, four sites behind NAT routers"
demo_underlay || fail "underlay setup"
run r3 nft list table ip nat
run site-a ping -c 2 -i 0.3 $C4

say "2. Start the cloud: a CA, the AS, the NMS, the TRS (relay)"
CLOUD_KDF=(--kdf-iterations 2000)	# cheap password hashes: the VM emulates its CPU
CLOUD_NMS_EXTRA=$(cloud_relay_conf "$C4:7200" "[$C6]:7200") || fail "relay key"
# A registration lives 30 s, refreshed every 10 s: the emulated guest on a
# busy host stalls for seconds at times, and 6 s (the tests') would expire.
# shellcheck disable=SC2034 # read by cloud.sh
CLOUD_NMS_LIFETIME=30s CLOUD_NMS_KEEPALIVE=10s
cloud_enrol || fail "CA and the NMS's credential"
cloud_as || fail "AS"
cloud_nms || fail "NMS"
cloud_trs || fail "TRS"
note "AS on TCP 7443, NMS on UDP 7100, TRS on UDP 7200 (domain cyph.test, VIPs from 10.77.0.0/16, fd00:77::/64)"

say "3. Enrol one node per site at the AS"
note "general nodes (devices behind an adapter, step 9) reach nothing until a"
note "policy rule names them; rules go into the certificates issued after them:"
run cloud cyphonic-admin -c "$D/as.conf" rule add nodes general
run cloud cyphonic-admin -c "$D/as.conf" rule add general nodes
for s in "${SITES[@]}"; do
	site "$s"
	echo "$NODE-secret" > "$D/$NODE.pw" && chmod 600 "$D/$NODE.pw"
	run cloud cyphonic-admin -c "$D/as.conf" node add "$NODE" --password-file "$D/$NODE.pw" \
		"${CLOUD_KDF[@]}"
done

say "4. Start cyphonicd on each node"
for s in "${SITES[@]}"; do
	site "$s"
	site_up "$NS"
	node_conf "$D/$NODE.conf" "$NODE" "$CLOUD"
	note "$NS: $D/$NODE.conf"
	grep -v '^#' "$D/$NODE.conf" | sed '/^$/d; s/^/     /'
	printf '[%s]# cyphonicd -c %s &\n' "$NS" "$D/$NODE.conf"
	ip netns exec "$NS" cyphonicd -c "$D/$NODE.conf" > "$D/$NODE.log" 2>&1 &
	PIDS+=($!)
done
for s in "${SITES[@]}"; do
	site "$s"
	wait_until 60 grep -q 'registered at the NMS as node' "$D/$NODE.log" ||
		{ cat "$D/$NODE.log"; fail "$NODE did not register"; }
	note "$NODE: $(grep -m1 'registered at the NMS' "$D/$NODE.log" | sed 's/^[^:]*: [a-z]*: //')"
done
note "each daemon points its host's resolver at its DNS responder:"
run site-a cat /etc/resolv.conf

say "5. Ping bob by name from alice: the first packet sets up the tunnel"
note "both are behind NAT: the NMS directs a hole punch, both send probes"
run site-a ping -c 4 -i 0.5 -W 20 bob.cyph.test
note "alice -> bob: $(demo_path alice bob)"

say "6. Ping carol by name from alice: carol's NAT is symmetric"
note "the punch finds no path in 2 s; the NMS directs both to the TRS, which"
note "relays the encrypted packets it cannot read"
run site-a ping -c 4 -i 0.5 -W 20 carol.cyph.test
note "alice -> carol: $(demo_path alice carol)"

say "7. TCP throughput over the overlay for 5 seconds (iperf3, by name)"
note "(this VM emulates its CPU in software, so absolute numbers are low)"
demo_iperf_server site-b || fail "iperf3 server"
run site-a iperf3 -c bob.cyph.test -t 5 -f m
wait "$IPERF_SERVER_PID"
note "and through the relay, to carol:"
demo_iperf_server site-c || fail "iperf3 server"
run site-a iperf3 -c carol.cyph.test -t 5 -f m
wait "$IPERF_SERVER_PID"

say "8. What each side shows: the kernel's tunnel and the daemon's view (path)"
for s in "${SITES[@]}"; do
	site "$s"
	run "$NS" cyphctl show cyph0
	echo
done

say "9. An adapter: unmodified devices, each with its own identity and name"
note "site-d is an adapter (gw) with a LAN bridge lan0. Three devices on it"
note "run nothing of ours, only Debian's stock DHCP client: cam1 and cam2"
note "(IPv4, dhclient) and cam3 (IPv6 mode, dhclient -6)."
gw_lan || fail "site-d's LAN"
run cloud cyphonic-admin -c "$D/as.conf" adapter add gw --password-file "$D/gw.pw" "${CLOUD_KDF[@]}"
for d in $CAMS; do
	run cloud cyphonic-admin -c "$D/as.conf" general-node add gw "$d" --mac "${CAM_MAC[$d]}" \
		--method mac --ip-mode "${CAM_MODE[$d]}"
done
node_conf "$D/gw.conf" gw "$C4" "[adapter]
enabled = true
lan_interface = lan0
run_dir = $D/gw-run"
note "site-d: $D/gw.conf is a node's configuration plus:"
sed -n '/^\[adapter\]/,$p' "$D/gw.conf" | sed 's/^/     /'
printf '[site-d]# cyphonicd -c %s &\n' "$D/gw.conf"
ip netns exec site-d cyphonicd -c "$D/gw.conf" > "$D/gw.log" 2>&1 &
PIDS+=($!)
wait_until 90 grep -q 'registered at the NMS as node' "$D/gw.log" || fail "gw did not register"
gn_up() { [ "$(metric site-d 9104 'cyphonicd_general_nodes{state="up"}')" = 3 ]; }
wait_until 90 gn_up || fail "gw's general nodes are not up"
note "gw registered itself and, on their behalf, its three general nodes"
for d in $CAMS; do
	if [ "${CAM_MODE[$d]}" = ipv6 ]; then
		run "$d" timeout 60 dhclient -6 -1 -lf "$D/$d.leases" eth0
		run "$d" ip -6 -br addr show dev eth0 scope global
	else
		run "$d" dhclient -4 -1 -lf "$D/$d.leases" eth0
		run "$d" ip -4 -br addr show dev eth0
	fi
done
note "each lease holds that device's own VIP from the AS; the DNS server is the adapter:"
run cam1 cat /etc/resolv.conf
for d in cam1 cam2; do
	ping_name "$d" -c 3 -i 0.5 -W 20 bob.cyph.test
done
ping_name cam3 -6 -c 3 -i 0.5 -W 20 bob.cyph.test

say "10. bob reaches each device by its own name; each has its own tunnel"
for d in cam1 cam2; do
	ping_name site-b -c 2 -i 0.5 -W 20 "$d.cyph.test"
done
ping_name site-b -6 -c 2 -i 0.5 -W 20 cam3.cyph.test
note "bob's tunnels are to the devices themselves (their own keys and names):"
grep -h 'to cam[0-9].cyph.test up' "$D/bob.log" | sed 's/^.*tunnel /     tunnel /'

say "11. Stop the daemons: devices, addresses and resolver lines go with them"
kill -TERM "${PIDS[@]}"
wait "${PIDS[@]}"
PIDS=()
run site-a cat /etc/resolv.conf
run site-a ip -br link show type cyphonic

say "Demo finished: all steps succeeded."
