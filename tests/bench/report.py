#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turn the records of tests/bench/guest-throughput.sh into the benchmark
table (stdout) and a JSON document.

    report.py RECORDS JSON_OUT [--rev REV]

RECORDS holds the guest's stdout: "@@BENCH key=value ..." measurement
records and "@@TCRYPT mode=N <kernel line>" speed lines of the kernel's
tcrypt module. Every figure is the median over the rounds; ratios are
taken between medians of the same run, never across runs.

The benchmark reports; it does not judge. The target lines at the end say
"met" or "missed" for convenience, and the exit status does not depend on
them.
"""
import json
import re
import statistics
import sys

# (id, label, cipher key for the ceiling or None)
CONFIGS = [
    ("veth", "plain veth (ceiling)", None),
    ("wg", "WireGuard (chacha)", "chacha20-poly1305"),
    ("cy-aes-1", "cyphonic aes-gcm w=1", "aes-gcm"),
    ("cy-aes-all", "cyphonic aes-gcm w=all", "aes-gcm"),
    ("cy-chacha-1", "cyphonic chacha w=1", "chacha20-poly1305"),
    ("cy-chacha-all", "cyphonic chacha w=all", "chacha20-poly1305"),
]
TESTS = [
    ("tcp1", "TCP, 1 stream"),
    ("tcp4", "TCP, 4 streams"),
    ("udp", "UDP, offered above capacity (received)"),
]
# tcrypt algorithm standing for each tunnel cipher (same primitives and
# 256-bit key; rfc7539esp adds a 4-byte salt to the key, hence 288 bits).
# tcrypt has no speed test of the library ChaCha20 and Poly1305 that
# cyphonic and WireGuard seal with, which take about 9% less time per
# 1420-byte seal than this template (CIPHER_NOTES).
CIPHER_ALGS = {
    "aes-gcm": "gcm(aes)",
    "chacha20-poly1305": "rfc7539esp(chacha20,poly1305)",
}

CIPHER_NOTES = {
    "chacha20-poly1305": ["(the tunnels seal with the library ChaCha20 and Poly1305, about 9% faster",
                          " than this template: their efficiency against it reads up to that much high)"],
}

SPEED_HDR = re.compile(r"testing speed of (\S+) \((.*)\) (encryption|decryption)")
SPEED_LINE = re.compile(
    r"\((\d+) bit key, (\d+) byte blocks\): (\d+) operations in (\d+) seconds \((\d+) bytes\)")


def parse(path):
    records, tcrypt_lines = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("@@BENCH "):
                words = line.split()[1:]
                rec = {"kind": "measure"}
                if words and "=" not in words[0]:
                    rec["kind"] = words.pop(0)
                for w in words:
                    k, _, v = w.partition("=")
                    rec[k] = v
                records.append(rec)
            elif line.startswith("@@TCRYPT "):
                tcrypt_lines.append(line)
    return records, tcrypt_lines


def tcrypt_speeds(lines):
    """{(alg, direction): {"driver", "sizes": {(keybits, block): bytes/s}}}"""
    speeds, cur = {}, None
    for line in lines:
        m = SPEED_HDR.search(line)
        if m:
            cur = speeds.setdefault((m.group(1), m.group(3)),
                                    {"driver": m.group(2), "sizes": {}})
            continue
        m = SPEED_LINE.search(line)
        if m and cur is not None:
            keybits, block, _ops, secs, nbytes = map(int, m.groups())
            cur["sizes"][(keybits, block)] = nbytes / secs
    return speeds


def fitted_speed(sizes, keybits, block):
    """Bytes/s at BLOCK from every block size >= 256 of one key size.

    Each tcrypt figure is a single 1-second sample, and a busy host can
    halve one of them. The time per operation is close to linear in the
    block size (a fixed cost plus a cost per byte), so a line is fitted
    through all the samples with the Theil-Sen estimator (median of the
    pairwise slopes; one bad second cannot move it) and read at BLOCK."""
    pts = sorted((b, b / bps) for (k, b), bps in sizes.items() if k == keybits and b >= 256)
    if len(pts) < 3:
        return sizes[(keybits, block)]
    slope = statistics.median((t2 - t1) / (b2 - b1) for i, (b1, t1) in enumerate(pts)
                              for b2, t2 in pts[i + 1:])
    icpt = statistics.median(t - slope * b for b, t in pts)
    t = icpt + slope * block
    return block / t if t > 0 else sizes[(keybits, block)]


def ceilings(speeds, mtu, cpus):
    """Per tunnel cipher: enc/dec speed at the block size nearest the MTU,
    largest key, and the one-CPU tunnel ceiling 1/(1/enc + 1/dec)."""
    out = {}
    for cipher, alg in CIPHER_ALGS.items():
        enc, dec = speeds.get((alg, "encryption")), speeds.get((alg, "decryption"))
        if not enc or not dec:
            continue
        common = set(enc["sizes"]) & set(dec["sizes"])
        if not common:
            continue
        keybits = max(k for k, _ in common)
        block = min((b for k, b in common if k == keybits), key=lambda b: (abs(b - mtu), b))
        e = fitted_speed(enc["sizes"], keybits, block)
        d = fitted_speed(dec["sizes"], keybits, block)
        out[cipher] = {
            "alg": alg, "driver": enc["driver"], "key_bits": keybits, "block_bytes": block,
            "enc_mbps": e * 8e-6, "dec_mbps": d * 8e-6,
            "ceiling_mbps": 8e-6 / (1 / e + 1 / d),
            # Every CPU doing nothing but crypto: a bound no tunnel reaches,
            # shown because the one-CPU figure is no bound for workers=all.
            "ceiling_all_cpus_mbps": cpus * 8e-6 / (1 / e + 1 / d),
            "enc_mbps_sample": enc["sizes"][(keybits, block)] * 8e-6,
            "dec_mbps_sample": dec["sizes"][(keybits, block)] * 8e-6,
            "enc_mbps_by_block": {b: round(v * 8e-6, 2) for (k, b), v in sorted(enc["sizes"].items())
                                  if k == keybits},
            "dec_mbps_by_block": {b: round(v * 8e-6, 2) for (k, b), v in sorted(dec["sizes"].items())
                                  if k == keybits},
        }
    return out


def median_of(records, test, cfg, key):
    vals = [float(r[key]) for r in records
            if r.get("test") == test and r.get("cfg") == cfg and key in r
            and r.get(key) not in ("nan", "")]
    return (statistics.median(vals) if vals else None), vals


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(records, ceil):
    meas = [r for r in records if r["kind"] == "measure"]
    res = {}
    for test, _ in TESTS:
        res[test] = {}
        for cfg, _, cipher in CONFIGS:
            mbps, samples = median_of(meas, test, cfg, "bps")
            mbps = mbps * 1e-6 if mbps is not None else None
            row = {"mbps": mbps, "samples_mbps": [round(v * 1e-6, 3) for v in samples],
                   "failed_runs": sum(1 for r in meas if r.get("test") == test
                                      and r.get("cfg") == cfg and r.get("error"))}
            if test == "udp":
                row["loss_pct"] = median_of(meas, test, cfg, "loss_pct")[0]
            else:
                row["retransmits"] = median_of(meas, test, cfg, "retransmits")[0]
            c = ceil.get(cipher) if cipher else None
            row["efficiency"] = ratio(mbps, c["ceiling_mbps"]) if c else None
            row["efficiency_all_cpus"] = \
                ratio(mbps, c["ceiling_all_cpus_mbps"]) if c else None
            res[test][cfg] = row
        for cfg in res[test]:
            row = res[test][cfg]
            row["x_wg"] = ratio(row["mbps"], res[test]["wg"]["mbps"])
            row["x_veth"] = ratio(row["mbps"], res[test]["veth"]["mbps"])
    res["icmp"] = {}
    for cfg, _, _ in CONFIGS:
        avg, samples = median_of(meas, "icmp", cfg, "rtt_ms")
        times = [float(x) for r in meas if r.get("test") == "icmp" and r.get("cfg") == cfg
                 for x in r.get("times_ms", "").split(",") if x]
        med = statistics.median(times) if times else None
        res["icmp"][cfg] = {"rtt_us": med * 1e3 if med is not None else None,
                            "avg_rtt_us": avg * 1e3 if avg is not None else None,
                            "round_avgs_us": [round(v * 1e3, 1) for v in samples],
                            "pings": len(times)}
    for key in ("rtt_us", "avg_rtt_us"):
        base, wg = res["icmp"]["veth"][key], res["icmp"]["wg"][key]
        suffix = "" if key == "rtt_us" else "_avg"
        for row in res["icmp"].values():
            v = row[key]
            row["overhead_us" + suffix] = v - base if v is not None and base is not None else None
            row["x_veth" + suffix] = ratio(v, base)
            row["x_wg" + suffix] = ratio(v, wg)
    return res


def targets(res):
    """The goals of issue 3, evaluated on this run's medians."""
    out = []

    def add(name, value, threshold):
        out.append({"target": name, "value": value, "threshold": threshold,
                    "met": None if value is None else value >= threshold})

    for t in ("tcp1", "tcp4"):
        add(f"chacha w=all >= WireGuard, {t} (x WG)", res[t]["cy-chacha-all"]["x_wg"], 1.0)
    for t in ("tcp1", "tcp4"):
        add(f"aes-gcm w=all >= 2x WireGuard, {t} (x WG)", res[t]["cy-aes-all"]["x_wg"], 2.0)
    for cfg in ("cy-aes-all", "cy-chacha-all"):
        for t in ("tcp1", "tcp4"):
            add(f"{cfg} efficiency >= 60% of the one-CPU cipher ceiling, {t}",
                res[t][cfg]["efficiency"], 0.6)
            add(f"{cfg} efficiency >= 60% of the all-vCPU cipher ceiling, {t}",
                res[t][cfg]["efficiency_all_cpus"], 0.6)
    for c in ("aes", "chacha"):
        add(f"{c} w=all >= 1.6x w=1, tcp4",
            ratio(res["tcp4"][f"cy-{c}-all"]["mbps"], res["tcp4"][f"cy-{c}-1"]["mbps"]), 1.6)
    return out


def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def pct(v):
    return "-" if v is None else f"{v * 100:.0f}%"


def table(meta, ceil, res, tgt):
    L = []
    L.append(f"cyphonic data-plane benchmark: QEMU TCG guest, kernel {meta.get('kernel', '?')}, "
             f"{meta.get('cpus', '?')} vCPUs, MTU {meta.get('mtu', '?')} on every tunnel")
    L.append(f"{meta.get('rounds', '?')} interleaved rounds, iperf3 {meta.get('seconds', '?')} s per run "
             f"(TCP +1 s omitted), medians; guest time {meta.get('elapsed_s', '?')} s; "
             f"revision {meta.get('rev', '?')}")
    L.append("Absolute numbers are emulation speed; only ratios within this run mean anything.")
    L.append("")
    L.append("Cipher ceilings (kernel tcrypt, one CPU, synchronous; every tunnel byte is encrypted once")
    L.append("and decrypted once, so ceiling = 1 / (1/enc + 1/dec); enc and dec read at the block size")
    L.append("from a line fitted through all block sizes >= 256, the 1-s sample at that size in brackets):")
    if not ceil:
        L.append("  (not measured: BENCH_TCRYPT=0 or no tcrypt output)")
    for cipher, c in ceil.items():
        L.append(f"  {cipher:<18} {c['alg']} [{c['driver']}] {c['key_bits']}-bit key, "
                 f"{c['block_bytes']}-byte blocks: enc {c['enc_mbps']:.1f} ({c['enc_mbps_sample']:.1f}), "
                 f"dec {c['dec_mbps']:.1f} ({c['dec_mbps_sample']:.1f}) "
                 f"-> ceiling {c['ceiling_mbps']:.1f} Mbit/s")
        L.append(f"  {'':<18} (all {meta.get('cpus', '?')} CPUs on crypto alone: "
                 f"{c['ceiling_all_cpus_mbps']:.1f} Mbit/s)")
        for note in CIPHER_NOTES.get(cipher, []):
            L.append(f"  {'':<18} {note}")
    for test, title in TESTS:
        L.append("")
        extra = "loss" if test == "udp" else "retr"
        L.append(f"{title:<40} {'Mbit/s':>8} {'min..max':>15} {'x WG':>6} {'x veth':>7} "
                 f"{'eff.':>5} {'eff/N':>5} {extra:>6}")
        for cfg, label, _ in CONFIGS:
            r = res[test][cfg]
            s = r["samples_mbps"]
            rng = f"{min(s):.1f}..{max(s):.1f}" if s else "-"
            ex = (fmt(r["loss_pct"], ".1f") + "%" if r.get("loss_pct") is not None else "-") \
                if test == "udp" else fmt(r.get("retransmits"), ".0f")
            fail = f"  ({r['failed_runs']} failed)" if r["failed_runs"] else ""
            L.append(f"  {label:<38} {fmt(r['mbps'], '.1f'):>8} {rng:>15} {fmt(r['x_wg'], '.2f'):>6} "
                     f"{fmt(r['x_veth'], '.3f'):>7} {pct(r['efficiency']):>5} "
                     f"{pct(r['efficiency_all_cpus']):>5} {ex:>6}{fail}")
    L.append("")
    L.append(f"{'ICMP round trip (ping -i 0.01)':<40} {'median':>8} {'+us/veth':>15} "
             f"{'x WG':>6} {'x veth':>7} {'mean':>6} {'+us/veth':>8}")
    for cfg, label, _ in CONFIGS:
        r = res["icmp"][cfg]
        L.append(f"  {label:<38} {fmt(r['rtt_us'], '.0f'):>8} {fmt(r['overhead_us'], '+.0f'):>15} "
                 f"{fmt(r['x_wg'], '.2f'):>6} {fmt(r['x_veth'], '.2f'):>7} "
                 f"{fmt(r['avg_rtt_us'], '.0f'):>6} {fmt(r['overhead_us_avg'], '+.0f'):>8}")
    L.append("")
    L.append("ICMP in microseconds: median of every echo of every round, and the median of")
    L.append("the rounds' means (ping's avg); x WG and x veth use the medians.")
    L.append("eff. = throughput / cipher ceiling (goodput, so headers count against it) of one")
    L.append("CPU, which parallel crypto can exceed; eff/N = the same against all vCPUs doing")
    L.append("nothing but crypto, the stricter measure (WireGuard's is the one to compare).")
    L.append("x WG and x veth = throughput / the same test's WireGuard and plain veth medians.")
    L.append("")
    L.append("Targets (reported, not enforced):")
    for t in tgt:
        v = t["value"]
        shown = "-" if v is None else (f"{v * 100:.0f}%" if t["threshold"] < 1 else f"{v:.2f}")
        want = f"{t['threshold'] * 100:.0f}%" if t["threshold"] < 1 else f"{t['threshold']:.1f}"
        verdict = {True: "met   ", False: "missed", None: "n/a   "}[t["met"]]
        L.append(f"  {verdict} {t['target']}: {shown} (want >= {want})")
    return "\n".join(L)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: report.py RECORDS JSON_OUT [--rev REV]")
    records, tlines = parse(sys.argv[1])
    meta = {}
    for r in records:
        if r["kind"] == "meta":
            meta.update({k: int(v) if v.isdigit() else v for k, v in r.items() if k != "kind"})
    if "--rev" in sys.argv:
        meta["rev"] = sys.argv[sys.argv.index("--rev") + 1]
    if not any(r["kind"] == "measure" for r in records):
        sys.exit("report.py: no measurement records in " + sys.argv[1])
    ceil = ceilings(tcrypt_speeds(tlines), int(meta.get("mtu", 1420)), int(meta.get("cpus", 1)))
    res = summarize(records, ceil)
    tgt = targets(res)
    doc = {
        "meta": meta,
        "crypto_drivers": [{k: v for k, v in r.items() if k != "kind"}
                           for r in records if r["kind"] == "crypto"],
        "cipher_ceilings": ceil,
        "configs": [{"id": c, "label": label, "cipher": ci} for c, label, ci in CONFIGS],
        "results": res,
        "targets": tgt,
        "drops": [{k: v for k, v in r.items() if k != "kind"}
                  for r in records if r["kind"] == "drops"],
    }
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(table(meta, ceil, res, tgt))
    drops = [r for r in doc["drops"] if len(r) > 2]
    if drops:
        print("\ncyphonic drop counters (non-zero):")
        for d in drops:
            print("  " + " ".join(f"{k}={v}" for k, v in d.items()))


if __name__ == "__main__":
    main()
