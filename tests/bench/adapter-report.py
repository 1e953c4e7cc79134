#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turn the records of tests/bench/guest-adapter.sh into the adapter
benchmark's table (stdout) and a JSON document.

    adapter-report.py RECORDS JSON_OUT [--rev REV]

Per round, per count of devices N and per way across (cyphonic workers=1,
workers=all, WireGuard as a subnet router): the aggregate throughput (sum
over the N devices), the mean per device, the slowest device, and Jain's
fairness index (sum x)^2 / (N sum x^2), 1 when every device got the same.
RTT is the median device's mean round-trip time as its iperf3 sender
measured it over the whole test (slow start included): how long the
path's queues stand. Ratios are taken within a round (the same guest,
minutes apart), then the median over rounds is shown with its min-max
spread. A run where any client failed is left out and counted.

The benchmark reports; the target lines say "met" or "missed" and the
exit status does not depend on them.
"""
import json
import statistics
import sys

CONFIGS = [("cy-1", "cyphonic w=1"), ("cy-all", "cyphonic w=all"),
           ("wg", "WireGuard subnet router"), ("plain", "plain router, no tunnel")]


def parse(path):
    runs, meta, cpu = {}, {}, {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("@@BENCH "):
                continue
            words = line.split()[1:]
            if words and words[0] == "meta":
                meta.update(w.split("=", 1) for w in words[1:] if "=" in w)
                continue
            rec = dict(w.split("=", 1) for w in words if "=" in w)
            try:
                key = (int(rec["round"]), int(rec["n"]), rec["cfg"])
            except (KeyError, ValueError):
                continue
            if words[0] == "cpu":
                cpu[key] = {k: float(v) for k, v in rec.items() if k.endswith(("_pct", "_pkt"))}
                continue
            run = runs.setdefault(key, {"bps": [], "rtt": [], "errors": 0})
            if "bps" in rec:
                run["bps"].append(float(rec["bps"]))
                if "rtt_us" in rec:
                    run["rtt"].append(float(rec["rtt_us"]) / 1000)
            else:
                run["errors"] += 1
    return runs, meta, cpu


def jain(xs):
    s2 = sum(x * x for x in xs)
    return (sum(xs) ** 2) / (len(xs) * s2) if s2 > 0 else 0.0


def spread(vals, fmt):
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} [{fmt.format(min(vals))}-{fmt.format(max(vals))}]"


def row(n, label, rounds, fields):
    """One table line: each (key, format, width) as the spread over rounds."""
    cells = " ".join(f"{spread([v[k] for v in rounds if k in v], fmt):>{w}}"
                     for k, fmt, w in fields)
    print(f"{n:>7}  {label:<24} {cells}")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    rev = argv[argv.index("--rev") + 1] if "--rev" in argv else "unknown"
    runs, meta, cpu = parse(argv[1])
    counts = sorted({n for _, n, _ in runs})
    rounds = sorted({r for r, _, _ in runs})
    per = {}       # (n, cfg) -> round -> figures
    failed = 0
    for (r, n, c), run in runs.items():
        if run["errors"] or len(run["bps"]) != n:
            failed += 1
            continue
        xs = [b / 1e6 for b in run["bps"]]
        per.setdefault((n, c), {})[r] = {
            "aggregate_mbps": sum(xs), "per_device_mbps": sum(xs) / n,
            "min_device_mbps": min(xs), "jain": jain(xs), "devices_mbps": xs}
        if run["rtt"]:
            # the median device's mean RTT: how long the path's queues stand
            per[(n, c)][r]["rtt_ms"] = statistics.median(run["rtt"])

    def ratio(a, b):
        """a/b within each round where both ran"""
        return [a[r]["aggregate_mbps"] / b[r]["aggregate_mbps"]
                for r in a if r in b and b[r]["aggregate_mbps"] > 0]

    print(f"Adapter benchmark (revision {rev}; kernel {meta.get('kernel', '?')}, "
          f"{meta.get('cpus', '?')} vCPUs under TCG, {len(rounds)} round(s) of "
          f"{meta.get('seconds', '?')} s TCP per device)")
    print("Median over rounds [min-max]. Mbit/s.\n")
    hdr = (f"{'devices':>7}  {'way':<24} {'aggregate':>22} {'per device':>20} {'slowest':>20}"
           f" {'Jain':>18} {'RTT ms':>14}")
    print(hdr)
    print("-" * len(hdr))
    doc = {"rev": rev, "meta": meta, "failed_runs": failed, "results": [], "ratios": {}}
    for n in counts:
        for c, label in CONFIGS:
            d = per.get((n, c), {})
            if not d:
                continue
            row(n, label, list(d.values()),
                (("aggregate_mbps", "{:.0f}", 22), ("per_device_mbps", "{:.1f}", 20),
                 ("min_device_mbps", "{:.1f}", 20), ("jain", "{:.3f}", 18),
                 ("rtt_ms", "{:.0f}", 14)))
            doc["results"].append({"devices": n, "cfg": c, "rounds": d})
    print("\nRatios of aggregates, within each round:")
    rat = doc["ratios"]
    for n in counts:
        a1, aa, wg = (per.get((n, c), {}) for c in ("cy-1", "cy-all", "wg"))
        rat[f"n{n}_all_over_1"] = ratio(aa, a1)
        rat[f"n{n}_all_over_wg"] = ratio(aa, wg)
        print(f"  {n:>2} devices: workers=all / workers=1 {spread(rat[f'n{n}_all_over_1'], '{:.2f}x')}"
              f", workers=all / WireGuard {spread(rat[f'n{n}_all_over_wg'], '{:.2f}x')}")
    lo, hi = (min(counts), max(counts)) if counts else (0, 0)
    for c, label in CONFIGS:
        if lo == hi:
            break
        rat[f"{c}_n{hi}_over_n{lo}"] = ratio(per.get((hi, c), {}), per.get((lo, c), {}))
        print(f"  {label}: aggregate of {hi} devices / of {lo}: "
              f"{spread(rat[f'{c}_n{hi}_over_n{lo}'], '{:.2f}x')}")
    if failed:
        print(f"\n{failed} run(s) left out: a client failed (see the raw records)")
    if cpu:
        print("\nThe whole guest's CPU during the window (iperf3 included), per full-size"
              " inner packet:\n"
              f"{'devices':>7}  {'way':<24} {'busy':>14} {'softirq':>14} {'CPU us/packet':>18}"
              f" {'switches/packet':>18}")
        doc["cpu"] = []
        for n in counts:
            for c, label in CONFIGS:
                rs = [v for (r, m, k), v in cpu.items() if m == n and k == c]
                if not rs:
                    continue
                row(n, label, rs,
                    (("busy_pct", "{:.0f}%", 14), ("softirq_pct", "{:.0f}%", 14),
                     ("us_per_pkt", "{:.0f}", 18), ("ctxt_per_pkt", "{:.2f}", 18)))
                doc["cpu"].append({"devices": n, "cfg": c, "rounds": rs})
        # What many slow flows add per packet, to every way alike (TCP's
        # smaller bursts: more skbs, ACKs and softirqs per packet) and to
        # a tunnel: the plain router shows the first part alone.
        extra = []
        for c, label in CONFIGS:
            us = [[v["us_per_pkt"] for (r, m, k), v in cpu.items() if m == n and k == c]
                  for n in (lo, hi)]
            if lo != hi and us[0] and us[1]:
                d = statistics.median(us[1]) - statistics.median(us[0])
                extra.append(f"{label} {d:+.0f}")
                doc.setdefault("cpu_extra_us_per_pkt", {})[c] = d
        if extra:
            print(f"CPU us per packet, {hi} devices against {lo} (medians): " + ", ".join(extra))

    def med(vals):
        return statistics.median(vals) if vals else None

    print("\nTargets of issue 10 (20 devices, cyphonic workers=all):")
    big = per.get((hi, "cy-all"), {})
    checks = [
        ("Jain's index >= 0.95", med([v["jain"] for v in big.values()]), 0.95),
        (f"aggregate of {hi} within 10% of {lo} device's", med(rat.get(f"cy-all_n{hi}_over_n{lo}", [])), 0.90),
        ("workers=all >= 1.5x workers=1", med(rat.get(f"n{hi}_all_over_1", [])), 1.5),
        ("workers=all >= WireGuard subnet router", med(rat.get(f"n{hi}_all_over_wg", [])), 1.0),
    ]
    doc["targets"] = []
    for name, val, want in checks:
        state = "n/a" if val is None else ("met" if val >= want else "missed")
        shown = "n/a" if val is None else f"{val:.3f}"
        print(f"  {name}: {shown} ({state})")
        doc["targets"].append({"target": name, "value": val, "state": state})
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
