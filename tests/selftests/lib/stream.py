#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An MJPEG-like constant-rate UDP stream and its receiver, for the
adapter scenarios: a camera sends FPS frames a second, each frame a burst
of datagrams adding up to RATE, as an MJPEG camera over RTP does; the
receiver counts datagrams and whole frames per source, and the longest
silence between two datagrams of one source (the stream's interruption).

    stream.py send DST PORT KBITPS FPS SECONDS [SIZE]
        prints: started, then sent datagrams=N frames=F errors=E
    stream.py recv PORT SECONDS [MARK_FILE]
        prints, per source, once every stream ended (4 s without a
        datagram) or SECONDS have passed:
        src=ADDR datagrams=N frames=F frames_seen=S max_gap_ms=G first_ms=A last_ms=B
        (A, B: its first and last datagram, in ms since the receiver
        started); with MARK_FILE (an event's time as /proc/uptime shows
        it, written while the streams run) also: before=N after=N cut_ms=C,
        the datagrams on each side of the event and the silence across it
    stream.py flood PPS SECONDS TARGET...
        a misbehaving device: PPS datagrams a second of random garbage
        (random length and port) to random addresses in each TARGET
        (a prefix, "10.77.0.0/16", or an address); prints: flooded=N

Both families (the receiver binds [::], so IPv4 sources show as plain
IPv4). Datagrams that are not ours are counted as "foreign" and dropped.
Under TCG a Python sender keeps a few hundred datagrams a second easily;
it catches up on late ticks, so the rate holds on average.
"""
import socket
import struct
import sys
import time

HDR = struct.Struct("!4sIHH")   # magic, frame number, index, datagrams in frame
MAGIC = b"CYST"


IDLE = 4.0


def marked(times, mark):
    """ before=N after=N cut_ms=G: datagrams on each side of the mark, and
    the silence across it (last before to first after)"""
    if mark is None:
        return ""
    before = [t for t in times if t < mark]
    after = [t for t in times if t >= mark]
    cut = (after[0] - before[-1]) * 1000 if before and after else -1
    return f" before={len(before)} after={len(after)} cut_ms={cut:.0f}"


def send(dst, port, kbitps, fps, secs, size=1200):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    frame_bytes = max(1, kbitps * 1000 // 8 // fps)
    per_frame = max(1, -(-frame_bytes // size))
    pad = b"\0" * (size - HDR.size)
    frames = int(secs * fps)
    sent = errors = 0
    print("started", flush=True)
    t0 = time.monotonic()
    for f in range(frames):
        delay = t0 + f / fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for i in range(per_frame):
            try:
                s.sendto(HDR.pack(MAGIC, f, i, per_frame) + pad, (dst, port))
                sent += 1
            except OSError:
                errors += 1   # no route yet, or a full queue: a lost datagram
    print(f"sent datagrams={sent} frames={frames} errors={errors}", flush=True)


def now():
    """CLOCK_BOOTTIME: what /proc/uptime shows, so a shell can mark events"""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def recv(port, secs, mark_file=None):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:    # past rmem_max: a slow guest must not lose datagrams in our socket
        s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)   # SO_RCVBUFFORCE (Linux)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("::", port))
    print("listening", flush=True)
    src = {}
    foreign = 0
    t0 = now()
    end = t0 + secs
    last = None
    while True:
        left = end - now()
        if last is not None:   # every stream ended: IDLE s without a datagram
            left = min(left, last + IDLE - now())
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, addr = s.recvfrom(65536)
        except socket.timeout:
            break
        t = last = now()
        if len(data) < HDR.size or data[:4] != MAGIC:
            foreign += 1
            continue
        _, f, i, n = HDR.unpack_from(data)
        a = addr[0].removeprefix("::ffff:")
        st = src.setdefault(a, {"n": 0, "frames": {}, "last": None, "gap": 0.0, "first": t,
                                "times": []})
        st["n"] += 1
        st["times"].append(t)
        got = st["frames"].setdefault(f, [0, n])
        got[0] += 1
        if st["last"] is not None:
            st["gap"] = max(st["gap"], t - st["last"])
        st["last"] = t
    mark = None
    if mark_file:
        try:
            with open(mark_file, encoding="ascii") as f:
                mark = float(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    for a, st in sorted(src.items()):
        whole = sum(1 for g, n in st["frames"].values() if g >= n)
        print(f"src={a} datagrams={st['n']} frames={whole} frames_seen={len(st['frames'])} "
              f"max_gap_ms={st['gap'] * 1000:.0f} first_ms={(st['first'] - t0) * 1000:.0f} "
              f"last_ms={(st['last'] - t0) * 1000:.0f}" + marked(st["times"], mark))
    print(f"foreign={foreign}", flush=True)


def flood(pps, secs, targets):
    import ipaddress
    import os
    import random
    nets = [ipaddress.ip_network(t, strict=False) for t in targets]
    socks = {4: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             6: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)}
    junk = os.urandom(2048)
    sent = 0
    t0 = time.monotonic()
    end = t0 + secs
    while time.monotonic() < end:
        due = int((time.monotonic() - t0) * pps) - sent
        if due <= 0:
            time.sleep(0.005)
            continue
        for _ in range(due):
            n = random.choice(nets)
            a = n[random.randrange(n.num_addresses)] if n.num_addresses > 1 else n[0]
            off = random.randrange(1024)
            try:
                socks[n.version].sendto(junk[off:off + random.randrange(1, 1400)],
                                        (str(a), random.randrange(1, 65536)))
            except OSError:
                pass   # unreachable or a full queue: the flood goes on
            sent += 1
    print(f"flooded={sent}", flush=True)


def main(argv):
    if len(argv) >= 7 and argv[1] == "send":
        send(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]),
             *(int(x) for x in argv[7:8]))
    elif len(argv) >= 5 and argv[1] == "flood":
        flood(int(argv[2]), float(argv[3]), argv[4:])
    elif len(argv) in (4, 5) and argv[1] == "recv":
        recv(int(argv[2]), float(argv[3]), *argv[4:5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
