# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of the tests/cloud/t_*.sh scripts that run their own AS, NMS and
# TRS on loopback and drive them with cyph_node (t_nms.sh, t_redis.sh).
# The sourcing script sets D (its temp dir, where check.log goes) and
# failed=0, and gets:
#
#   check NAME CMD...          TAP ok when CMD succeeds (else failed=1)
#   metric PORT 'NAME{LABELS}' a Prometheus value (0 when absent)
#   metric_ge PORT 'NAME{LABELS}' MIN
#   wait_line FILE REGEX       until a line matches (30 s)
#   wait_port PORT             until /healthz answers (30 s)
#   retry SECONDS CMD...       until CMD succeeds
#   free_ports N               N ports free for TCP and for UDP on 127.0.0.1 and ::1
#   as_setup NODE...           as.conf, CA, the nodes (password pw-NAME), the AS
#                              running (AS, ASH: its ports; AS_PID); certificates
#                              live AS_CERT_LIFETIME (default 1h)
#   node NAME ARGS...          cyph_node authenticated at that AS as NAME
#   nms_conf_base PORT HTTP    an NMS config on 127.0.0.1:PORT with the identity
#                              D/nms.key, D/nms.crt, [ca] D/ca.crt, /metrics on HTTP
#                              (more sections may follow it)
#
# The machine may be loaded (sanitizers, other suites): everything waits
# for events, never a fixed time, with limits that cost nothing when passing.

check() {
	local name=$1; shift
	if "$@" >> "$D/check.log" 2>&1; then tap_ok "$name"
	else tap_fail "$name"; failed=1; tail -n 5 "$D/check.log" | sed 's/^/#   /'; fi
}

metric() {
	curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; f=1 } END { if (!f) print 0 }'
}

metric_ge() {	# metrics are synchronised every 200 ms
	test "$(metric "$1" "$2")" -ge "$3"
}

wait_line() {
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

wait_port() {
	local i
	for i in $(seq 300); do
		curl -sf "http://127.0.0.1:$1/healthz" > /dev/null && return 0
		sleep 0.1
	done
	return 1
}

retry() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		"${@:2}" && return 0
		sleep 0.2
	done
	return 1
}

free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    while True:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p)); u6.bind(("::1", p)); socks += [t, u, u6]; break
        except OSError:
            t.close(); u.close(); u6.close()
print(" ".join(str(s.getsockname()[1]) for s in socks[::3]))' "$1"
}

as_setup() {
	read -r AS ASH < <(free_ports 2)
	cat > "$D/as.conf" <<CONF
[as]
listen = 127.0.0.1:$AS
domain = cyphonic.test
grace_period = 1s
# the nodes are enrolled with 2000 iterations: logins at the default
# padding (600000) took seconds each under ASan on a loaded machine
password_check_cost = 2000
[tls]
cert = $D/as.crt
key = $D/as.key
[ca]
cert = $D/ca.crt
key = $D/ca.key
crl = $D/crl.pem
policy = $D/policy.conf
cert_lifetime = ${AS_CERT_LIFETIME:-1h}
[store]
path = $D/as.db
[vip]
prefix4 = 10.77.0.0/16
prefix6 = fd00:77::/64
[http]
listen = 127.0.0.1:$ASH
CONF
	check "admin: init-ca and add nodes" bash -c "
		$B/cyphonic-admin -c $D/as.conf init-ca &&
		for n in $*; do
			$B/cyphonic-admin -c $D/as.conf node add \$n --password pw-\$n --kdf-iterations 2000 || exit 1
		done"
	$B/cyphonic-as -c "$D/as.conf" > "$D/as.log" 2>&1 &
	AS_PID=$!
	pids+=($AS_PID)
	check "AS up" wait_port "$ASH"
}

nms_conf_base() {
	cat <<CONF
[nms]
listen = 127.0.0.1:$1
[identity]
key = $D/nms.key
cert = $D/nms.crt
[ca]
cert = $D/ca.crt
[http]
listen = 127.0.0.1:$2
CONF
}

node() {
	local n=$1; shift
	"$T/cyph_node" --as 127.0.0.1:$AS --as-ca "$D/ca.crt" --name "$n" --password "pw-$n" \
		--nms-name nms.cyphonic.test "$@"
}

# The common start of a t_*.sh script (t_nmsabuse.sh, t_trsabuse.sh):
#   t_begin NAME TARGET...   B and T (bin and tools of the SAN=1 build unless
#                            CYPH_SAN=0), a temp dir D (KEEP=1 keeps it),
#                            pids (killed on exit), failed=0; builds the
#                            targets (B/..., T/...) or fails the script.
t_begin() {
	local name=$1; shift
	local san=${CYPH_SAN:-1} out=$top/build
	[ "$san" = 1 ] && out=$top/build/san
	B=$out/bin
	T=$out/tools
	D=$(mktemp -d "/tmp/cyph-$name.XXXXXX")
	pids=()
	failed=0
	trap t_cleanup EXIT
	if ! make -s -C "$top/user" SAN="$san" "${@/#/$out/}" > "$D/build.log" 2>&1; then
		tap_fail "cloud: build"; sed 's/^/# /' "$D/build.log" | tail -n 20; tap_plan; exit 1
	fi
}

t_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $D"; else rm -rf "$D"; fi
}
