#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Capture, mutate and resend CYPHONIC packets for the selftests.

Standard library only; runs inside a network namespace of the test VM.

  pkt.py capture --ifname IF (--dport P | --sport P) --count N --out FILE
                 [--timeout S] [--ready FILE] [--any-type | --type T]
      Capture incoming IPv4/IPv6 UDP packets to port P (or from port P) on
      IF (DATA packets only unless --any-type; type T only with --type,
      e.g. 4 for RELAY) and write them, whole IP packets in hex, one per
      line, to FILE. Exit 0 when N packets were captured.

  pkt.py inject --ifname IF --dst-mac MAC --from FILE [mutations]
      Send the captured IP packets out of IF unchanged apart from the
      mutations (same source address and port: a true replay).

  pkt.py send --dst IP --dport P [--src IP] [--sport P]
              (--from FILE [mutations] | --payload HEX) [--tail HEX] [--gso]
      Send UDP payloads from an ordinary socket (so from this namespace's
      own address), then the --tail payload if given. With --gso, all of
      them leave in one UDP_SEGMENT send, as one GSO datagram (a train):
      every payload but the last must be as long as the first, the last
      no longer.

  pkt.py hold --ifname IF --until FILE --pattern HEX [--ready FILE]
             [--timeout S]
      Keep what IF receives queued in a packet socket that reads nothing
      until FILE exists (the stack's clones of each skb, as a sniffer that
      falls behind holds them), then read it all and print "frames N whole
      W pattern P": the frames received, those longer than --mtu (GSO
      datagrams that came whole) and those holding the bytes HEX.

Mutations (applied to the UDP payload of each captured packet):
  --tamper OFF      flip the bits of the byte at offset OFF
  --truncate LEN    keep only the first LEN bytes
  --index N         rewrite the receiver index
  --key-id K        rewrite the key id bits of the flags
  --limit N         use only the first N packets
"""

import argparse
import binascii
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
IPPROTO_UDP = 17
SOL_UDP = 17
UDP_SEGMENT = 103
SO_RCVBUFFORCE = 33
MSG_DATA = 1
DATA_HDR_LEN = 16


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class UdpPacket:
    """An IPv4 or IPv6 packet (no options/extension headers) carrying UDP."""

    def __init__(self, raw):
        version = raw[0] >> 4
        if version == 4:
            ihl = (raw[0] & 0x0F) * 4
            if raw[9] != IPPROTO_UDP:
                raise ValueError("not UDP")
            self.ip_hdr = bytearray(raw[:ihl])
        elif version == 6:
            if raw[6] != IPPROTO_UDP:
                raise ValueError("not UDP (or has extension headers)")
            self.ip_hdr = bytearray(raw[:40])
        else:
            raise ValueError("not IP")
        self.version = version
        off = len(self.ip_hdr)
        self.sport, self.dport, _, _ = struct.unpack("!HHHH", raw[off:off + 8])
        self.payload = bytes(raw[off + 8:])

    def src(self):
        if self.version == 4:
            return socket.inet_ntop(socket.AF_INET, bytes(self.ip_hdr[12:16]))
        return socket.inet_ntop(socket.AF_INET6, bytes(self.ip_hdr[8:24]))

    def build(self, payload):
        """The whole IP packet around PAYLOAD, lengths and checksums fixed."""
        ulen = 8 + len(payload)
        hdr = bytearray(self.ip_hdr)
        if self.version == 4:
            struct.pack_into("!H", hdr, 2, len(hdr) + ulen)
            struct.pack_into("!H", hdr, 10, 0)
            struct.pack_into("!H", hdr, 10, csum(bytes(hdr)))
            pseudo = bytes(hdr[12:20]) + struct.pack("!BBH", 0, IPPROTO_UDP, ulen)
        else:
            struct.pack_into("!H", hdr, 4, ulen)
            pseudo = bytes(hdr[8:40]) + struct.pack("!I3xB", ulen, IPPROTO_UDP)
        udp = struct.pack("!HHHH", self.sport, self.dport, ulen, 0) + payload
        c = csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        return bytes(hdr) + udp


def mutate(payload, args):
    p = bytearray(payload)
    if args.index is not None and len(p) >= 8:
        struct.pack_into("!I", p, 4, args.index)
    if args.key_id is not None and len(p) >= 2:
        p[1] = (p[1] & ~0x03) | (args.key_id & 0x03)
    if args.tamper is not None:
        if args.tamper >= len(p):
            sys.exit("pkt.py: --tamper %d beyond a %d-byte payload" % (args.tamper, len(p)))
        p[args.tamper] ^= 0xFF
    if args.truncate is not None:
        p = p[:args.truncate]
    return bytes(p)


def load(path, limit):
    with open(path) as f:
        pkts = [UdpPacket(binascii.unhexlify(line.strip())) for line in f if line.strip()]
    if not pkts:
        sys.exit("pkt.py: no packets in %s" % path)
    return pkts[:limit] if limit else pkts


def cmd_capture(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.bind((args.ifname, 0))
    s.settimeout(0.2)
    if args.ready:
        open(args.ready, "w").close()
    got = []
    end = time.time() + args.timeout
    while len(got) < args.count and time.time() < end:
        try:
            raw, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING or addr[1] not in (ETH_P_IP, ETH_P_IPV6):
            continue
        try:
            pkt = UdpPacket(raw)
        except ValueError:
            continue
        if args.dport is not None and pkt.dport != args.dport:
            continue
        if args.sport is not None and pkt.sport != args.sport:
            continue
        want = MSG_DATA if args.type is None else args.type
        if not args.any_type and (not pkt.payload or pkt.payload[0] != want):
            continue
        got.append(raw)
    with open(args.out, "w") as f:
        for raw in got:
            f.write(binascii.hexlify(raw).decode() + "\n")
    print("captured %d packet(s) on %s" % (len(got), args.ifname), file=sys.stderr)
    return 0 if len(got) >= args.count else 1


def cmd_inject(args):
    dst = binascii.unhexlify(args.dst_mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.ifname, 0))
    src = s.getsockname()[4][:6]
    for pkt in load(args.from_file, args.limit):
        ethertype = ETH_P_IP if pkt.version == 4 else ETH_P_IPV6
        frame = dst + src + struct.pack("!H", ethertype) + pkt.build(mutate(pkt.payload, args))
        s.send(frame)
        time.sleep(0.01)
    return 0


def cmd_send(args):
    family = socket.AF_INET6 if ":" in args.dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if args.src or args.sport:
        s.bind((args.src or ("::" if family == socket.AF_INET6 else "0.0.0.0"), args.sport))
    if args.payload is not None:
        payloads = [binascii.unhexlify(args.payload)]
    else:
        payloads = [mutate(p.payload, args) for p in load(args.from_file, args.limit)]
    if args.tail is not None:
        payloads.append(binascii.unhexlify(args.tail))
    if args.gso:
        size = len(payloads[0])
        if any(len(p) != size for p in payloads[:-1]) or len(payloads[-1]) > size:
            sys.exit("pkt.py: --gso needs payloads of one length (the last no longer)")
        s.setsockopt(SOL_UDP, UDP_SEGMENT, size)
        s.sendto(b"".join(payloads), (args.dst, args.dport))
        return 0
    for p in payloads:
        s.sendto(p, (args.dst, args.dport))
        time.sleep(0.01)
    return 0


def cmd_hold(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    s.bind((args.ifname, 0))
    if args.ready:
        open(args.ready, "w").close()
    end = time.time() + args.timeout
    while not os.path.exists(args.until) and time.time() < end:
        time.sleep(0.1)
    s.setblocking(False)
    pattern = binascii.unhexlify(args.pattern)
    frames = whole = seen = 0
    while True:
        try:
            raw, addr = s.recvfrom(1 << 18)
        except BlockingIOError:
            break
        if addr[2] == PACKET_OUTGOING:
            continue
        frames += 1
        whole += len(raw) > args.mtu + 14
        seen += pattern in raw
    print("frames %d whole %d pattern %d" % (frames, whole, seen))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("capture")
    c.add_argument("--ifname", required=True)
    c.add_argument("--dport", type=int)
    c.add_argument("--sport", type=int)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--ready")
    c.add_argument("--any-type", action="store_true")
    c.add_argument("--type", type=int)

    def mutations(p):
        p.add_argument("--from", dest="from_file")
        p.add_argument("--tamper", type=int)
        p.add_argument("--truncate", type=int)
        p.add_argument("--index", type=lambda v: int(v, 0))
        p.add_argument("--key-id", type=int)
        p.add_argument("--limit", type=int)

    i = sub.add_parser("inject")
    i.add_argument("--ifname", required=True)
    i.add_argument("--dst-mac", required=True)
    mutations(i)

    s = sub.add_parser("send")
    s.add_argument("--dst", required=True)
    s.add_argument("--dport", type=int, required=True)
    s.add_argument("--src")
    s.add_argument("--sport", type=int, default=0)
    s.add_argument("--payload")
    s.add_argument("--tail")
    s.add_argument("--gso", action="store_true")
    mutations(s)

    h = sub.add_parser("hold")
    h.add_argument("--ifname", required=True)
    h.add_argument("--until", required=True)
    h.add_argument("--timeout", type=float, default=60)
    h.add_argument("--pattern", required=True)
    h.add_argument("--mtu", type=int, default=1500)
    h.add_argument("--ready")

    args = ap.parse_args()
    if args.cmd == "capture" and (args.dport is None) == (args.sport is None):
        ap.error("capture needs exactly one of --dport and --sport")
    if args.cmd == "inject" and not args.from_file:
        ap.error("inject needs --from")
    if args.cmd == "send" and (args.from_file is None) == (args.payload is None):
        ap.error("send needs exactly one of --from and --payload")
    return {"capture": cmd_capture, "inject": cmd_inject, "send": cmd_send,
            "hold": cmd_hold}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
