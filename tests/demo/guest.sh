#!/bin/bash
# SPDX-License-Identifier: MIT
# The cyphonic demo, run inside the test VM by tests/demo/demo.sh.
# Narrates every step; exits non-zero as soon as one fails.
#
# The whole system: the cloud (AS + NMS) in the wan namespace, and one
# node per site running cyphonicd, which logs in, registers, answers the
# overlay's names and makes tunnels on demand. The sites are listed once,
# in SITES ("node:namespace:address of the cloud as the site sees it"):
# a new site (behind a NAT router, or one reached only through the relay)
# is its namespace set-up in site_up and one more entry there.
. "$(dirname "$0")/../selftests/lib.sh"
. "$(dirname "$0")/../selftests/lib/cloud.sh"
D=$(mktemp -d /tmp/cyphonic-demo.XXXXXX)
chmod 755 "$D"	# gw's dnsmasq, once it dropped to nobody, re-reads its hosts file here
SITES=("alice:$NS_A:$W4A" "bob:$NS_B:$W4B")
PIDS=()
CAMS="cam1 cam2 cam3"
declare -A CAM_MAC=([cam1]=02:00:5e:00:00:01 [cam2]=02:00:5e:00:00:02 [cam3]=02:00:5e:00:00:03)
declare -A CAM_MODE=([cam1]=ipv4 [cam2]=ipv4 [cam3]=ipv6)
finish() {
	local p
	for p in "${PIDS[@]}" ${AS_PID:-} ${NMS_PID:-}; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	for ns in site-c $CAMS; do
		[ -e "/run/netns/$ns" ] || continue
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ns") 2> /dev/null
		ip netns del "$ns"
	done
	topo_down
	rm -rf "$D" /etc/netns/$NS_A /etc/netns/$NS_B /etc/netns/site-c /etc/netns/cam[123]
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
# ping_name NS ARGS...: ping as typed in NS; while the tunnel is still being
# set up it is repeated, for up to a minute: the emulated guest on a busy
# host can take longer than the kernel's 5 s hold on the first packet, and
# then ping sees "Destination unreachable" until the tunnel is up
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
	printf 'nameserver %s\n' "$W4A" > "/etc/netns/$1/resolv.conf"
}

# gw_up: site-c on the wan router (203.0.113.0/24), a LAN bridge lan0
# in it and the devices on it, each with its own resolv.conf (DHCP fills it)
gw_up() {
	local d
	ip netns add site-c && site_up site-c &&
		ip link add c0 netns $NS_W type veth peer name eth0 netns site-c || return 1
	ip -n $NS_W -batch - <<-EOF || return 1
	addr add 203.0.113.1/24 dev c0
	link set c0 up
	EOF
	ip -n site-c -batch - <<-EOF || return 1
	link set lo up
	addr add 203.0.113.2/24 dev eth0
	link set eth0 up
	route add default via 203.0.113.1
	link add lan0 type bridge
	link set lan0 up
	EOF
	for d in $CAMS; do
		ip netns add "$d" && mkdir -p "/etc/netns/$d" && : > "/etc/netns/$d/resolv.conf" &&
			ip link add "p-$d" netns site-c type veth peer name eth0 netns "$d" &&
			ip -n site-c link set "p-$d" master lan0 up &&
			ip netns exec "$d" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
			ip -n "$d" link set eth0 address "${CAM_MAC[$d]}" &&
			ip -n "$d" link set lo up && ip -n "$d" link set eth0 up || return 1
	done
	echo gw-secret > "$D/gw.pw" && chmod 600 "$D/gw.pw"
}

cat <<'TXT'
cyphonic demo
=============
A CYPHONIC overlay in one VM: the cloud (AS: authentication, NMS: node
management and route direction) in the "wan" namespace, and two sites,
each a host running cyphonicd, the node daemon. Nobody configures a
tunnel or a key: the nodes log in, register, and make an end-to-end
encrypted tunnel (DTLS key agreement) the moment one names the other.

  site-a (alice)                 wan                        site-b (bob)
  eth0 192.0.2.2   ---------  router, AS, NMS  ---------   eth0 198.51.100.2
  cyph0 <VIP from the AS>  ====== encrypted UDP tunnel ======  cyph0 <VIP>
                                  |
                    site-c (gw, an adapter) 203.0.113.2
                    lan0: cam1, cam2, cam3 (stock DHCP clients)

Then an adapter joins: devices that run no client at all (cameras) get
their own identity, VIP and name, and bob reaches each one by its name.
TXT

say "1. Build the underlay: three namespaces, two veth links, routing"
topo_up || fail "underlay setup"
run site-a ping -c 2 -i 0.3 198.51.100.2

say "2. Start the cloud in wan: a CA, the AS, the NMS"
CLOUD_KDF=(--kdf-iterations 2000)	# cheap password hashes: the VM emulates its CPU
# A registration lives 30 s, refreshed every 10 s: the emulated guest on a
# busy host stalls for seconds at times, and 6 s (the tests') would expire.
# shellcheck disable=SC2034 # read by cloud.sh
CLOUD_NMS_LIFETIME=30s CLOUD_NMS_KEEPALIVE=10s
cloud_enrol || fail "CA and the NMS's credential"
cloud_as || fail "AS"
cloud_nms || fail "NMS"
note "AS on TCP 7443, NMS on UDP 7100 (domain cyph.test, VIPs from 10.77.0.0/16, fd00:77::/64)"

say "3. Enrol one node per site at the AS"
for s in "${SITES[@]}"; do
	site "$s"
	echo "$NODE-secret" > "$D/$NODE.pw" && chmod 600 "$D/$NODE.pw"
	run wan cyphonic-admin -c "$D/as.conf" node add "$NODE" --password-file "$D/$NODE.pw" \
		"${CLOUD_KDF[@]}"
done

note "general nodes (devices behind an adapter, step 8) reach nothing until a"
note "policy rule names them; rules go into the certificates issued after them:"
run wan cyphonic-admin -c "$D/as.conf" rule add nodes general
run wan cyphonic-admin -c "$D/as.conf" rule add general nodes

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
ping_name site-a -c 4 -i 0.5 -W 20 bob.cyph.test
note "$(grep -m1 'up: direct' "$D/alice.log" | sed 's/^[^:]*: [a-z]*: //')"

say "6. TCP throughput over the overlay for 5 seconds (iperf3, by name)"
note "(this VM emulates its CPU in software, so absolute numbers are low)"
iperf_server site-b || fail "iperf3 server"
run site-a iperf3 -c bob.cyph.test -t 5 -f m
wait "$IPERF_SERVER_PID"

say "7. What each side shows: the kernel's tunnel and the daemon's view (path)"
for s in "${SITES[@]}"; do
	site "$s"
	run "$NS" cyphctl show cyph0
	echo
done

say "8. An adapter: unmodified devices, each with its own identity and name"
note "A third site, site-c, is an adapter (gw) with a LAN bridge lan0. Three"
note "devices on it run nothing of ours, only Debian's stock DHCP client:"
note "cam1 and cam2 (IPv4, dhclient) and cam3 (IPv6 mode, dhclient -6)."
gw_up || fail "site-c and its LAN"
run wan cyphonic-admin -c "$D/as.conf" adapter add gw --password-file "$D/gw.pw" "${CLOUD_KDF[@]}"
for d in $CAMS; do
	run wan cyphonic-admin -c "$D/as.conf" general-node add gw "$d" --mac "${CAM_MAC[$d]}" \
		--method mac --ip-mode "${CAM_MODE[$d]}"
done
node_conf "$D/gw.conf" gw "$W4A" "[adapter]
enabled = true
lan_interface = lan0
run_dir = $D/gw-run"
note "site-c: $D/gw.conf is a node's configuration plus:"
sed -n '/^\[adapter\]/,$p' "$D/gw.conf" | sed 's/^/     /'
printf '[site-c]# cyphonicd -c %s &\n' "$D/gw.conf"
ip netns exec site-c cyphonicd -c "$D/gw.conf" > "$D/gw.log" 2>&1 &
PIDS+=($!)
wait_until 90 grep -q 'registered at the NMS as node' "$D/gw.log" || fail "gw did not register"
gn_up() { [ "$(metric site-c 9104 'cyphonicd_general_nodes{state="up"}')" = 3 ]; }
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

say "9. bob reaches each device by its own name; each has its own tunnel"
for d in cam1 cam2; do
	ping_name site-b -c 2 -i 0.5 -W 20 "$d.cyph.test"
done
ping_name site-b -6 -c 2 -i 0.5 -W 20 cam3.cyph.test
note "bob's tunnels are to the devices themselves (their own keys and names):"
grep -h 'to cam[0-9].cyph.test up' "$D/bob.log" | sed 's/^.*tunnel /     tunnel /'

say "10. Stop the daemons: devices, addresses and resolver lines go with them"
kill -TERM "${PIDS[@]}"
wait "${PIDS[@]}"
PIDS=()
run site-a cat /etc/resolv.conf
run site-a ip -br link show type cyphonic

say "Demo finished: all steps succeeded."
