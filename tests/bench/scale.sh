#!/bin/bash
# SPDX-License-Identifier: MIT
# Scale-out load test (make bench-scale, issue 11 point 7; docs/scale-out.md
# "Load test"). In network namespaces on the host, as tests/ecmp: an edge
# router (BIRD 2, ECMP hashed on the 5-tuple), replica hosts r1..r4 each
# with a BIRD speaker and cyphonic-as, cyphonic-nms and cyphonic-trs bound
# to the service VIPs, one Redis (NMS/TRS state) and one PostgreSQL (the
# AS registry), and two client hosts running cyphonic-loadgen. Every
# daemon runs in its own cgroup held to SCALE_CPU of a CPU (cpu.max, or
# cpu.cfs_quota_us on cgroup v1), as a pod's CPU limit holds it.
#
#   A  throughput: register+route sequences as fast as the load generator
#      gets answers, through 1 NMS replica, then through 3 (the others'
#      routes withdrawn, then announced): the ratio and per-core rates;
#   B  events under a ramped load: sequences (NMS) at SCALE_STEPS per
#      second (default: 15/30/45/60% of A's 3-replica maximum) and authentications (AS, a new TLS connection each) at a
#      tenth of that, SCALE_STEP_SECONDS per step; after step 1 host r4
#      is added (scale-out), after step 2 host r2 is drained (BGP withdraw
#      first, then SIGTERM: deploy/bgp/cyphonic-bgp-drain), after step 3
#      host r3's daemons are SIGKILLed. Clients retry (client/retry.h).
#      Reports requests, failures, latency percentiles per second,
#      requests per replica and the spread;
#   C  SCALE_NODES (100000) nodes registered through 3 NMS replicas,
#      Redis memory per registration, a replica SIGKILLed during the
#      refreshes: none lost (every refresh answered).
#
# Bounded: every wait has a limit, the load generator runs for the given
# steps; parts A and B take about 3-4 minutes, part C about one second
# per 200 nodes at best (20000: 5 minutes on a loaded 2-core machine;
# SCALE_NODES=0 skips it). Traffic stays between the
# test's namespaces. Needs root, bird2, redis-server, postgresql.
# Results: build/bench-scale.txt (and the raw lines in build/bench-scale/).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/build/bin
CPU=${SCALE_CPU:-0.15}
STEPS=${SCALE_STEPS:-}	# default: 15/30/45/60% of the 3-replica maximum (part A)
SS=${SCALE_STEP_SECONDS:-10}
RS=${SCALE_RATIO_SECONDS:-8}
NODES=${SCALE_NODES:-100000}
PARTS=${SCALE_PARTS:-ABC}	# parts B and C run when listed; A always (B's steps come from it)
out=$top/build/bench-scale.txt
raw=$top/build/bench-scale
die() { echo "bench-scale: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, cgroups)"
for c in bird birdc redis-server curl; do command -v $c > /dev/null || die "needs $c (scripts/deps.sh)"; done
make -s -C "$top/user" progs > /dev/null 2>&1 || die "build failed (make -C user progs)"

NREP=4 NCLI=2
P=scale$$
D=$(mktemp -d /tmp/cyph-scale.XXXXXX)
: > "$D/pids"
. "$top/tests/ecmp/lib.sh"
. "$top/tests/lib/redis.sh"
. "$top/tests/lib/pg.sh"
BGP=$top/deploy/bgp

# ---- cgroups: one per daemon, CPU-limited ----------------------------------------
# Everything the test starts (BIRD, Redis, PostgreSQL, watchers, load
# generators) runs in $CG/infra, each daemon in its own quota'd group
# beside it. $CG's weight is that of SCALE_WEIGHT ordinary processes
# (default 16): a cgroup competes with the machine's other processes as
# ONE process of its weight, so at the default weight every daemon of the
# test together got what one compiler job gets, and on a machine with a
# load average of 20 the replicas ran at a tenth of their quota (the
# earlier runs' 0.01-0.06 CPU per NMS replica). The test's demand is
# bounded (the daemons by their quota, the load generators by the
# answers), so the weight lets it get its quotas, not the machine.
WEIGHT=${SCALE_WEIGHT:-16}
if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2> /dev/null; then
	CGROOT=/sys/fs/cgroup
	CG=$CGROOT/cyph-$P
	{ mkdir -p "$CG" && echo +cpu > "$CG/cgroup.subtree_control"; } || die "cgroup v2: cannot enable cpu"
	cg_limit() { echo "$2 100000" > "$CG/$1/cpu.max"; }	# cg_limit NAME QUOTA_US|max
	cg_weight() { echo $(($1 * 100)) > "$CG/cpu.weight"; }	# cg_weight PROCESSES
elif [ -d /sys/fs/cgroup/cpu ]; then
	CGROOT=/sys/fs/cgroup/cpu
	CG=$CGROOT/cyph-$P
	mkdir -p "$CG" || die "cgroup v1: cannot create $CG"
	cg_limit() { local q=$2; [ "$q" = max ] && q=-1; echo "$q" > "$CG/$1/cpu.cfs_quota_us"; }
	cg_weight() { echo $(($1 * 1024)) > "$CG/cpu.shares"; }
else
	die "no cgroup cpu controller"
fi
cg_weight "$WEIGHT" || die "cannot set the weight of $CG"
{ mkdir -p "$CG/infra" && echo $$ > "$CG/infra/cgroup.procs"; } || die "cannot join $CG/infra"
# infra holds Redis, BIRD, the watchers and the load generators: the
# weight of 4 daemons' groups, so a replica group does not outweigh them
if [ -e "$CG/infra/cpu.weight" ]; then echo 400 > "$CG/infra/cpu.weight"; else echo 4096 > "$CG/infra/cpu.shares"; fi
# cg_throttled NAME: "periods throttled" of a daemon's group so far
cg_throttled() { awk '$1 == "nr_periods" { p = $2 } $1 == "nr_throttled" { t = $2 } END { print p + 0, t + 0 }' \
	"$CG/$1/cpu.stat" 2> /dev/null || echo "0 0"; }
QUOTA=$(awk -v c="$CPU" 'BEGIN { printf "%d", c * 100000 }')

cleanup() {
	local p g
	exec 2> /dev/null
	touch "$D/stop-sampler"
	while read -r p; do kill -KILL "$p"; done < "$D/pids"
	topology_down
	redis_stop
	pg_stop
	echo $$ > "$CGROOT/cgroup.procs"
	for g in "$CG"/*/; do rmdir "$g"; done
	rmdir "$CG"
	if [ -n "${CYPH_KEEP:-}" ]; then echo "# kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 1' TERM INT

say() { echo "$*" | tee -a "$D/report"; }
part() { [[ $PARTS == *$1* ]]; }	# part A|B|C: that part runs (SCALE_PARTS)
finish() {
	say ""
	say "the research (thesis, Kubernetes + MetalLB): scale-in without a termination wait failed 2371 of 54230"
	say "requests (4.37%), 0% with a fixed 5 s wait; about 900 requests/s per core"
	cp "$D/report" "$out"
	cp "$D/events" "$raw/events.txt" 2> /dev/null
	echo "(saved in build/bench-scale.txt, raw lines in build/bench-scale/)"
	exit 0
}

# ---- topology, stores, PKI --------------------------------------------------------
topology_up || die "topology"
bgp_up
wait_for 60 bgp_established || die "BGP sessions did not come up"
# shellcheck disable=SC2119	# no argument: a Unix socket only
redis_start > /dev/null || die "redis"
echo "$REDIS_PID" >> "$D/pids"
pg_start 2> "$D/pg.err" || die "postgresql: $(cat "$D/pg.err")"
pg_createdb scale > /dev/null || die "createdb"
rcli() { redis_cli "$@"; }

cat > "$D/as.conf" <<EOC
[as]
listen = $AS_VIP4:$AS_PORT
domain = scale.test
workers = 1
password_workers = 1
password_check_cost = 1000
max_connections_per_address = 100000
grace_period = 5s
[tls]
cert = $D/tls.crt
key = $D/tls.key
names = IP:$AS_VIP4
[ca]
cert = $D/ca.crt
key = $D/ca.key
crl = $D/crl.pem
[store]
postgres = $CYPH_TEST_PG dbname=scale
[vip]
prefix4 = 10.80.0.0/12
[http]
listen = 127.0.0.1:9101
[log]
level = warn
EOC
"$B/cyphonic-admin" -c "$D/as.conf" init-ca > "$D/admin.log" 2>&1 || die "init-ca: $(cat "$D/admin.log")"
"$B/cyphonic-admin" -c "$D/as.conf" node add bench --password pw --kdf-iterations 1000 \
	>> "$D/admin.log" 2>&1 || die "node add: $(cat "$D/admin.log")"
"$B/cyphonic-loadgen" issue --ca-cert "$D/ca.crt" --ca-key "$D/ca.key" nms.scale.test 900 \
	"$D/nms.crt" "$D/nms.key" || die "issue the NMS identity"
openssl rand -hex 32 > "$D/relay.key"
STORE="[store]
redis = $CYPH_TEST_REDIS
prefix = scale:"
EXTRA_CONF="[log]
level = warn"
# one load generator address stands for many nodes: no per-node quotas
# and no keepalives from it: registrations live long enough for the run
nms_conf "lifetime = 30m
cookie_load = ${SCALE_COOKIE_LOAD:-1000000}
register_rate = 0
route_rate = 0
relay_rate = 0
notify_per_node = 0
error_rate = 100000" > "$D/nms.conf"
# shellcheck disable=SC2119	# no lines of its own
trs_conf > "$D/trs.conf"

# ---- replica hosts ------------------------------------------------------------------
declare -A PID
# shellcheck disable=SC2034	# read as ${!port_var}
PORT_as=9101 PORT_nms=9102 PORT_trs=9103
# BIRD's static protocol of a service's VIPs ("as" is a BIRD keyword)
proto_of() { if [ "$1" = as ]; then echo auth; else echo "$1"; fi; }
svc_start() {	# svc_start I SVC: the daemon in its cgroup, and its readiness watcher
	local g=$CG/$2$1
	mkdir -p "$g" && cg_limit "$2$1" "$QUOTA"
	rm -f "$D/hold-$2$1"
	nsenter --net=/run/netns/"$P-r$1" bash -c 'echo $$ > "$1/cgroup.procs" && exec "${@:2}"' _ \
		"$g" "$B/cyphonic-$2" -c "$D/$2.conf" >> "$D/$2$1.log" 2>&1 &
	PID[$2$1]=$!
	echo $! >> "$D/pids"
	if [ ! -e "$D/watch-$2$1" ]; then
		: > "$D/watch-$2$1"
		local port_var=PORT_$2 pr
		pr=$(proto_of "$2")
		nsenter --net=/run/netns/"$P-r$1" "$BGP/cyphonic-bgp-watch" -s "$D/bird-r$1.ctl" \
			-H "$D/hold-$2$1" "http://127.0.0.1:${!port_var}/readyz" "${pr}4" "${pr}6" \
			>> "$D/watch-$2$1.log" 2>&1 &
		echo $! >> "$D/pids"
	fi
}
host_start() { local s; for s in as nms trs; do svc_start "$1" $s; done; }
# the edge's route to VIP has exactly the next hops of the replicas listed
nexthops_are() {	# nexthops_are VIP I...
	local vip=$1 want="" i
	shift
	for i in "$@"; do want+="10.200.$i.2"$'\n'; done
	[ "$(edge_nexthops "$vip")" = "$(printf '%s' "$want" | sort)" ]
}
all_at() {	# all_at I...: every service VIP routed to exactly these replicas
	nexthops_are "$AS_VIP4" "$@" && nexthops_are "$NMS_VIP4" "$@" && nexthops_are "$TRS_VIP4" "$@"
}
host_drain() {	# host_drain I REMAINING...: withdraw first, confirm at the edge, SIGTERM
	local i=$1 s pids=""
	shift
	for s in as nms trs; do
		local vip_var=${s^^}_VIP4
		nsx "r$i" "$BGP/cyphonic-bgp-drain" -s "$D/bird-r$i.ctl" -H "$D/hold-$s$i" -t 30 \
			-c "$(declare -f nsx edge_nexthops nexthops_are); P=$P; nexthops_are ${!vip_var} $*" \
			-p "${PID[$s$i]}" "$(proto_of $s)4" "$(proto_of $s)6" > "$D/drain-$s$i.out" 2>&1 &
		pids+=" $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	for s in as nms trs; do wait "${PID[$s$i]}" 2> /dev/null; done
}
host_kill() {
	local s
	for s in as nms trs; do
		disown "${PID[$s$1]}" 2> /dev/null
		kill -KILL "${PID[$s$1]}"
	done
}
cpu_of() {	# cpu_of PID: utime+stime in seconds
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.2f", (f[12] + f[13]) / hz }' \
		"/proc/$1/stat" 2> /dev/null || echo 0
}
metric_sum() {	# metric_sum I PORT NAME [FILTER]: the sum of a counter's samples
	nsx "r$1" curl -s --max-time 1 "http://127.0.0.1:$2/metrics" |
		awk -v m="$3" -v f="${4:-}" 'index($1, m) == 1 && (substr($1, length(m) + 1, 1) ~ /^[{]?$/) &&
			(f == "" || index($1, f)) { s += $2; n++ } END { if (n) printf "%d\n", s }'
}
# A sampler keeps the latest counters of every replica (a killed replica's
# last value stays): $D/m-SVCi
sampler() {
	local i v
	while [ ! -e "$D/stop-sampler" ]; do
		for ((i = 1; i <= NREP; i++)); do
			v=$(metric_sum "$i" 9102 cyphonic_nms_requests_total) && [ -n "$v" ] && echo "$v" > "$D/m-nms$i"
			v=$(metric_sum "$i" 9101 cyphonic_as_requests_total 'result="ok"') && [ -n "$v" ] &&
				echo "$v" > "$D/m-as$i"
		done
		sleep 0.5
	done
}
# (the sampler's m-* files are reset by a restart: svc counters start at 0)
mval() { cat "$D/m-$1" 2> /dev/null || echo 0; }

# r1's AS issues the TLS certificate the others load: it goes first
# (three at once raced: one loaded a key that did not match the certificate)
host_start 1
wait_for 60 nsx r1 curl -sf http://127.0.0.1:9101/readyz || die "r1's AS did not become ready"
for i in 2 3; do host_start "$i"; done
wait_for 90 all_at 1 2 3 || die "the VIPs were not announced by r1-r3 (see $D)"
sampler &
echo $! >> "$D/pids"
mkdir -p "$raw"
: > "$D/report"
say "CYPHONIC scale-out load test, $(date -u +%FT%TZ), $(nproc) cores (shared), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "each daemon in a cgroup held to $CPU CPU; Redis $(redis-server --version | cut -d' ' -f3), PostgreSQL ${PG_BIN%/bin}, BIRD $(bird --version 2>&1 | awk '{ print $NF }')"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
LG=$B/cyphonic-loadgen
nms_common=(--nms "$NMS_VIP4:$NMS_PORT" --ca-cert "$D/ca.crt" --ca-key "$D/ca.key" --nms-cert "$D/nms.crt")

# ---- A: throughput, 1 vs 3 NMS replicas, interleaved --------------------------------
# SCALE_LOADGENS load generators (outside every quota, in $CG/infra) run
# register+route sequences closed-loop (SCALE_WINDOW in flight each, no
# retries) for the whole part, while the NMS routes switch between r1
# alone and r1-r3: 1,3,1,3,...,1 (SCALE_RATIO_ROUNDS 3-replica windows,
# each between two 1-replica ones, RS seconds each). A round's ratio is
# its 3-replica rate over the mean of the 1-replica windows around it, so
# a machine whose load drifts moves both sides alike. Rates come from the
# generators' per-second ticks (answered requests) inside each window;
# CPU from the replicas' /proc stat; saturation from their cgroups'
# throttled periods.
RR=${SCALE_RATIO_ROUNDS:-3}
LGS=${SCALE_LOADGENS:-2}
LGW=${SCALE_WINDOW:-96}
hold_nms() {	# hold_nms I...: withdraw those replicas' NMS routes (daemons keep running)
	local i
	for i in "$@"; do : > "$D/hold-nms$i"; birdc_ns "r$i" disable nms4 nms6 > /dev/null; done
}
nms_at() { nexthops_are "$NMS_VIP4" "$@"; }
sum_cpu() {	# sum_cpu PID...: their CPU seconds together
	local p t=0
	for p in "$@"; do t=$(awk -v a="$t" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }'); done
	echo "$t"
}
sum_wait() {	# sum_wait PID...: seconds they waited runnable for a CPU (schedstat)
	local p t=0
	for p in "$@"; do t=$(awk -v a="$t" '{ print a + $2 / 1e9 }' "/proc/$p/schedstat" 2> /dev/null || echo "$t"); done
	echo "$t"
}
sum_thr() {	# sum_thr SVC I...: "periods throttled" of those daemons' groups
	local i a=0 b=0 x y
	shift
	for i in "$@"; do read -r x y <<< "$(cg_throttled "nms$i")"; a=$((a + x)); b=$((b + y)); done
	echo "$a $b"
}
LGP=()
for ((k = 1; k <= LGS; k++)); do
	nsenter --net=/run/netns/"$P-c$(( (k - 1) % NCLI + 1 ))" "$LG" seq "${nms_common[@]}" --nodes 2000 --first-id $(( (k - 1) * 2000 )) \
		--socks 128 --window "$LGW" --timeout 2000 --ramp max --tick --seconds $(( (2 * RR + 2) * (RS + 7) + 60 )) \
		> "$raw/ratio-lg$k.txt" 2>&1 &
	LGP+=($!)
	echo $! >> "$D/pids"
done
for ((k = 1; k <= LGS; k++)); do
	wait_for 180 grep -q 'test=tick' "$raw/ratio-lg$k.txt" || die "load generator $k did not start"
done
: > "$D/windows"
# w = -1: a warm-up through r1 alone, not measured (r1 checks, once, the
# certificates of the nodes that registered at r2 and r3 during the set-up)
for ((w = -1; w <= 2 * RR; w++)); do
	if ((w < 0 || w % 2 == 0)); then
		n=1 serving=(1); hold_nms 2 3
	else
		n=3 serving=(1 2 3); rm -f "$D/hold-nms2" "$D/hold-nms3"
	fi
	wait_for 30 nms_at "${serving[@]}" || die "NMS routes not at r${serving[*]}"
	# Requests in flight at a switch are sometimes lost (not yet
	# understood: the serving replica then receives nothing until the
	# generator's window frees by timeouts): the window opens after
	# their 2 s timeout, so it measures the steady state
	sleep 3
	if ((w < 0)); then sleep "$RS"; continue; fi
	npids=(); for i in "${serving[@]}"; do npids+=("${PID[nms$i]}"); done
	ws=$(now_ms) c0=$(sum_cpu "${npids[@]}") l0=$(sum_cpu "${LGP[@]}") t0=$(sum_thr nms "${serving[@]}")
	r0=$(cpu_of "$REDIS_PID") q0=$(sum_wait "${npids[@]}")
	sleep "$RS"
	we=$(now_ms) c1=$(sum_cpu "${npids[@]}") l1=$(sum_cpu "${LGP[@]}") t1=$(sum_thr nms "${serving[@]}")
	r1=$(cpu_of "$REDIS_PID") q1=$(sum_wait "${npids[@]}")
	echo "$w $n $ws $we $(awk -v a="$c1" -v b="$c0" 'BEGIN { print a - b }') $(awk -v a="$l1" -v b="$l0" \
		'BEGIN { print a - b }') $t0 $t1 $(cut -d' ' -f1 /proc/loadavg) $(awk -v a="$r1" -v b="$r0" \
		-v s="$RS" 'BEGIN { printf "%.2f", (a - b) / s }') $(awk -v a="$q1" -v b="$q0" -v s="$RS" -v n=$n \
		'BEGIN { printf "%.0f", 100 * (a - b) / s / n }')" >> "$D/windows"
done
for p in "${LGP[@]}"; do kill -TERM "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
rm -f "$D/hold-nms2" "$D/hold-nms3"
wait_for 30 nms_at 1 2 3 || die "NMS routes of r2/r3 not announced again"
# per window: answered requests per second (the ticks ending inside it,
# each generator's ops over its own seconds, summed), failures
for ((k = 1; k <= LGS; k++)); do
	grep 'test=tick' "$raw/ratio-lg$k.txt" | awk -v k="$k" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		print k, f["wall_ms"], f["ops"], f["secs"], f["fail"] + f["timeout"] }'
done > "$D/ticks"
awk -v q="$CPU" 'NR == FNR { t[NR] = $0; nt = NR; next }
	{ w = $1; n = $2; ws = $3; we = $4; ops = 0; fl = 0; delete o; delete sc
	  for (i = 1; i <= nt; i++) { split(t[i], x, " ")
		if (x[2] >= ws + 500 && x[2] < we + 500) { o[x[1]] += x[3]; sc[x[1]] += x[4]; fl += x[5] } }
	  r = 0; for (k in o) if (sc[k] > 0) r += o[k] / sc[k]
	  secs = (we - ws) / 1000
	  printf "%d %d %.0f %d %.2f %.2f %.2f %d %d %s %s %s\n", w, n, r, fl, $5, $5 / secs / (n * q), $6 / secs,
		$9 - $7, $10 - $8, $11, $12, $13 }' "$D/ticks" "$D/windows" > "$raw/ratio-windows.txt"
say ""
say "A. throughput: register+route sequences closed-loop ($LGS load generators outside the quotas, $LGW in flight each," \
	"failed after 2 s, no retries), NMS routes switched 1,3,1,3,...,1 replicas, ${RS} s windows"
say "$(printf '    %-6s %8s %11s %6s %9s %9s %10s %11s %8s %8s %6s %6s' window replicas 'requests/s' failed 'CPU-s' \
	'of quota' 'req/CPU-s' 'throttled' 'runq' 'loadgen' Redis load)"
say "    (CPU-s: the serving NMS replicas'; throttled: periods of theirs cut by cpu.max; runq: share of the"
say "     time each waited runnable for a CPU; loadgen, Redis: CPUs used)"
while read -r w n r fl c u lc pd th la rc rq; do
	say "$(printf '    %-6s %8s %11s %6s %9s %8.0f%% %10s %11s %7s%% %8s %6s %6s' "$w" "$n" "$r" "$fl" "$c" \
		"$(awk -v u="$u" 'BEGIN { print u * 100 }')" \
		"$(awk -v r="$r" -v c="$c" -v s="$RS" 'BEGIN { if (c > 0) printf "%.0f", r * s / c; else print "-" }')" \
		"$th/$pd" "$rq" "$lc" "$rc" "$la")"
done < "$raw/ratio-windows.txt"
# rounds: the 3-replica window over the mean of its two neighbours
awk '{ r[$1] = $3 } END { for (w = 1; w < 2 * '"$RR"' + 1; w += 2) printf "%.2f\n", r[w] / ((r[w - 1] + r[w + 1]) / 2) }' \
	"$raw/ratio-windows.txt" > "$raw/ratios.txt"
med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A RATE
RATE[one]=$(awk '$2 == 1 { print $3 }' "$raw/ratio-windows.txt" | med)
RATE[three]=$(awk '$2 == 3 { print $3 }' "$raw/ratio-windows.txt" | med)
pc() { awk -v n="$1" -v s="$RS" '$2 == n && $5 > 0 { print $3 * s / $5 }' "$raw/ratio-windows.txt" | med; }
say "ratio 3 vs 1 replica per round: $(tr '\n' ' ' < "$raw/ratios.txt")-> median $(med < "$raw/ratios.txt")x," \
	"min $(sort -g "$raw/ratios.txt" | head -n1)x, max $(sort -g "$raw/ratios.txt" | tail -n1)x (target >= 2.5x)"
say "median requests/s: 1 replica ${RATE[one]}, 3 replicas ${RATE[three]}; per NMS CPU-second:" \
	"$(pc 1 | xargs printf '%.0f') and $(pc 3 | xargs printf '%.0f'); per quota (${CPU} CPU each):" \
	"$(awk -v r="${RATE[one]}" -v q="$CPU" 'BEGIN { printf "%.0f", r / q }') and" \
	"$(awk -v r="${RATE[three]}" -v q="$CPU" 'BEGIN { printf "%.0f", r / (3 * q) }') per core"

# ---- B: ramped load with scale-out, drain, SIGKILL ------------------------------------
if part B; then	# (to the spread, unindented)
# The steps stay below what the replicas left after the kill (2 of 3) can
# carry, so a failure is the events' doing, not overload: 15, 30, 45 and
# 60% of part A's 3-replica maximum, in sequences per second.
if [ -z "$STEPS" ]; then
	STEPS=$(awk -v r="${RATE[three]:-0}" 'BEGIN { s = r / 2; if (s < 40) s = 40
		printf "%d,%d,%d,%d", s * 0.15, s * 0.30, s * 0.45, s * 0.60 }')
fi
for i in 1 2 3 4; do for s in nms as; do rm -f "$D/m-$s$i"; done; done
sleep 1.5	# (the sampler refills m-* with the current counters)
declare -A BASE
for i in 1 2 3; do BASE[nms$i]=$(mval nms$i); BASE[as$i]=$(mval as$i); done
nsenter --net=/run/netns/"$P-c1" "$LG" seq "${nms_common[@]}" --nodes 1000 --socks 128 \
	--window 2048 --retry --tick --ramp "$STEPS" --seconds "$SS" > "$raw/events-nms.txt" 2>&1 &
LGN=$!
echo $LGN >> "$D/pids"
wait_for 120 grep -q 'test=tick' "$raw/events-nms.txt" || die "load generator did not start"
T0=$(now_ms)
(
	IFS=, read -ra st <<< "$STEPS"
	for r in "${st[@]}"; do
		nsenter --net=/run/netns/"$P-c2" "$LG" as --as "$AS_VIP4:$AS_PORT" --as-ca "$D/ca.crt" \
			--as-name "$AS_VIP4" --name bench --password pw --threads 4 \
			--rate "$(( r / 10 > 0 ? r / 10 : 1 ))" --seconds "$SS" --retry --reconnect < /dev/null
	done
) > "$raw/events-as.txt" 2>&1 &
LGA=$!
echo $LGA >> "$D/pids"
at() { local w=$(($1 - $(now_ms))); [ $w -gt 0 ] && sleep "$(awk -v w=$w 'BEGIN { print w / 1000 }')"; }
ev() { echo "$(( $(now_ms) - T0 )) $*" >> "$D/events"; }
: > "$D/events"
at $((T0 + SS * 1000))
ev "scale-out: host r4 starts (AS, NMS, TRS)"
host_start 4
wait_for 60 all_at 1 2 3 4 && ev "r4 announced for every VIP"
at $((T0 + 2 * SS * 1000))
ev "scale-in: host r2 drained (withdraw, confirm at the edge, SIGTERM)"
host_drain 2 1 3 4
ev "r2 drained: $(for s in as nms trs; do sed -n 's/.*\(withdraw_ms=[0-9]*\).*\(exit_ms=[0-9]*\).*/'$s' \1 \2/p' "$D/drain-${s}2.out"; done | tr '\n' ' ')"
at $((T0 + 3 * SS * 1000))
ev "SIGKILL: host r3's AS, NMS, TRS"
host_kill 3
wait_for 30 all_at 1 4 && ev "r3's routes withdrawn by the watchers"
wait "$LGN" "$LGA"
sleep 1
touch "$D/stop-sampler"

nl=$(grep -h 'test=seq_' "$raw/events-nms.txt" | grep -v seq_setup)
al=$(grep -h 'test=as_auth' "$raw/events-as.txt")
sum() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) s += substr($i, length(k) + 2) } END { print s + 0 }'; }
nreq=$(sum ops <<< "$nl"); nfail=$(( $(sum fail <<< "$nl") + $(sum timeout <<< "$nl") ))
nseq=$(sum seq_ok <<< "$nl"); nseqf=$(sum seq_fail <<< "$nl"); nret=$(sum retries <<< "$nl")
areq=$(sum ops <<< "$al"); afail=$(( $(sum fail <<< "$al") + $(sum timeout <<< "$al") )); aret=$(sum retries <<< "$al")
say ""
say "B. ramped load: sequences/s per step $STEPS (authentications a tenth of that), $SS s per step"
say "events (ms after the first step began):"
sed 's/^/    /' "$D/events" | tee -a "$D/report"
say "steps (NMS: requests = 2 per sequence; latency from a request's first try, retries included):"
say "$(printf '    %-10s %9s %9s %7s %7s %8s %8s %8s %9s' step requests 'req/s' failed retries p50-us p90-us p99-us 'seq fail')"
while read -r l; do
	say "$(printf '    %-10s %9s %9s %7s %7s %8s %8s %8s %9s' "$(field test "$l")" "$(field ops "$l")" "$(field rate "$l")" \
		"$(( $(field fail "$l") + $(field timeout "$l") ))" "$(field retries "$l")" "$(field p50_us "$l")" \
		"$(field p90_us "$l")" "$(field p99_us "$l")" "$(field seq_fail "$l")")"
done <<< "$nl"
while read -r l; do
	[ -n "$l" ] || continue
	say "$(printf '    %-10s %9s %9s %7s %7s %8s %8s %8s' "as@$(field offered "$l")" "$(field ops "$l")" "$(field rate "$l")" \
		"$(( $(field fail "$l") + $(field timeout "$l") ))" "$(field retries "$l")" "$(field p50_us "$l")" \
		"$(field p90_us "$l")" "$(field p99_us "$l")")"
done <<< "$al"
say "total: NMS $nreq requests, $nfail failed ($(awk -v f="$nfail" -v n="$nreq" 'BEGIN { if (n) printf "%.3f", 100 * f / (n + f) }')%), $nret retries; sequences $nseq ok, $nseqf failed"
say "       AS $areq authentications, $afail failed ($(awk -v f="$afail" -v n="$areq" 'BEGIN { if (n) printf "%.3f", 100 * f / (n + f) }')%), $aret retries (each a new TLS connection)"
say "per second (NMS requests answered, failed, retries, p50/p99 us):"
grep 'test=tick' "$raw/events-nms.txt" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	n++; printf "    %3d %6s %4d %4s %7s %8s\n", n, f["ops"], f["fail"] + f["timeout"], f["retries"], f["p50_us"], f["p99_us"] }' |
	tee -a "$D/report"
say "requests per replica during B (the replicas' own counters; r2 drained, r3 killed, r4 added):"
for i in 1 2 3 4; do
	n=$(( $(mval nms$i) - ${BASE[nms$i]:-0} )); a=$(( $(mval as$i) - ${BASE[as$i]:-0} ))
	say "    r$i: NMS $n, AS $a"
done

# ---- spread: a clean run over r1, r3, r4 (the serving ones) ----------------------------
for i in 1 4; do rm -f "$D/m-nms$i"; done
rm -f "$D/stop-sampler"
sampler &
echo $! >> "$D/pids"
rm -f "$D/m-nms2"	# r2 restarts: its counters start again at 0
host_start 2
wait_for 60 nms_at 1 2 4 || die "r2 not back"
wait_for 10 test -s "$D/m-nms2"
sleep 1.5
for i in 1 2 4; do S0[i]=$(mval nms$i); done
nsx c1 "$LG" seq "${nms_common[@]}" --nodes 4000 --socks 1024 --window 512 --retry \
	--ramp 300 --seconds "$RS" > "$raw/spread.txt" 2>&1
sleep 1.5
tot=0; line=""
for i in 1 2 4; do S[i]=$(( $(mval nms$i) - S0[i] )); tot=$((tot + S[i])); done
for i in 1 2 4; do line+=" r$i=${S[i]} ($(awk -v s="${S[i]}" -v t="$tot" 'BEGIN { if (t) printf "%+.1f", 100 * (s / (t / 3) - 1) }')%)"; done
say "spread of NMS requests over 3 replicas (1024 flows, 300 sequences/s, ${RS} s):$line (target within +-15%)"

fi

# ---- C: many registered nodes, Redis memory, a SIGKILL -----------------------------------
if [ "$NODES" -gt 0 ] && part C; then
	for s in as nms trs; do for i in 1 2 4; do [ -d "$CG/$s$i" ] && cg_limit "$s$i" max; done; done
	cg_weight 5	# unlimited now: the weight of what runs (3 NMS, Redis, the generator)
	k0=$(rcli --scan --pattern 'scale:reg:*' | wc -l)
	nsenter --net=/run/netns/"$P-c1" "$LG" nms "${nms_common[@]}" --nodes "$NODES" --socks 256 \
		--window 256 --retry --seconds 6 > "$raw/nodes.txt" 2>&1 &
	LGC=$!
	echo $LGC >> "$D/pids"
	wait_for 900 grep -q 'test=nms_register_first' "$raw/nodes.txt"
	k1=$(rcli --scan --pattern 'scale:reg:*' | wc -l)
	# MEMORY USAGE of every key of the deployment (records, indexes,
	# sequence counters, live replay claims), per registration
	rcli --scan --pattern 'scale:*' | awk '{ print "MEMORY USAGE " $1 }' | rcli > "$D/memusage"
	mem=$(awk '{ s += $1 } END { printf "%d", s }' "$D/memusage")
	regmem=$(rcli --scan --pattern 'scale:reg:*' | awk '{ print "MEMORY USAGE " $1 }' | rcli |
		awk '{ s += $1 } END { printf "%d", s }')
	info=$(rcli INFO memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
	# during the refreshes (the phase after full re-registrations): kill r1's NMS
	wait_for 120 grep -q 'test=nms_register_full' "$raw/nodes.txt"
	sleep 2
	disown "${PID[nms1]}"; kill -KILL "${PID[nms1]}"
	wait "$LGC"
	k2=$(rcli --scan --pattern 'scale:reg:*' | wc -l)
	first=$(grep 'test=nms_register_first' "$raw/nodes.txt"); refr=$(grep 'test=nms_register_refresh' "$raw/nodes.txt")
	say ""
	say "C. $NODES nodes registered through 3 NMS replicas (r1, r2, r4; CPU limits lifted for this part)"
	say "    first registrations: $(field ops "$first") ok, $(( $(field fail "$first") + $(field timeout "$first") )) failed, $(field rate "$first")/s"
	bytes=$(awk -v d="$mem" -v n="$k1" 'BEGIN { if (n > 0) printf "%.0f", d / n }')
	say "    Redis: $k1 registrations held (from $k0); every key of the deployment $((mem / 1024 / 1024)) MiB" \
		"(MEMORY USAGE), $bytes bytes per registration, of which the record $(awk -v d="$regmem" -v n="$k1" \
		'BEGIN { if (n > 0) printf "%.0f", d / n }'); used_memory $((info / 1024 / 1024)) MiB"
	say "    SIGKILL of NMS r1 during the refreshes: refreshes $(field ops "$refr") ok," \
		"$(( $(field fail "$refr") + $(field timeout "$refr") )) failed, $(field retries "$refr") retries;" \
		"registrations in Redis after: $k2 (lost: $((k1 - k2)))"
	say "    for 10M nodes: $(awk -v b="${bytes:-0}" 'BEGIN { printf "%.1f", b * 1e7 / 1e9 }') GB of Redis at this size per node"
	grep RESULT "$raw/nodes.txt" | sed 's/^/    /' >> "$D/report"
fi

finish
