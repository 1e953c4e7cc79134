#!/bin/bash
# cyphonicd on a real kernel device with a real cloud: the AS and the NMS
# run in the "wan" namespace (started from configs written here, nodes
# enrolled with cyphonic-admin), cyphonicd runs in site-a. Checks: config
# errors name file:line, the AS login and the stored credential, the
# device it creates, the sockets it hands to the kernel (cyphctl show),
# the VIPs, registration and keepalive at the NMS, /metrics, readiness
# over $NOTIFY_SOCKET, re-registration after an address change (measured),
# SIGHUP reload (good and bad), SIGTERM leaving no device, identity,
# address or socket behind, also on a device it did not create.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib/cloud.sh"
need ip cyphctl cyphonicd cyphonic-as cyphonic-admin cyphonic-nms cyph_node curl openssl
t_begin
D=$(mktemp -d /tmp/cyphonicd-test.XXXXXX)
CYD_PID= AS_PID= NMS_PID= NOTIFY_PID=
cleanup() {
	local p
	for p in $CYD_PID $NOTIFY_PID $NMS_PID $AS_PID; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	topo_down
	rm -rf "$D"
}
trap cleanup EXIT

W=$W4A	# the cloud's address, as site-a sees it (wan's a0)
grep_log() { grep -q -- "$1" "$D/alice.log"; }
dev_port() { jpick "$(show_json "$1")" "\"port$2\":([0-9]+)"; }
no_udp() { ! udp_bound "$@"; }
no_link() { ! ip -n "$1" link show "$2" > /dev/null 2>&1; }
# local_vip4 NS: the IPv4 VIP of the device's first local identity
local_vip4() { jpick "$(show_json "$1")" '"locals":\[\{"vip4":"([0-9.]+)"'; }
vip_is_local() { local_vip4 "$1" | grep -q '^10\.77\.'; }
no_local() { ! local_vip4 "$1" > /dev/null; }
no_vips() { ! ip -n "$1" addr show cyph0 | grep -q 'inet.* 10\.77\.\|fd00:77::'; }
stop_cyd() {
	node_stop $CYD_PID
	rc=$NODE_RC
	CYD_PID=
}
registered_now() {
	alive $CYD_PID &&
		[ "$(metric $NS_A 9104 'cyphonicd_registration_state{state="registered"}')" = 1 ]
}
reloads_are() {
	[ "$(metric $NS_A 9104 'cyphonicd_reloads_total{result="ok"}')" = "$1" ] &&
		[ "$(metric $NS_A 9104 'cyphonicd_reloads_total{result="failed"}')" = "$2" ]
}

topo_up || t_abort "topology"

# ---- the cloud, in wan ----
t_check "admin: CA and nodes enrolled (cyphonic-admin)" cloud_enrol alice
t_check "AS up" cloud_as
t_check "NMS credential from the AS, NMS up" cloud_nms

# ---- configuration ----
conf() { node_conf "$1" alice $W "${2:-}"; }
conf "$D/alice.conf"
t_check "--check accepts the config" cyphonicd -c "$D/alice.conf" --check
conf "$D/bad.conf"
sed -i 's/^port = 7300/port = 70000/' "$D/bad.conf"
out=$(cyphonicd -c "$D/bad.conf" --check 2>&1)
t_check "--check: bad port named as file:line: [node] port" \
	grep -q "$D/bad.conf:11: \[node\] port: 70000 out of range" <<< "$out"
conf "$D/bad.conf"
sed -i "s|^password_file = .*|password_file = $D/missing.pw|" "$D/bad.conf"
out=$(cyphonicd -c "$D/bad.conf" --check 2>&1)
t_check "--check: missing password file at its line (6)" \
	grep -q "$D/bad.conf:6: \[as\] password_file: $D/missing.pw: No such file" <<< "$out"
t_check "--help-config lists every section" bash -c \
	"cyphonicd --help-config | grep -q '^\[as\] address' && cyphonicd --help-config | grep -q '^\[nms\] address' && cyphonicd --help-config | grep -q '^\[node\] state_dir'"

# ---- start: readiness through $NOTIFY_SOCKET ----
$PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", " ") + "\n")
' "$D/notify.sock" "$D/notify.log" &
NOTIFY_PID=$!
wait_until 20 test -S "$D/notify.sock" || t_fail "notify listener"
t0=$(date +%s%N)
NOTIFY_SOCKET=$D/notify.sock nsenter --net=/run/netns/$NS_A -- cyphonicd -c "$D/alice.conf" > "$D/alice.log" 2>&1 &
CYD_PID=$!
t_check "READY=1 sent over \$NOTIFY_SOCKET" wait_until 60 grep -q '^READY=1' "$D/notify.log"
if wait_until 60 grep_log 'registered at the NMS as node'; then
	t_ok "registered at the NMS"
else
	sed 's/^/#   /' "$D/alice.log" | tail -n 30
	t_abort "registered at the NMS"
fi
diag "start to registered: $((($(date +%s%N) - t0) / 1000000)) ms (includes the AS login, TCG)"
t_check "credential stored (node.crt, node.key mode 0600)" bash -c \
	"test -s $D/alice-state/node.crt && test \"\$(stat -c %a $D/alice-state/node.key)\" = 600"
t_check "device cyph0 created (kind cyphonic)" bash -c \
	"ip -n $NS_A -d link show cyph0 | grep -q cyphonic"
t_check "device is up" bash -c "ip -n $NS_A link show cyph0 | grep -q '<.*UP'"
t_expect "kernel holds the IPv4 socket (cyphctl show: port4)" "$(dev_port $NS_A 4)" -eq 7300
t_expect "kernel holds the IPv6 socket (cyphctl show: port6)" "$(dev_port $NS_A 6)" -eq 7300
t_check "VIP4 from the AS on the device (10.77.0.0/16)" bash -c \
	"ip -n $NS_A -4 addr show cyph0 | grep -q 'inet 10\.77\.[0-9]*\.[0-9]*/16'"
t_check "VIP6 from the AS on the device (fd00:77::/64)" bash -c \
	"ip -n $NS_A -6 addr show cyph0 | grep -q 'inet6 fd00:77::[0-9a-f:]*/64'"
t_check "VIP4 is the device's local identity (cyphctl show)" vip_is_local $NS_A
t_check "NMS counts the registration" wait_until 10 metric_ge $NS_W 9102 \
	'cyphonic_nms_requests_total{type="register",result="ok"}' 1
t_check "NMS observed the node's socket (192.0.2.2:7300)" grep_log "observed $A4:7300"
t_check "keepalives answered (NMS: keepalive ok >= 1)" wait_until 15 metric_ge $NS_W 9102 \
	'cyphonic_nms_requests_total{type="keepalive",result="ok"}' 1

# ---- /metrics ----
m=$(nsx $NS_A curl -sf http://127.0.0.1:9104/metrics)
has() { grep -q "$1" <<< "$m"; }
t_check "/metrics: registration state registered = 1" has '^cyphonicd_registration_state{state="registered"} 1$'
t_check "/metrics: tunnels by path exist (0 until tunnels on demand exist)" \
	has '^cyphonicd_tunnels{path="direct"} 0$'
t_check "/metrics: handshakes ok/failed exist" has '^cyphonicd_handshakes_total{result="failed"} 0$'
t_check "/metrics: route-direction latency histogram exists" \
	has '^cyphonicd_route_direction_seconds_count 0$'
t_check "/metrics: credential expiry set" has '^cyphonicd_credential_expiry_seconds [1-9]'

# ---- re-registration after an address change ----
# Replace the node's address: add .3, remove .2 (promoted secondary keeps
# the routes); the NMS must see the new source within a second.
nsx $NS_A sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
t1=$(date +%s%N)
ip -n $NS_A -batch - <<EOB
addr add 192.0.2.3/24 dev eth0
addr del $A4/24 dev eth0
EOB
if wait_until 20 grep_log 're-registered .* observed 192\.0\.2\.3:7300'; then
	wall=$((($(date +%s%N) - t1) / 1000000))
	ms=$(sed -n 's/.*re-registered \([0-9]*\) ms after the address change: observed 192\.0\.2\.3:7300.*/\1/p' "$D/alice.log" | tail -n1)
	t_expect "re-registered after the address change within 1 s (event to ACK: ${ms} ms)" "$ms" -lt 1000
	diag "re-registration: ${ms} ms from the rtnetlink event to REGISTER_ACK; ${wall} ms wall clock incl. polling under TCG"
else
	t_fail "re-registered after the address change" "$(tail -n 5 "$D/alice.log")"
fi
t_check "NMS counts the roam" wait_until 10 metric_ge $NS_W 9102 'cyphonic_nms_roamed_total' 1
t_check "/metrics: re-registration counted" wait_until 5 metric_ge $NS_A 9104 \
	'cyphonicd_reregistrations_total' 1

# ---- SIGHUP ----
conf "$D/alice.conf" && sed -i 's/^level = .*/level = debug/' "$D/alice.conf"
kill -HUP $CYD_PID
t_check "SIGHUP: configuration reloaded" wait_until 10 grep_log 'configuration reloaded'
t_check "SIGHUP: RELOADING=1 then READY=1 notified" wait_until 10 bash -c \
	"grep -A1 '^RELOADING=1' $D/notify.log | grep -q '^READY=1'"
echo "[bogus]" >> "$D/alice.conf"
kill -HUP $CYD_PID
t_check "SIGHUP with a broken file: refused with file:line, old config kept" wait_until 10 \
	grep_log "reload failed, keeping the old configuration: $D/alice.conf:[0-9]*: unknown section \[bogus\]"
t_check "reloads counted ok=1 failed=1" reloads_are 1 1
t_check "still running and registered after the reloads" registered_now

# ---- SIGTERM: nothing left ----
stop_cyd
t_expect "SIGTERM: exit status 0" "$rc" -eq 0
t_check "STOPPING=1 notified" grep -q '^STOPPING=1' "$D/notify.log"
t_check "SIGTERM: the device it created is gone" no_link $NS_A cyph0
t_check "SIGTERM: no UDP socket left on port 7300" no_udp $NS_A 7300
t_check "SIGTERM: deregistered at the NMS" wait_until 10 metric_ge $NS_W 9102 \
	'cyphonic_nms_deregistered_total' 1

# ---- on a device it did not create ----
ip -n $NS_A link add cyph0 type cyphonic || t_fail "pre-created cyph0"
conf "$D/alice.conf"
nsenter --net=/run/netns/$NS_A -- cyphonicd -c "$D/alice.conf" > "$D/alice.log" 2>&1 &
CYD_PID=$!
t_check "restart: the stored credential is used (no AS login)" wait_until 30 \
	grep_log 'using the stored credential'
t_check "restart: registered again" wait_until 30 grep_log 'registered at the NMS as node'
t_expect "existing device given the sockets" "$(dev_port $NS_A 4)" -eq 7300
stop_cyd
t_check "SIGTERM: a device it found stays" ip -n $NS_A link show cyph0
t_expect "SIGTERM: its sockets detached from that device (port4 0)" "$(dev_port $NS_A 4)" -eq 0
t_expect "SIGTERM: and port6 0" "$(dev_port $NS_A 6)" -eq 0
t_check "SIGTERM: its VIPs removed from that device" no_vips $NS_A
t_check "SIGTERM: its local identity removed" no_local $NS_A
t_check "no UDP socket left on port 7300" no_udp $NS_A 7300
[ "$_t_fail" -eq 0 ] || { diag "cyphonicd log:"; sed 's/^/#   /' "$D/alice.log" | tail -n 40; }
t_end
