#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Instructions per packet by kind and by function, from tcgprof's counts.

    tests/bench/tcgprof/report.py DIR [TOP] [--diff]

DIR holds what tests/vm/run.sh copied with VM_TCGPROF: prof-N.txt (the
guest's instructions per code address between mark N-1 and mark N, from
the TCG plugin), marks.txt ("MARK PACKETS LABEL" per measured window) and
the guest's kallsyms. Every window is printed: the instructions per
packet carried by kind (a rough split by module and function name), then
its TOP functions (default 30). A string instruction (rep stosb, rep
movsb) counts once per byte it moves, as TCG runs it: "zeroing" and
"copy+csum" are mostly bytes.

Windows whose labels differ only by a trailing " round N" are summed
(their instructions and their packets); a window of no packets is left
out, with a warning.
--diff: for labels "WAY n=N" (bench-adapter), also print, per way, what
a packet costs more with the most devices than with the fewest, by kind
and by function.
"""
import bisect
import re
import sys

# Checked in order; the first kind whose rule matches a function wins.
KINDS = [
    ("cipher", re.compile(r"^(aes|_aes|gcm|ghash|clmul|chacha|hchacha|poly1305|"
                          r"crypto_|gf128|scatterwalk|skcipher|aead_)"),
     {"aesni_intel", "ghash_clmulni_intel", "chacha_x86_64", "poly1305_x86_64",
      "libchacha", "libpoly1305", "chacha20poly1305", "gcm", "aes_generic",
      "libaes", "libchacha20poly1305", "crypto_simd", "cryptd"}),
    ("tunnel", re.compile(r"^$"), {"cyphonic", "wireguard"}),
    # Fresh memory is zeroed (init_on_alloc); under TCG a rep stosb of N
    # bytes runs as N instructions, each a block of its own.
    ("zeroing", re.compile(r"^(memset|clear_page)"), set()),
    ("copy+csum", re.compile(r"(memcpy|memmove|copy_user|copy_to|copy_from|"
                             r"csum|checksum|rep_movs|_copy_)"), set()),
    ("tcp", re.compile(r"^(__)?tcp"), set()),
    ("udp/ip", re.compile(r"^(__)?(udp|ip_|ip6|ipv6|inet|fib|dst_|neigh|rt6?_|"
                          r"icmp|raw_|nf_|nft_|ipt_)"),
     {"nf_tables", "nf_conntrack", "nft_chain_nat", "nf_nat", "ip6_udp_tunnel",
      "udp_tunnel", "ip6_tables", "iptable_nat"}),
    ("memory", re.compile(r"(kmem|kmalloc|kfree|slab|slub|page|alloc|free|"
                          r"refcount|mem_cgroup|obj_cgroup)"), set()),
    ("net core", re.compile(r"(skb|napi|netif|^dev_|__dev_|gro|net_rx|backlog|"
                            r"sock|veth|br_|eth_|qdisc|rps_|flow_|__netif|"
                            r"rtnl|gso|__skb)"),
     {"veth", "bridge"}),
    ("sched+irq", re.compile(r"(sched|schedule|switch|irq|softirq|ttwu|wake|"
                             r"timer|rcu|lock|mutex|futex|idle|tick|apic|"
                             r"hrtimer|cpuidle|ksoftirqd|worker|work_|"
                             r"entry_|syscall|native_|do_sys|poll|epoll|"
                             r"task|exit_to)"), set()),
]


# "WAY n=N round R": the adapter benchmark's windows (guest-adapter.sh)
ROUND = re.compile(r" round [0-9]+$")
DEVICES = re.compile(r"(.*) n=([0-9]+)")

# No kernel function is this long: an address further from the symbol
# below it is outside any.
MAX_FUNC = 1 << 16


def kind_of(name, module):
    for kind, pattern, modules in KINDS:
        if module in modules or pattern.search(name):
            return kind
    return "other"


def load_symbols(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            addr = int(parts[0], 16)
            if not addr:
                continue
            module = parts[3].strip("[]") if len(parts) > 3 else ""
            syms.append((addr, parts[2], module))
    syms.sort()
    return [s[0] for s in syms], syms


def load_window(d, mark, label, addrs, syms):
    """Instructions of window MARK by function and by kind, and in all."""
    funcs, kinds = {}, {}
    total = 0
    try:
        f = open(f"{d}/prof-{mark}.txt")
    except OSError:
        sys.exit(f"report.py: no counts for window {mark} ({label}): "
                 f"{d}/prof-{mark}.txt missing (QEMU gone before its mark?)")
    with f:
        for line in f:
            key, count = line.split()
            count = int(count)
            if not count:
                continue
            total += count
            if key == "user":
                fn, kind = ("(user space)", ""), "user"
            elif key == "overflow":
                fn, kind = ("(unmapped: table full)", ""), "other"
            else:
                addr = int(key, 16)
                i = bisect.bisect_right(addrs, addr) - 1
                # Past the last symbol of a region (BPF, trampolines,
                # the vsyscall page) is no function's.
                if i >= 0 and addr - addrs[i] < MAX_FUNC:
                    fn = syms[i][1:]
                else:
                    fn = ("(no symbol)", "")
                kind = kind_of(*fn)
            funcs[fn] = funcs.get(fn, 0) + count
            kinds[kind] = kinds.get(kind, 0) + count
    return funcs, kinds, total


def fn_name(fn):
    name, module = fn
    return f"{name} [{module}]" if module else name


def load_groups(d):
    """Windows of one label less its " round N" summed, in mark order."""
    addrs, syms = load_symbols(d + "/kallsyms")
    groups = {}
    with open(d + "/marks.txt") as f:
        for line in f:
            mark, pkts, label = line.rstrip("\n").split(" ", 2)
            if float(pkts) <= 0:
                print(f"report.py: window {mark} ({label}) carried no packets: "
                      f"left out", file=sys.stderr)
                continue
            funcs, kinds, total = load_window(d, int(mark), label, addrs, syms)
            g = groups.setdefault(ROUND.sub("", label),
                                  {"funcs": {}, "kinds": {}, "total": 0,
                                   "pkts": 0.0, "windows": 0})
            for key, src in (("funcs", funcs), ("kinds", kinds)):
                for k, v in src.items():
                    g[key][k] = g[key].get(k, 0) + v
            g["total"] += total
            g["pkts"] += float(pkts)
            g["windows"] += 1
    return groups


def print_group(label, g, top):
    pkts, total = g["pkts"], g["total"]
    if not pkts or not total:
        print(f"== {label}: no packets or no counts")
        return
    rounds = f", {g['windows']} windows" if g["windows"] > 1 else ""
    print(f"== {label}: {total / pkts:,.0f} guest instructions per packet "
          f"({pkts:,.0f} packets{rounds})")
    for kind, count in sorted(g["kinds"].items(), key=lambda kv: -kv[1]):
        print(f"   {kind:<10} {count / pkts:>9,.0f} {100 * count / total:5.1f}%")
    print(f"   top {top} functions:")
    for fn, count in sorted(g["funcs"].items(), key=lambda kv: -kv[1])[:top]:
        print(f"   {count / pkts:>9,.0f} {100 * count / total:5.1f}%  {fn_name(fn)}")
    print()


def print_diff(way, few, many, top):
    """What a packet costs more with many devices than with few."""
    (n0, a), (n1, b) = few, many
    if not a["pkts"] or not b["pkts"]:
        return
    print(f"== {way}: {n1} devices against {n0}, guest instructions per packet "
          f"({b['total'] / b['pkts']:,.0f} against {a['total'] / a['pkts']:,.0f})")
    for key in ("kinds", "funcs"):
        rows = []
        for k in set(a[key]) | set(b[key]):
            x = a[key].get(k, 0) / a["pkts"]
            y = b[key].get(k, 0) / b["pkts"]
            rows.append((y - x, x, y, k))
        rows.sort(key=lambda r: -abs(r[0]))
        if key == "funcs":
            print(f"   top {top} functions by change:")
            rows = rows[:top]
        for delta, x, y, k in rows:
            name = k if key == "kinds" else fn_name(k)
            print(f"   {delta:>+9,.0f} {x:>9,.0f} -> {y:>9,.0f}  {name}")
    print()


def main():
    args = [a for a in sys.argv[1:] if a != "--diff"]
    if not args:
        sys.exit(__doc__)
    d = args[0]
    top = int(args[1]) if len(args) > 1 else 30
    groups = load_groups(d)
    for label, g in groups.items():
        print_group(label, g, top)
    if "--diff" not in sys.argv:
        return
    ways = {}
    for label, g in groups.items():
        m = DEVICES.fullmatch(label)
        if m:
            ways.setdefault(m.group(1), []).append((int(m.group(2)), g))
    for way, runs in ways.items():
        if len(runs) > 1:
            runs.sort(key=lambda r: r[0])
            print_diff(way, runs[0], runs[-1], top)


if __name__ == "__main__":
    main()
