#!/bin/bash
# SPDX-License-Identifier: MIT
# The cyphonic demo, run inside the test VM by tests/demo/demo.sh.
# Narrates every step; exits non-zero as soon as one fails.
. "$(dirname "$0")/../selftests/lib.sh"
trap topo_down EXIT

say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
# run NS CMD...: show the command as typed in that namespace, then run it
run() {
	local ns=$1
	shift
	local shown="$*"
	# Keys are shortened on screen (the command gets them in full).
	[ -n "${KEY_AB:-}" ] && shown=${shown//$KEY_AB/${KEY_AB:0:8}...}
	[ -n "${KEY_BA:-}" ] && shown=${shown//$KEY_BA/${KEY_BA:0:8}...}
	printf '[%s]# %s\n' "$ns" "$shown"
	if [ "$ns" = host ]; then
		"$@"
	else
		ip netns exec "$ns" "$@"
	fi
	local rc=$?
	if [ $rc -ne 0 ]; then
		printf '\nDEMO FAILED: "%s" exited with status %d\n' "$*" "$rc"
		exit 1
	fi
}

cat <<'TXT'
cyphonic demo
=============
Two sites, each a network namespace with its own cyphonic device, talk
through a router namespace ("wan"). Everything runs inside this VM.

  site-a                         wan                          site-b
  eth0 192.0.2.2   ---------  router  ---------   eth0 198.51.100.2
  cyph0 10.99.0.1  ====== encrypted UDP tunnel ======  cyph0 10.99.0.2
        fd00:99::1                                        fd00:99::2

The kernel module does the data plane (encryption, replay protection,
routing by virtual IP); cyphctl configures it over generic netlink.
TXT

say "1. Build the underlay: three namespaces, two veth links, routing"
topo_up || { echo "DEMO FAILED: underlay setup"; exit 1; }
note "site-a reaches site-b through the router, unencrypted:"
run site-a ping -c 2 -i 0.3 198.51.100.2

say "2. Create a cyphonic device in each site (the module loads by itself)"
for side in a b; do
	ns=site-$side
	port=$PORT_A v4=$VA4 v6=$VA6
	[ $side = b ] && port=$PORT_B v4=$VB4 v6=$VB6
	run $ns ip link add cyph0 type cyphonic
	run $ns cyphctl set cyph0 listen-port $port
	run $ns cyphctl local add cyph0 vip4 $v4 vip6 $v6
	run $ns ip addr add $v4/24 dev cyph0
	run $ns ip addr add $v6/64 dev cyph0 nodad
	run $ns ip link set cyph0 up
done

say "3. Generate one 256-bit key per direction"
KEY_AB=$(cyphctl genkey) && KEY_BA=$(cyphctl genkey) || { echo "DEMO FAILED: genkey"; exit 1; }
note "key A->B: ${KEY_AB:0:16}...   key B->A: ${KEY_BA:0:16}...  (cyphctl genkey)"
note "A's tx-key is B's rx-key and vice versa."

say "4. Configure the static tunnel on both sides"
run site-a cyphctl tunnel add cyph0 index 1 peer-index 2 \
	local4 $VA4 remote4 $VB4 local6 $VA6 remote6 $VB6 \
	endpoint $B4:$PORT_B key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA"
run site-b cyphctl tunnel add cyph0 index 2 peer-index 1 \
	local4 $VB4 remote4 $VA4 local6 $VB6 remote6 $VA6 \
	endpoint $A4:$PORT_A key-id 0 tx-key "$KEY_BA" rx-key "$KEY_AB"

say "5. Ping across the tunnel (IPv4 and IPv6 inside, IPv4 outside)"
run site-a ping -c 3 -i 0.3 $VB4
run site-a ping -6 -c 3 -i 0.3 $VB6

say "6. TCP throughput through the tunnel for 5 seconds (iperf3)"
note "(this VM emulates its CPU in software, so absolute numbers are low)"
iperf_server site-b || { echo "DEMO FAILED: iperf3 server"; exit 1; }
run site-a iperf3 -c $VB4 -t 5 -f m
wait "$IPERF_SERVER_PID"

say "7. What each side's kernel reports"
run site-a cyphctl show
echo
run site-b cyphctl show

say "Demo finished: all steps succeeded."
