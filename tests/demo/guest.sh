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
SITES=("alice:$NS_A:$W4A" "bob:$NS_B:$W4B")
PIDS=()
finish() {
	local p
	for p in "${PIDS[@]}" ${AS_PID:-} ${NMS_PID:-}; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	topo_down
	rm -rf "$D" /etc/netns/$NS_A /etc/netns/$NS_B
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
site() { IFS=: read -r NODE NS CLOUD <<< "$1"; }
# site_up NS: the site's own view of /etc: its resolv.conf (cyphonicd
# edits it), as a separate host would have
site_up() {
	mkdir -p "/etc/netns/$1"
	printf 'nameserver %s\n' "$W4A" > "/etc/netns/$1/resolv.conf"
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
TXT

say "1. Build the underlay: three namespaces, two veth links, routing"
topo_up || fail "underlay setup"
run site-a ping -c 2 -i 0.3 198.51.100.2

say "2. Start the cloud in wan: a CA, the AS, the NMS"
CLOUD_KDF=(--kdf-iterations 2000)	# cheap password hashes: the VM emulates its CPU
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
run site-a ping -c 4 -i 0.5 -W 20 bob.cyph.test
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

say "8. Stop the daemons: devices, addresses and resolver lines go with them"
kill -TERM "${PIDS[@]}"
wait "${PIDS[@]}"
PIDS=()
run site-a cat /etc/resolv.conf
run site-a ip -br link show type cyphonic

say "Demo finished: all steps succeeded."
