#!/usr/bin/env python3
"""Summarises tests/bench/evloop.sh's RESULT lines: text to stdout, JSON to a file.

Every figure is given as the median over the rounds with its min..max.
usage: evloop-report.py RESULTS CONNS JSON_OUT
"""
import json
import os
import statistics
import sys


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("RESULT "):
                continue
            kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
            rows.append(kv)
    return rows


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": values}


def fmt(s, digits=1, unit=""):
    if s is None:
        return "n/a"
    f = f"{{:.{digits}f}}"
    return (f.format(s["median"]) + unit + "  (" + f.format(s["min"]) + ".." +
            f.format(s["max"]) + ")")


def by_round(rows, **match):
    """Rows matching, by round; round 0 (warm-up) left out."""
    out = {}
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()) and int(r.get("round", 0)) > 0:
            out[int(r["round"])] = r
    return out


def single(rows, test):
    for r in rows:
        if r.get("test") == test:
            return r
    return {}


def main():
    rows = parse(sys.argv[1])
    conns = int(sys.argv[2])
    res = {"meta": {"conns": conns, "cpus": os.cpu_count(),
                    "rounds": len(by_round(rows, test="as_idle_hold"))}}

    rearm = {}
    for n in ("1000", "10000", "100000"):
        rearm[n] = spread([float(r["ns_per_op"]) for r in rows
                           if r.get("test") == "timer_rearm" and r.get("timers") == n])
    res["timer_rearm_ns"] = rearm

    without = by_round(rows, test="as_auth", **{"as": "b"})
    with_ = by_round(rows, test="as_auth", **{"as": "a"})
    hold = by_round(rows, test="as_idle_hold")
    opened = single(rows, "as_idle_open")
    closed = single(rows, "as_idle_close")
    lat = {}
    for p in ("p50_us", "p90_us", "p99_us"):
        lat[p] = {
            "without": spread([float(r[p]) for r in without.values()]),
            "with": spread([float(r[p]) for r in with_.values()]),
            "ratio": spread([float(with_[k][p]) / float(without[k][p])
                             for k in with_ if k in without and float(without[k][p]) > 0]),
        }
    res["auth_latency"] = lat
    res["auth_rate"] = {
        "without": spread([float(r["rate"]) for r in without.values()]),
        "with": spread([float(r["rate"]) for r in with_.values()]),
    }
    res["open"] = {
        "secs": float(opened.get("secs", 0)),
        "rate": float(opened.get("rate", 0)),
        "failed": int(opened.get("fail", 0)),
        "close_secs": float(closed.get("secs", 0)),
    }
    res["idle"] = {
        "held": spread([int(r["held"]) for r in hold.values()]),
        "rss_per_conn_kib": spread([(int(r["rss_a_kb"]) - int(r["rss_b_kb"])) / int(r["held"])
                                    for r in hold.values() if int(r["held"]) > 0]),
        "rss_total_mib": spread([int(r["rss_a_kb"]) / 1024 for r in hold.values()]),
        "rss_reference_mib": spread([int(r["rss_b_kb"]) / 1024 for r in hold.values()]),
        "cpu_pct": spread([100.0 * int(r["cpu_ticks"]) / int(r["hz"]) / float(r["secs"])
                           for r in hold.values()]),
        "wakeups_per_s": spread([int(r["wakeups"]) / float(r["secs"]) for r in hold.values()]),
    }
    with open(sys.argv[3], "w") as f:
        json.dump(res, f, indent=2)

    idle = res["idle"]
    print(f"CYPHONIC event-loop benchmark, loopback, {os.cpu_count()} cores, "
          f"{res['meta']['rounds']} rounds; median (min..max)")
    print("timer re-arm, ns per cyph_loop_timer_rearm():")
    for n, s in rearm.items():
        print(f"  {int(n):>7} timers   {fmt(s, 1)}")
    print(f"{conns} idle TLS connections on one AS:")
    o = res["open"]
    print(f"  opened in           {o['secs']:.1f} s ({o['rate']:.0f}/s), failed {o['failed']}; "
          f"closed by the AS in {o['close_secs']:.1f} s after the client exited")
    print(f"  held by the AS      {fmt(idle['held'], 0)}")
    print(f"  AS RSS              {fmt(idle['rss_total_mib'], 1, ' MiB')}   "
          f"reference AS without them {fmt(idle['rss_reference_mib'], 1, ' MiB')}")
    print(f"  RSS per connection  {fmt(idle['rss_per_conn_kib'], 1, ' KiB')}")
    print(f"  idle AS CPU         {fmt(idle['cpu_pct'], 2, ' %')}")
    print(f"  idle AS wake-ups    {fmt(idle['wakeups_per_s'], 1, '/s')}")
    print("authentication latency (one client, back to back, PBKDF2 1000), "
          f"AS with {conns} idle connections vs the reference AS without:")
    for p, s in lat.items():
        print(f"  {p[:-3]:<4} without {fmt(s['without'], 0, ' us')}   "
              f"with {fmt(s['with'], 0, ' us')}   with/without {fmt(s['ratio'], 2)}")
    print(f"  rate without {fmt(res['auth_rate']['without'], 0, '/s')}   "
          f"with {fmt(res['auth_rate']['with'], 0, '/s')}")


if __name__ == "__main__":
    main()
