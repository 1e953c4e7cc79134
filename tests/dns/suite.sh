#!/bin/bash
# SPDX-License-Identifier: MIT
# DNS responder integration suite: the library's server (user/lib/dns)
# run by build/san/tools/dns_serve (ASan/UBSan) on loopback with a few
# names, queried with real dig: A, AAAA, case, TTL, NODATA, NXDOMAIN with
# SOA, REFUSED; TCP (two queries on one connection, byte-by-byte writes,
# over-long messages, idle timeout, connection limit); ::1; EDNS and
# BADVERS; truncation and dig's retry over TCP; names resolved late
# (tunnels on demand), failing, timing out or finding the pending list
# full; dnsmasq forwarding only the domain with the drop-in
# scripts/dns-resolver.sh writes (and that script's resolvectl commands);
# malformed datagrams; the per-source rate limit; the counters; and a
# clean exit without sanitizer reports.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
echo "TAP version 13"

FAILS=0
eval "orig_$(declare -f tap_fail)"
tap_fail() { FAILS=$((FAILS + 1)); orig_tap_fail "$@"; }
check() {	# check NAME CMD... : ok when CMD succeeds
	local name=$1; shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name" "failed: $*"; fi
}
# { CONDITION; }; result $? NAME : ok when the condition (an && list) held
result() {
	if [ "$1" = 0 ]; then tap_ok "$2"; else tap_fail "$2"; fi
}

tool=$top/build/san/tools/dns_serve
mkdir -p "$top/build"
if ! make -s -C "$top/user" SAN=1 "$tool" > "$top/build/dns-build.log" 2>&1; then
	tap_fail "dns: build dns_serve (SAN=1)" "see build/dns-build.log"
	tail -n 30 "$top/build/dns-build.log" | sed 's/^/# /'
	tap_plan
	exit 1
fi
if ! command -v dig > /dev/null; then
	tap_fail "dns: dig is installed (bind9-dnsutils, scripts/packages.txt)"
	tap_plan
	exit 1
fi

T=$(mktemp -d /tmp/cyph-dns.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2> /dev/null; done
	if [ -n "${CYPH_KEEP:-}" ]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

# start NAME ARGS...: runs dns_serve, waits (bounded) for its port file;
# sets PORT_<NAME> and PID_<NAME>.
start() {
	local name=$1; shift
	"$tool" --domain cyph.test --port-file "$T/$name.port" --stats-file "$T/$name.stats" \
		"$@" 2> "$T/$name.err" &
	local pid=$! i
	pids+=("$pid")
	for ((i = 0; i < 300; i++)); do
		[ -s "$T/$name.port" ] && break
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.1
	done
	if [ ! -s "$T/$name.port" ]; then
		tap_fail "dns: server $name started" "$(head -n 5 "$T/$name.err")"
		return 1
	fi
	printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
	printf -v "PID_$name" '%s' "$pid"
	tap_ok "dns: server $name serves on 127.0.0.1:$(cat "$T/$name.port")"
}

# stat NAME KEY: the counter KEY of server NAME, fresh (SIGUSR1, bounded wait)
stat() {
	local pidvar=PID_$1 i
	rm -f "$T/$1.stats"
	kill -USR1 "${!pidvar}"
	for ((i = 0; i < 300; i++)); do
		[ -s "$T/$1.stats" ] && break
		sleep 0.1
	done
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/$1.stats"
}

# q SERVER DIG-ARGS...: dig at SERVER's port; generous timeout, one try
q() {
	local portvar=PORT_$1 at=127.0.0.1
	[ "$1" = v6 ] && at=::1
	shift
	dig @"$at" -p "${!portvar}" +time=10 +tries=1 "$@" 2>&1
}
has() { grep -qE -- "$1" <<< "$2"; }

main_args=(alice.cyph.test=10.77.0.5,fd00:77::5 bob.cyph.test=10.77.0.6/120
	v6only.cyph.test=fd00:77::7 --late late.cyph.test=10.77.0.8,fd00:77::8
	--miss-delay 200 --pending-timeout 1000)
start main "${main_args[@]}" || { tap_plan; exit 1; }
start strict --no-miss alice.cyph.test=10.77.0.5 || { tap_plan; exit 1; }
start small --udp-max 64 --no-miss \
	a-rather-long-label-to-fill-the-packet.alice.cyph.test=10.77.0.9 || { tap_plan; exit 1; }
start limited --rate 5 --burst 5 --no-miss alice.cyph.test=10.77.0.5 || { tap_plan; exit 1; }
start v6 --addr ::1 --tcp-idle 1000 --no-miss alice.cyph.test=10.77.0.5 || { tap_plan; exit 1; }
start tcpmax --max-tcp 4 --no-miss alice.cyph.test=10.77.0.5 || { tap_plan; exit 1; }
start tiny --max-pending 1 --pending-timeout 2000 || { tap_plan; exit 1; }

# --- answers ---
out=$(q main alice.cyph.test A +short)
check "dns: A alice.cyph.test -> 10.77.0.5" [ "$out" = 10.77.0.5 ]
out=$(q main alice.cyph.test AAAA +short)
check "dns: AAAA alice.cyph.test -> fd00:77::5" [ "$out" = fd00:77::5 ]
out=$(q main ALICE.Cyph.TEST A)
check "dns: names match in any case, the asker's case comes back" \
	has "^ALICE\.Cyph\.TEST\.[[:space:]]+60[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.77\.0\.5" "$out"
check "dns: answers are authoritative (aa), no recursion (no ra)" \
	has "flags: qr aa rd;" "$out"
out=$(q main bob.cyph.test A +noall +answer)
check "dns: the entry's TTL (120) is the answer's" has "^bob\.cyph\.test\.[[:space:]]+120[[:space:]]" "$out"
out=$(q main v6only.cyph.test A)
{ has "status: NOERROR.*" "$out" && has "ANSWER: 0, AUTHORITY: 1" "$out"; }; result $? "dns: A of a name with only an AAAA: NOERROR, no answer, SOA in authority"
out=$(q strict nobody.cyph.test A)
check "dns: unknown name in the domain: NXDOMAIN" has "status: NXDOMAIN" "$out"
check "dns: NXDOMAIN carries the zone's SOA (negative TTL 30)" \
	has "^cyph\.test\.[[:space:]]+30[[:space:]]+IN[[:space:]]+SOA" "$out"
out=$(q strict example.com A)
check "dns: a name outside the domain: REFUSED" has "status: REFUSED" "$out"
out=$(q strict evilcyph.test A)
check "dns: evilcyph.test is outside cyph.test: REFUSED" has "status: REFUSED" "$out"

# --- TCP ---
out=$(q main alice.cyph.test A +tcp)
{ has "10\.77\.0\.5" "$out" && has "\(TCP\)" "$out"; }; result $? "dns: TCP answer"
before=$(stat main tcp_accepted)
out=$(q main +tcp +keepopen alice.cyph.test A bob.cyph.test A +short)
after=$(stat main tcp_accepted)
{ [ "$(echo "$out" | paste -sd' ')" = "10.77.0.5 10.77.0.6" ] && [ $((after - before)) = 1 ]; }; result $? "dns: two queries on one TCP connection (RFC 7766): both answered, one connection"

# --- TCP limits, and IPv6 loopback (server v6 on [::1], idle 1 s) ---
out=$(q v6 alice.cyph.test A +short; q v6 alice.cyph.test A +tcp +short)
check "dns: on ::1 over UDP and TCP" [ "$(echo "$out" | paste -sd' ')" = "10.77.0.5 10.77.0.5" ]
tcp_py() {	# tcp_py MODE HOST PORT: prints what happened
	python3 - "$@" << 'PY'
import socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
q = bytes.fromhex("abcd01000001000000000000") + b"\x05alice\x04cyph\x04test\x00\x00\x01\x00\x01"
def conn():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect((host, port))
    return s
def closed_by_server(s):
    try:
        return s.recv(100) == b""
    except (socket.timeout, ConnectionResetError):
        return False
if mode == "slow":              # one byte per write: partial reads add up
    s = conn()
    for b in len(q).to_bytes(2, "big") + q:
        s.send(bytes([b]))
        time.sleep(0.005)
    n = int.from_bytes(s.recv(2), "big")
    r = s.recv(n)
    print("answer" if r[:2] == q[:2] and r[7] == 1 else "wrong")
elif mode == "long":            # a length prefix over the 4096-byte limit
    s = conn()
    s.send((5000).to_bytes(2, "big") + b"x" * 100)
    print("closed" if closed_by_server(s) else "open")
elif mode == "idle":            # nothing sent: closed after the idle timeout
    s = conn()
    print("closed" if closed_by_server(s) else "open")
elif mode == "max":             # 4 open and answered, the 5th closed at once
    keep = []
    for i in range(4):
        s = conn()
        s.send(len(q).to_bytes(2, "big") + q)
        s.recv(2)
        keep.append(s)
    print("closed" if closed_by_server(conn()) else "open")
PY
}
check "dns: TCP query written one byte at a time is answered" [ "$(tcp_py slow ::1 "$PORT_v6")" = answer ]
check "dns: TCP length prefix over 4096 bytes: connection closed" [ "$(tcp_py long ::1 "$PORT_v6")" = closed ]
check "dns: idle TCP connection closed by the server (idle 1 s, waited up to 15 s)" \
	[ "$(tcp_py idle ::1 "$PORT_v6")" = closed ]
{ [ "$(stat v6 tcp_closed_idle)" -ge 1 ] && [ "$(stat v6 malformed)" = 1 ]; }
result $? "dns: counted: idle close, over-long TCP message as malformed"
check "dns: max_tcp 4: a fifth connection is closed at once" [ "$(tcp_py max 127.0.0.1 "$PORT_tcpmax")" = closed ]
check "dns: ... and counted as refused" [ "$(stat tcpmax tcp_refused)" = 1 ]

# --- EDNS ---
out=$(q main alice.cyph.test A +bufsize=4096)
check "dns: EDNS query: OPT back, version 0, our UDP size 1232" has "EDNS: version: 0, flags:; udp: 1232" "$out"
out=$(q main alice.cyph.test A +noedns)
check "dns: no EDNS in, none out" bash -c '! grep -q "OPT PSEUDOSECTION" <<< "$1"' _ "$out"
out=$(q main alice.cyph.test A +edns=1 +noednsneg)
check "dns: EDNS version 1: BADVERS" has "status: BADVERS" "$out"

# --- truncation ---
name=a-rather-long-label-to-fill-the-packet.alice.cyph.test
out=$(q small $name A +noedns +ignore)
{ has "flags: qr aa tc rd;" "$out" && has "ANSWER: 0" "$out"; }; result $? "dns: answer over the UDP limit: TC set, no answer"
out=$(q small $name A +noedns)
{ has "Truncated, retrying in TCP mode" "$out" && has "10\.77\.0\.9" "$out"; }; result $? "dns: dig retries a truncated answer over TCP and gets it"

# --- names not in the table (tunnels on demand) ---
out=$(q main late.cyph.test A +short)
check "dns: a name looked up after the query (200 ms later) is answered" [ "$out" = 10.77.0.8 ]
out=$(q main late.cyph.test AAAA +short)
check "dns: ... and is in the table from then on" [ "$out" = fd00:77::8 ]
out=$(q main nobody.cyph.test A)
check "dns: a lookup that finds nothing: NXDOMAIN" has "status: NXDOMAIN" "$out"
out=$(q main hang.cyph.test A)
check "dns: a lookup that never finishes: SERVFAIL at the pending timeout" has "status: SERVFAIL" "$out"
{ [ "$(stat main misses)" = 3 ] && [ "$(stat main pending_timeouts)" = 1 ] && [ "$(stat main pending)" = 0 ]; }; result $? "dns: counters: 3 lookups asked, 1 timed out, none waiting"

out=$(q main fail.cyph.test A)
check "dns: a lookup reported failed: SERVFAIL" has "status: SERVFAIL" "$out"
check "dns: ... before the pending timeout (still 1 timeout counted)" [ "$(stat main pending_timeouts)" = 1 ]
# pending list of 1: hang1 waits (then times out), hang2 finds no room
replies=$(python3 - "$PORT_tiny" << 'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(15)
dst = ("127.0.0.1", int(sys.argv[1]))
for i, name in enumerate([b"hang1", b"hang2"]):
    s.sendto(bytes([0, i + 1]) + bytes.fromhex("01000001000000000000") + bytes([len(name)]) +
             name + b"\x04cyph\x04test\x00\x00\x01\x00\x01", dst)
    time.sleep(0.2)
got = []
for _ in range(2):
    d, _ = s.recvfrom(4096)
    got.append("%d:%d" % (d[1], d[3] & 15))
print(" ".join(got))
PY
)
check "dns: pending list full: the second query SERVFAIL at once, the first at its timeout" \
	[ "$replies" = "2:2 1:2" ]
{ [ "$(stat tiny pending_full)" = 1 ] && [ "$(stat tiny pending_timeouts)" = 1 ]; }
result $? "dns: counted: pending full 1, timeout 1"

# --- the documented dnsmasq split set-up (scripts/dns-resolver.sh) ---
if command -v dnsmasq > /dev/null; then
	"$top/scripts/dns-resolver.sh" dnsmasq-conf cyph.test 127.0.0.1 "$PORT_main" > "$T/dnsmasq.conf"
	PORT_dnsmasq=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	# no upstream at all: whatever is not in cyph.test stays unanswered by us
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file="$T/dnsmasq.conf" \
		--listen-address=127.0.0.1 --bind-interfaces --port="$PORT_dnsmasq" \
		--pid-file="$T/dnsmasq.pid" --log-facility=- 2> "$T/dnsmasq.err" &
	PID_dnsmasq=$!
	pids+=("$PID_dnsmasq")
	for ((i = 0; i < 100; i++)); do
		q dnsmasq cyph.test SOA > /dev/null && break
		sleep 0.1
	done
	before=$(stat main queries)
	out=$(q dnsmasq alice.cyph.test A +short)
	check "dns: through dnsmasq with the drop-in dns-resolver.sh writes: A alice.cyph.test" \
		[ "$out" = 10.77.0.5 ]
	out=$(q dnsmasq peer2.cyph.test A)
	check "dns: through dnsmasq: unknown name NXDOMAIN (lookup asked, nothing found)" \
		has "status: NXDOMAIN" "$out"
	out=$(q dnsmasq late2.example A)
	after=$(stat main queries)
	{ has "status: REFUSED" "$out" && [ $((after - before)) -ge 2 ] && [ $((after - before)) -le 4 ]; }
	result $? "dns: dnsmasq sends only cyph.test names to the responder ($((after - before)) queries reached it)"
else
	tap_fail "dns: dnsmasq is installed (dnsmasq-base, scripts/packages.txt)"
fi
RESOLVER=resolved "$top/scripts/dns-resolver.sh" -n up cyph0 cyph.test 127.0.0.1 5354 > "$T/resolved.cmds"
{ grep -qx "resolvectl dns cyph0 127.0.0.1:5354" "$T/resolved.cmds" &&
	grep -qx "resolvectl domain cyph0 ~cyph.test" "$T/resolved.cmds" &&
	grep -qx "resolvectl default-route cyph0 false" "$T/resolved.cmds"; }
result $? "dns: dns-resolver.sh for systemd-resolved: per-link server, ~domain, no default route"
! "$top/scripts/dns-resolver.sh" -n up cyph0 cyph.test 192.0.2.1 53 2> /dev/null
result $? "dns: dns-resolver.sh refuses a responder address that is not loopback"

# --- malformed input: raw datagrams ---
port=$PORT_strict
replies=$(python3 - "$port" << 'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
dst = ("127.0.0.1", int(sys.argv[1]))
q = bytes.fromhex("abcd01000001000000000000") + b"\x05alice\x04cyph\x04test\x00\x00\x01\x00\x01"
msgs = [b"\x01\x02\x03\x04\x05",               # shorter than a header
        bytes([q[0], q[1], q[2] | 0x80]) + q[3:],  # a response (QR set)
        bytes.fromhex("123401000000000000000000"),  # no question
        q[:-3]]                                 # truncated question
for m in msgs:
    s.sendto(m, dst)
got = []
try:
    while True:
        d, _ = s.recvfrom(4096)
        got.append("%04x:%d" % (int.from_bytes(d[:2], "big"), d[3] & 15))
except socket.timeout:
    pass
print(" ".join(sorted(got)))
PY
)
check "dns: short datagram and response dropped; no question and broken question: FORMERR" \
	[ "$replies" = "1234:1 abcd:1" ]
check "dns: all four counted as malformed" [ "$(stat strict malformed)" = 4 ]

# --- per-source rate limit: 5/s, burst 5 ---
replies=$(python3 - "$PORT_limited" << 'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
dst = ("127.0.0.1", int(sys.argv[1]))
for i in range(30):
    s.sendto(i.to_bytes(2, "big") + bytes.fromhex("01000001000000000000") +
             b"\x05alice\x04cyph\x04test\x00\x00\x01\x00\x01", dst)
n = 0
try:
    while True:
        s.recvfrom(4096)
        n += 1
except socket.timeout:
    pass
print(n)
PY
)
limited=$(stat limited ratelimited)
# 5 at once, plus what refills while 30 datagrams are sent (1 per 200 ms)
{ [ "$replies" -ge 5 ] && [ "$replies" -le 15 ] && [ $((replies + limited)) = 30 ]; }; result $? "dns: rate limit: 30 queries at once, $replies answered, $limited dropped"

# --- counters ---
nx=$(stat main answers_nxdomain) sf=$(stat main answers_servfail)
bv=$(stat main answers_badvers) ne=$(stat main answers_noerror)
# nxdomain: nobody.cyph.test directly and peer2.cyph.test through dnsmasq;
# servfail: hang.cyph.test (timeout) and fail.cyph.test (lookup failed)
{ [ "$nx" = 2 ] && [ "$sf" = 2 ] && [ "$bv" = 1 ] && [ "$ne" -ge 10 ]; }
result $? "dns: counters of main: $(stat main queries) queries; noerror $ne, nxdomain $nx, servfail $sf, badvers $bv"
nx=$(stat strict answers_nxdomain) rf=$(stat strict answers_refused) fe=$(stat strict answers_formerr)
{ [ "$nx" = 1 ] && [ "$rf" = 2 ] && [ "$fe" = 2 ]; }
result $? "dns: counters of strict: nxdomain $nx, refused $rf, formerr $fe"
check "dns: truncated answers counted" [ "$(stat small truncated)" -ge 2 ]

# --- clean exit ---
for s in main strict small limited v6 tcpmax tiny; do
	pidvar=PID_$s
	kill -TERM "${!pidvar}"
	wait "${!pidvar}"
	rc=$?
	if [ "$rc" = 0 ] && ! grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$T/$s.err"; then
		tap_ok "dns: server $s exits 0 on SIGTERM, no sanitizer report"
	else
		tap_fail "dns: server $s exits 0 on SIGTERM, no sanitizer report" "rc $rc"
		head -n 20 "$T/$s.err" | sed 's/^/# /'
	fi
done
if [ -n "${PID_dnsmasq:-}" ]; then
	kill -TERM "$PID_dnsmasq"
	wait "$PID_dnsmasq"
fi
pids=()	# all ended and waited for: nothing left to kill
tap_plan
[ "$FAILS" = 0 ]
