#!/bin/bash
# SPDX-License-Identifier: MIT
# Node benchmark (make bench-node): tunnel setup round trips and time per
# path (direct, punched, relayed, symmetric NATs), cyphonicd's CPU share
# under a saturating iperf3, and mobility (a TCP transfer's interruption
# and the re-registration when the source's address changes), in one QEMU guest (TCG) with the cloud
# and six nodes behind nftables NAT routers. The guest side and the method
# (round trips from the added delay on the source's link):
# tests/bench/guest-node.sh. Prints the table, keeps the raw records in
# build/bench/node.raw and the table in build/bench/node.txt.
#
# Environment: BENCH_NODE_ROUNDS=10 (half with the delay),
# BENCH_NODE_DELAY_MS=100 (one way), BENCH_NODE_IPERF_S=10,
# BENCH_NODE_MOVES=4 (address changes), BENCH_NODE_TRACE=1 (every setup
# traced, @@TRACE lines in node.raw).
# It reports and never fails on a figure; it fails only when the
# measurement broke (no records).
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
die() { echo "bench-node: error: $*" >&2; exit 1; }
export BENCH_NODE_ROUNDS=${BENCH_NODE_ROUNDS:-10} BENCH_NODE_DELAY_MS=${BENCH_NODE_DELAY_MS:-100}
export BENCH_NODE_IPERF_S=${BENCH_NODE_IPERF_S:-10} BENCH_NODE_TRACE=${BENCH_NODE_TRACE:-0}
export BENCH_NODE_MOVES=${BENCH_NODE_MOVES:-4}
for v in BENCH_NODE_ROUNDS BENCH_NODE_DELAY_MS BENCH_NODE_IPERF_S BENCH_NODE_MOVES; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[ -f "$top/kmod/cyphonic.ko" ] && [ -x "$top/build/bin/cyphonicd" ] || die "not built (make)"
out=$top/build/bench
mkdir -p "$out"
raw=$out/node.raw
export VM_TIMEOUT=${VM_TIMEOUT:-$((600 + BENCH_NODE_ROUNDS * 120))}
export VM_NAME=${VM_NAME:-bench-node}
export VM_PASSENV="${VM_PASSENV:-} BENCH_NODE_ROUNDS BENCH_NODE_DELAY_MS BENCH_NODE_IPERF_S BENCH_NODE_TRACE BENCH_NODE_MOVES"
rev=$(git -C "$top" describe --always --dirty 2> /dev/null || echo unknown)
start=$(date +%s)
"$top/tests/vm/run.sh" "$top/tests/bench/guest-node.sh" > "$raw"
rc=$?
grep -q '^@@NODE setup' "$raw" || die "no measurements (VM status $rc); console: build/vm-logs/$VM_NAME.log"
{
	echo "bench-node, revision $rev, $(date -u +%FT%TZ), wall $(($(date +%s) - start)) s, VM status $rc"
	/usr/bin/python3 - "$raw" "$BENCH_NODE_DELAY_MS" <<'PY'
import re, statistics, sys
raw, delay = sys.argv[1], int(sys.argv[2])
setup, cpu, move = {}, [], []
for line in open(raw):
    f = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
    if line.startswith("@@NODE setup"):
        setup.setdefault((f["scenario"], int(f["delay"])), []).append(f["ms"])
    elif line.startswith("@@NODE cpu"):
        cpu.append(f)
    elif line.startswith("@@NODE move"):
        move.append(f)
def stat(v):
    if not v:
        return None, "-"
    ok = sorted(float(x) for x in v if x != "lost")
    lost = len(v) - len(ok)
    if not ok:
        return None, "all %d lost" % len(v)
    med = statistics.median(ok)
    return med, "%.0f [%.0f-%.0f] n=%d%s" % (med, ok[0], ok[-1], len(ok), ", %d lost" % lost if lost else "")
print("\nTunnel setup, first packet to its delivered reply (guest ms: median [min-max] n)")
print("%-10s %-28s %-28s %s" % ("path", "no added delay", "+%d ms each way" % delay, "round trips [spread]"))
for name in ("direct", "byname", "punched", "relayed", "symmetric"):
    m0, s0 = stat(setup.get((name, 0), []))
    m1, s1 = stat(setup.get((name, delay), [])) if (name, delay) in setup else (None, "-")
    rt = "%.1f" % ((m1 - m0) / (2 * delay)) if m0 is not None and m1 is not None else "-"
    if m0 is not None and m1 is not None:
        # spread of the estimate: the extreme pairs of the two sets
        a = sorted(float(x) for x in setup[(name, 0)] if x != "lost")
        b = sorted(float(x) for x in setup[(name, delay)] if x != "lost")
        rt += " [%.1f-%.1f]" % ((b[0] - a[-1]) / (2 * delay), (b[-1] - a[0]) / (2 * delay))
    print("%-10s %-28s %-28s %s" % (name, s0, s1, rt))
print("\ncyphonicd CPU during a saturating iperf3 (utime+stime from /proc/PID/stat over the run)")
for f in cpu:
    if "error" in f:
        print("%-10s error: %s" % (f["scenario"], f["error"]))
        continue
    w = int(f["wall_ms"])
    print("%-10s %s Mbit/s over %.1f s: source daemon %s ms CPU (%.2f%%), target daemon %s ms (%.2f%%)" % (
        f["scenario"], f["mbit"], w / 1000, f["src_cpu_ms"], 100 * int(f["src_cpu_ms"]) / w,
        f["dst_cpu_ms"], 100 * int(f["dst_cpu_ms"]) / w))
def spread(v):
    v = sorted(float(x) for x in v if x not in ("?", ""))
    return "%.0f [%.0f-%.0f] n=%d" % (statistics.median(v), v[0], v[-1], len(v)) if v else "-"
if move:
    print("\nMobility: e1 moves behind another NAT (r1's LAN <-> a second LAN of r2's) mid-TCP transfer to pub over the VIPs")
    print("survived      %d of %d transfers (iperf3 exit 0)" % (sum(f["survived"] == "1" for f in move), len(move)))
    print("interruption  ms: %s (longest run of empty 0.1 s iperf3 intervals)" % spread([f["gap_ms"] for f in move]))
    print("re-register   ms: %s (address event to the NMS's answer, e1's daemon)" % spread([f["rereg_ms"] for f in move]))
PY
} | tee "$out/node.txt"
[ "$rc" -eq 0 ] || die "the VM run failed (status $rc): the figures above may be incomplete"
