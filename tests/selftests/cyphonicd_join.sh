#!/bin/bash
# README.md "Join a host to the overlay", followed as written (issue 9
# points 8, 5 and 6): the blocks marked <!-- join: NAME --> are taken from
# the README and run unchanged but for the two values a reader edits
# (NODE, AS_HOST), and the password hash cost: `node add` gets
# --kdf-iterations 2000, since the default 600000 PBKDF2 rounds take the
# emulated guest longer to check than the node's 10 s AS timeout. The cloud (AS + NMS, domain cyph.example.net as in the
# README) runs in wan; each site namespace plays a host: `ip netns exec`
# gives it its own /etc/cyphonic and /etc/resolv.conf (files under
# /etc/netns/NS/), and a tmpfs on /var/lib/cyphonic keeps the two nodes'
# credentials apart. Then:
#  - the README's check on alice, `ping -c 3 bob.cyph.example.net` with
#    the stock ping through glibc's resolver, answers: cyphonicd put its
#    nameserver first in the namespace's resolv.conf (the resolv.conf
#    set-up: no systemd-resolved runs in the guest);
#  - `cyphctl show` (and --json) has the daemon's view of the tunnel on
#    both sides: path direct, the peer's FQDN, role, the last handshake,
#    route direction and handshake times;
#  - SIGTERM: resolv.conf is as before, the state file is gone;
#  - without a daemon cyphctl says so; a state file left by a dead
#    daemon is called stale.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
need ip cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyph_node curl ping openssl jq
t_begin
README=$(cd "$(dirname "$0")/../.." && pwd)/README.md
D=$(mktemp -d /tmp/cyphonicd-join.XXXXXX)
CLOUD_DOMAIN=cyph.example.net
ETC_MADE=
cleanup() {
	local ns p
	for ns in $NS_A $NS_B; do
		for p in $(daemon_pid "$ns"); do kill "$p" 2> /dev/null; done
	done
	[ -n "${AS_PID:-}" ] && kill "$AS_PID" 2> /dev/null
	[ -n "${NMS_PID:-}" ] && kill "$NMS_PID" 2> /dev/null
	wait 2> /dev/null
	topo_down
	rm -rf /etc/netns/$NS_A /etc/netns/$NS_B /etc/netns/$NS_W
	[ -n "$ETC_MADE" ] && rmdir /etc/cyphonic 2> /dev/null
	rm -rf "$D"
}
trap cleanup EXIT

# block NAME: the code block after <!-- join: NAME --> in the README
block() {
	awk -v m="<!-- join: $1 -->" '
		$0 == m { found = 1; next }
		found == 1 && /^```/ { found = 2; next }
		found == 2 && /^```/ { exit }
		found == 2 { print }' "$README"
}
# daemon_pid NS: cyphonicd's pid in NS
daemon_pid() {
	local p
	for p in $(ip netns pids "$1" 2> /dev/null); do
		[ "$(cat /proc/"$p"/comm 2> /dev/null)" = cyphonicd ] && echo "$p"
	done
}
log_has() { grep -q -- "$2" "$D/$1.log"; }
registered() { wait_until 120 log_has "$1" 'registered at the NMS as node'; }
show_json() { ip netns exec "$1" cyphctl show cyph0 --json; }
# tj NS FILTER: a field of the first tunnel's daemon view (jq)
tj() { show_json "$1" | jq -r ".devices[0].tunnels[0].daemon | $2"; }
statefile() { ls /run/cyphonic/cyph0."$(ip netns exec "$1" stat -L -c %i /proc/self/ns/net)".state 2> /dev/null; }

for n in as node start check; do
	[ -n "$(block $n)" ] || t_abort "README: no <!-- join: $n --> block"
done
t_ok "README: the four join blocks found"

topo_up || t_abort "topology"
t_check "cloud: CA and the NMS's principal (domain $CLOUD_DOMAIN)" cloud_enrol
t_check "cloud: AS up" cloud_as
t_check "cloud: NMS up" cloud_nms

# The hosts: each namespace's own /etc/cyphonic and /etc/resolv.conf.
[ -d /etc/cyphonic ] || { mkdir /etc/cyphonic && ETC_MADE=1; }
mkdir -p /var/lib/cyphonic /etc/netns/$NS_W/cyphonic
cp "$D/as.conf" /etc/netns/$NS_W/cyphonic/as.conf
for ns in $NS_A $NS_B; do
	mkdir -p /etc/netns/$ns/cyphonic
	# the host's own nameserver, as DHCP would have written it
	printf 'search example.org\nnameserver %s\n' "$W4A" > /etc/netns/$ns/resolv.conf
	cp /etc/netns/$ns/resolv.conf "$D/$ns.resolv.orig"
done

# ---- 1. on the AS host ----
mkdir -p "$D/as-host"
for n in alice bob; do
	t_check "README step 1 (AS host): enrol $n" ip netns exec $NS_W bash -ec \
		"cd '$D/as-host'; $(block as | sed "s/^NODE=.*/NODE=$n/; s/--password-file \$NODE.pw\$/& ${CLOUD_KDF[*]}/")"
	mkdir -p "$D/$n-host"
	cp "$D/as-host/$n.pw" "$D/$n-host/" && cp "$D/ca.crt" "$D/$n-host/ca.crt"
done

# ---- 2. and 3. on each node ----
node_up() {
	local ns=$1 n=$2 as=$3
	t_check "README step 2 ($n): configuration written, --check passes" ip netns exec "$ns" bash -ec \
		"mount -t tmpfs tmpfs /var/lib/cyphonic; cd '$D/$n-host'
		$(block node | sed "s/^NODE=.*/NODE=$n/; s/^AS_HOST=[^ ]*/AS_HOST=$as/")"
	# The credential tmpfs and the foreground daemon share one mount namespace.
	ip netns exec "$ns" bash -c "mount -t tmpfs tmpfs /var/lib/cyphonic; cd '$D/$n-host'
		$(block start)" > "$D/$n.log" 2>&1 &
}
node_up $NS_A alice $W4A
node_up $NS_B bob $W4B
for n in alice bob; do
	if registered $n; then
		t_ok "README step 3: $n's cyphonicd registered at the NMS"
	else
		t_fail "README step 3: $n's cyphonicd registered at the NMS" "$(tail -n 20 "$D/$n.log")"
	fi
done
t_check "alice's resolv.conf: cyphonicd's nameserver first" \
	grep -A1 '^# added by cyphonicd' /etc/netns/$NS_A/resolv.conf
diag "$(grep -m1 'first nameserver' "$D/alice.log" | sed 's/^[^:]*: [a-z]*: //')"

# ---- 4. the README's check, on alice ----
out=$(ip netns exec $NS_A bash -c "$(block check)" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q ' 0% packet loss' <<< "$out"; then
	t_ok "README step 4: ping -c 3 bob.$CLOUD_DOMAIN (stock ping, glibc resolver) answers 3/3"
else
	t_fail "README step 4: ping bob.$CLOUD_DOMAIN answers" "status $rc: $(tr '\n' ' ' <<< "$out" | cut -c1-600)"
fi
diag "$(grep -m1 'PING' <<< "$out")"
t_check "README step 4: cyphctl show has the path and the peer" \
	grep -q "path: direct, peer bob.$CLOUD_DOMAIN (we initiated)" <<< "$out"
t_check "cyphctl show: the daemon and its node" grep -q "daemon: cyphonicd (pid [0-9]*), node alice.$CLOUD_DOMAIN" <<< "$out"
t_check "cyphctl show: last handshake with both durations" \
	grep -Eq "last handshake: .* ago, took [0-9]+ ms; route direction took [0-9]+ ms; rekeys 0" <<< "$out"
diag "$(grep -E 'path:|last handshake:' <<< "$out" | sed 's/^ *//' | tr '\n' ';')"
t_expect "--json (alice): path" "$(tj $NS_A .path)" = direct
t_expect "--json (alice): peer, role" "$(tj $NS_A '.peer + " " + .role')" = "bob.$CLOUD_DOMAIN initiator"
t_check "--json (alice): route_direction_ms and handshake_ms are numbers" \
	test "$(tj $NS_A '[.route_direction_ms, .handshake_ms] | map(type) | join(",")')" = number,number
t_expect "--json (bob): responder, no route of its own" "$(tj $NS_B '.role + " " + (.route_direction_ms | tostring)')" = "responder null"
t_expect "--json: device daemon state" "$(show_json $NS_A | jq -r '.devices[0].daemon.state')" = running
sf=$(statefile $NS_A)
t_check "state file /run/cyphonic/cyph0.NETNS.state exists" test -n "$sf"

# ---- stop: everything taken back ----
pa=$(daemon_pid $NS_A) pb=$(daemon_pid $NS_B)
kill -TERM $pa $pb 2> /dev/null
gone() { [ -z "$(daemon_pid $NS_A)$(daemon_pid $NS_B)" ]; }
t_check "SIGTERM: both daemons exit" wait_until 30 gone
t_check "alice's resolv.conf as before" cmp -s /etc/netns/$NS_A/resolv.conf "$D/$NS_A.resolv.orig"
t_check "bob's resolv.conf as before" cmp -s /etc/netns/$NS_B/resolv.conf "$D/$NS_B.resolv.orig"
t_check "state file removed" test ! -e "$sf"

# ---- cyphctl without a daemon ----
ip -n $NS_A link add cyph0 type cyphonic
out=$(ip netns exec $NS_A cyphctl show cyph0 2>&1)
t_check "no daemon: cyphctl show says so" grep -q 'daemon: none (no cyphonicd manages this device)' <<< "$out"
t_expect "no daemon: --json daemon state none" "$(show_json $NS_A | jq -r '.devices[0].daemon.state')" = none
ifx=$(ip -n $NS_A -o link show cyph0 | cut -d: -f1)
sf=/run/cyphonic/cyph0.$(ip netns exec $NS_A stat -L -c %i /proc/self/ns/net).state
mkdir -p /run/cyphonic
bash -c 'exit 0' &
dead=$!
wait $dead
printf 'cyphonicd 1 pid %s ifindex %s device cyph0 node alice.x\n' "$dead" "$ifx" > "$sf"
t_check "a dead daemon's state file: stale" bash -c \
	"ip netns exec $NS_A cyphctl show cyph0 | grep -q 'daemon: not running (stale state file'"
rm -f "$sf"
ip -n $NS_A link del cyph0
[ "$_t_fail" -eq 0 ] || for n in alice bob; do
	diag "$n log:"
	grep -v 'debug: ' "$D/$n.log" | sed 's/^/#   /' | tail -n 40
done
t_end
