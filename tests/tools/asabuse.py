#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attacks on the AS, for tests/cloud/part_asabuse.sh (loopback only).

Each command prints one line of key=value figures for the script to check:

  slowloris  open COUNT connections from SRC; on the ones the AS keeps,
             trickle one byte every INTERVAL seconds (inside the TLS
             handshake with --raw, else as application data after it) and
             time how long the AS lets each live
  guess      CONNS connections from the SRCS addresses send AUTH_REQs with
             wrong passwords for NAME back to back for DURATION seconds;
             answers are counted by error code
  timing     sequential failing logins from SRC, the median time of each

Only the Python standard library: the suite must not need more.
"""
import argparse
import os
import random
import resource
import select
import socket
import ssl
import statistics
import struct
import sys
import threading
import time

AUTH_REQ, ERROR = 0x10, 0x7F
A_NAME, A_PASSWORD, A_PUBKEY, A_ERR_CODE = 1, 2, 3, 17
E_AUTH_FAILED, E_RATE_LIMITED = 4, 13


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def auth_frame(req_id, name, password):
    attrs = (tlv(A_NAME, name.encode()) + tlv(A_PASSWORD, password.encode()) +
             tlv(A_PUBKEY, os.urandom(32)))
    return struct.pack(">IBBHI", 8 + len(attrs), 1, AUTH_REQ, 0, req_id) + attrs


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        got = s.recv(n - len(buf))
        if not got:
            raise ConnectionError("closed")
        buf += got
    return buf


def answer_code(s):
    """0 for a success frame, else the ERROR frame's code."""
    n = struct.unpack(">I", read_exact(s, 4))[0]
    body = read_exact(s, n)
    if body[1] != ERROR:
        return 0
    p = body[8:]
    while len(p) >= 4:
        t, ln = struct.unpack(">HH", p[:4])
        if t == A_ERR_CODE:
            return struct.unpack(">H", p[4:6])[0]
        p = p[4 + ln:]
    return -1


def tls_ctx(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def connect(target, src, timeout=5):
    host, port = target.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout,
                                    source_address=(src, 0))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def refused(s):
    """True when the AS closed (reset) a connection it never served."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def cmd_slowloris(a):
    raise_nofile()
    socks = []
    failed = 0
    for _ in range(a.count):
        try:
            socks.append(connect(a.target, a.src))
        except OSError as e:
            failed += 1	# refused before connect returned: as good as refused
            last_err = e
    time.sleep(a.settle)
    kept = [s for s in socks if not refused(s)]
    for s in socks:
        if s not in kept:
            s.close()
    live = []
    ctx = tls_ctx(a.ca)
    host = a.target.rsplit(":", 1)[0]
    for s in kept:
        try:
            if not a.raw:
                s = ctx.wrap_socket(s, server_hostname=host)
            live.append(s)
        except (OSError, ssl.SSLError):
            s.close()
    print(f"connected opened={len(socks)} kept={len(kept)}", flush=True)
    start = {s: time.monotonic() for s in live}
    held = []
    # raw: the start of a TLS record the AS must read whole; TLS: a frame
    # announcing 16000 bytes, so every byte is part of one pending request
    if a.raw:
        trickle = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500)
    else:
        trickle = struct.pack(">IBBHI", 15996, 1, AUTH_REQ, 0, 1) + bytes(15984)
    step = 0
    deadline = time.monotonic() + a.duration
    while live and time.monotonic() < deadline:
        for s in list(live):
            try:
                s.send(trickle[step:step + 1])
                if a.raw:
                    r, _, _ = select.select([s], [], [], 0)
                    if r and s.recv(1, socket.MSG_PEEK) == b"":
                        raise ConnectionError("closed")
                else:
                    s.setblocking(False)
                    try:
                        if s.recv(1) == b"":
                            raise ConnectionError("closed")
                    except (ssl.SSLWantReadError, BlockingIOError):
                        pass
                    finally:
                        s.setblocking(True)
            except (OSError, ssl.SSLError, ConnectionError):
                held.append(time.monotonic() - start[s])
                live.remove(s)
                s.close()
        step += 1
        time.sleep(a.interval)
    for s in live:
        s.close()
    held_ms = sorted(int(h * 1000) for h in held)
    if failed:
        print(f"# {failed} connects failed, last: {last_err}", file=sys.stderr)
    print(f"opened={len(socks) + failed} kept={len(kept)} refused={len(socks) - len(kept) + failed} "
          f"closed_by_as={len(held)} still_open={len(live)} "
          f"held_max_ms={held_ms[-1] if held_ms else 0} "
          f"held_min_ms={held_ms[0] if held_ms else 0}", flush=True)


def cmd_guess(a):
    counts = {"auth_failed": 0, "rate_limited": 0, "ok": 0, "other": 0, "closed": 0}
    lock = threading.Lock()
    first_fail = []
    end = time.monotonic() + a.duration
    ctx = tls_ctx(a.ca)
    host = a.target.rsplit(":", 1)[0]
    srcs = a.srcs.split(",")

    def worker(i):
        req = 0
        s = None
        while time.monotonic() < end:
            try:
                if s is None:
                    s = ctx.wrap_socket(connect(a.target, srcs[i % len(srcs)]),
                                        server_hostname=host)
                req += 1
                s.sendall(auth_frame(req, a.name, f"guess-{i}-{req}-{random.random()}"))
                code = answer_code(s)
                if a.pause:
                    time.sleep(a.pause)
            except (OSError, ssl.SSLError, ConnectionError):
                with lock:
                    counts["closed"] += 1
                if s:
                    s.close()
                s = None
                time.sleep(0.05)
                continue
            key = {0: "ok", E_AUTH_FAILED: "auth_failed",
                   E_RATE_LIMITED: "rate_limited"}.get(code, "other")
            with lock:
                counts[key] += 1
                if key == "auth_failed" and not first_fail:
                    first_fail.append(time.monotonic())
        if s:
            s.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    tries = counts["auth_failed"] + counts["ok"]
    print(" ".join(f"{k}={v}" for k, v in counts.items()) +
          f" checked={tries} seconds={secs:.1f}", flush=True)


def cmd_timing(a):
    ctx = tls_ctx(a.ca)
    host = a.target.rsplit(":", 1)[0]
    times = []
    for i in range(a.tries):
        name = f"{a.name}{i}" if a.suffix else a.name
        s = ctx.wrap_socket(connect(a.target, a.src), server_hostname=host)
        t = time.monotonic()
        s.sendall(auth_frame(i + 1, name, "definitely-wrong"))
        code = answer_code(s)
        times.append((time.monotonic() - t) * 1000)
        s.close()
        if code != E_AUTH_FAILED:
            print(f"unexpected answer {code}", file=sys.stderr)
            sys.exit(1)
    print(f"median_ms={statistics.median(times):.1f} min_ms={min(times):.1f} "
          f"max_ms={max(times):.1f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True, help="AS host:port")
    p.add_argument("--ca", required=True, help="AS CA certificate")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("slowloris")
    s.add_argument("--src", required=True)
    s.add_argument("--count", type=int, default=1000)
    s.add_argument("--interval", type=float, default=0.5)
    s.add_argument("--duration", type=float, default=8)
    s.add_argument("--settle", type=float, default=0.5)
    s.add_argument("--raw", action="store_true", help="trickle inside the handshake")
    g = sub.add_parser("guess")
    g.add_argument("--srcs", required=True, help="comma-separated source addresses")
    g.add_argument("--conns", type=int, default=16)
    g.add_argument("--name", required=True)
    g.add_argument("--duration", type=float, default=6)
    g.add_argument("--pause", type=float, default=0.01,
                   help="seconds between a connection's guesses (0: flat out; on "
                        "loopback the attacker's CPU is the AS's too)")
    t = sub.add_parser("timing")
    t.add_argument("--src", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--tries", type=int, default=3)
    t.add_argument("--suffix", action="store_true", help="NAME0, NAME1, ...: unknown names")
    a = p.parse_args()
    {"slowloris": cmd_slowloris, "guess": cmd_guess, "timing": cmd_timing}[a.cmd](a)


if __name__ == "__main__":
    main()
