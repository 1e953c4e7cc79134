#!/bin/bash
# Event-loop benchmark (make bench-evloop), loopback only, about 90 s:
#
#  1. timer re-arm cost with 1k, 10k and 100k timers armed
#     (cyphonic-loadgen timers), BENCH_ROUNDS runs;
#  2. BENCH_CONNS (10000) idle TLS connections held open against a real
#     cyphonic-as ("A"; cyphonic-loadgen idle opens them), beside a second
#     AS of the same build and config that holds none ("B", the
#     reference). Then BENCH_ROUNDS rounds of:
#       - A's CPU and wake-ups over BENCH_IDLE_SECONDS with nothing to do,
#       - authentication latency (one client, back to back, BENCH_SECONDS)
#         on A and on B, in alternating order, and their ratio,
#       - RSS per connection: (RSS of A - RSS of B) / connections held.
#     Interleaving A and B makes the ratio hold while the machine's load
#     drifts; opening the connections once keeps the run short.
#
# Text to stdout and build/bench-evloop.txt, JSON to build/bench-evloop.json.
# About 60 s on an idle 2-core machine, most of it the 10k TLS handshakes
# (which slow down with the machine's load).
# The AS's limits come from its config (max_connections, idle_timeout); the
# open-file limit is raised to the hard limit for the AS and the generator.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh" bench-evloop
LG=$B/cyphonic-loadgen
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-10000}
lat_secs=${BENCH_SECONDS:-2}
idle_secs=${BENCH_IDLE_SECONDS:-3}
step() { [ -z "${BENCH_VERBOSE:-}" ] || echo "bench-evloop: $(date +%T) $*" >&2; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge $((conns + 100)) ] ||
	die "open-file limit $(ulimit -n) < $((conns + 100)); raise the hard limit (ulimit -Hn)"

# ---- 1. timer re-arm cost ----
for r in $(seq "$rounds"); do
	"$LG" timers --seconds 0.5 | sed "s/^RESULT /RESULT round=$r /" >> "$D/results.txt" ||
		die "timers benchmark failed"
done

# ---- 2. idle TLS connections on a real AS ----
base=$((20000 + RANDOM % 30000))
# as_conf NAME PORT: the AS's own limits allow the connections
as_conf() {
	cat <<CONF
[as]
listen = 127.0.0.1:$2
domain = bench.test
workers = 2
max_connections = $((conns + 100))
max_connections_per_address = $((conns + 100))
handshake_timeout = 1m
idle_timeout = 10m
password_check_cost = 1000
[tls]
cert = $D/as.crt
key = $D/as.key
[ca]
cert = $D/ca.crt
key = $D/ca.key
crl = $D/crl.pem
[store]
path = $D/$1.db
[vip]
prefix4 = 10.80.0.0/16
[http]
enabled = false
CONF
}
as_conf a $base > "$D/a.conf"
as_conf b $((base + 1)) > "$D/b.conf"
"$B/cyphonic-admin" -c "$D/a.conf" init-ca > /dev/null || die "init-ca"
"$B/cyphonic-admin" -c "$D/a.conf" node add bench --password pw --kdf-iterations 1000 \
	> /dev/null || die "node add"
cp "$D/a.db" "$D/b.db"	# the same registry, each AS its own file

# utime+stime in clock ticks; voluntary context switches of the loop thread
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
wakeups() { awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$1/status"; }
# established TLS connections on a port, server side
held() { ss -Htn state established "( sport = :$1 )" | wc -l; }
# waits until a command succeeds, at most $1 tenths of a second
wait_for() {
	local n=$1; shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.1
	done
}
listening() { ss -Hltn "sport = :$1" | grep -q .; }
start_as() {	# NAME PORT -> pid in $as_pid
	"$B/cyphonic-as" -c "$D/$1.conf" 2>> "$D/$1.log" & as_pid=$!
	pids+=($as_pid)
	wait_for 100 listening "$2" || die "AS $1 did not start (see its log)"
}
auth() {	# NAME PORT PID ROUND: one RESULT line
	local line
	line=$("$LG" as --as 127.0.0.1:$2 --as-ca "$D/ca.crt" --name bench --password pw \
		--threads 1 --seconds "$lat_secs" --pid "$3") || die "authentication on AS $1 failed"
	echo "RESULT round=$4 ${line#RESULT } as=$1" >> "$D/results.txt"
}

start_as a $base; A=$as_pid
start_as b $((base + 1)); Bp=$as_pid
auth a $base $A 0; auth b $((base + 1)) $Bp 0	# both warm, same work done
step "opening $conns connections to AS a"
"$LG" idle --as 127.0.0.1:$base --as-ca "$D/ca.crt" --conns "$conns" --window 64 \
	--seconds 600 > "$D/idle.out" 2> "$D/idle.err" & idle_pid=$!
pids+=($idle_pid)
wait_for 1200 grep -q READY "$D/idle.out" || { cat "$D/idle.err"; die "opening failed"; }
grep '^RESULT' "$D/idle.out" >> "$D/results.txt"
wait_for 100 test "$(held $base)" -ge "$conns" ||
	die "AS a holds $(held $base) of $conns connections"
step "$(held $base) held"
sleep 1	# the last handshakes' work settles

for r in $(seq "$rounds"); do
	step "round $r"
	c0=$(cpu_ticks $A) w0=$(wakeups $A) t0=$(date +%s.%N)
	sleep "$idle_secs"
	c1=$(cpu_ticks $A) w1=$(wakeups $A) t1=$(date +%s.%N)
	echo "RESULT round=$r test=as_idle_hold held=$(held $base) rss_a_kb=$(rss_kb $A)" \
		"rss_b_kb=$(rss_kb $Bp) cpu_ticks=$((c1 - c0)) hz=$(getconf CLK_TCK)" \
		"wakeups=$((w1 - w0)) secs=$(echo "$t1 - $t0" | bc)" >> "$D/results.txt"
	if [ $((r % 2)) = 1 ]; then
		auth a $base $A $r; auth b $((base + 1)) $Bp $r
	else
		auth b $((base + 1)) $Bp $r; auth a $base $A $r
	fi
done

kill $idle_pid; wait $idle_pid 2>/dev/null
t0=$(date +%s.%N)
closing() { ss -Htn state established state close-wait "( sport = :$base )" | grep -q .; }
wait_for 600 eval '! closing' || die "AS a did not close the connections"
echo "RESULT test=as_idle_close secs=$(echo "$(date +%s.%N) - $t0" | bc)" >> "$D/results.txt"
kill -TERM $A $Bp; wait $A $Bp 2>/dev/null

mkdir -p "$top/build"
python3 "$top/tests/bench/evloop-report.py" "$D/results.txt" "$conns" \
	"$top/build/bench-evloop.json" | tee "$top/build/bench-evloop.txt"
echo "(saved in build/bench-evloop.txt and build/bench-evloop.json)"
