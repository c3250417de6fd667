#!/usr/bin/env python3
"""Lab packet tool for the issue-17 e2e tests (ICMP errors, fragments). Runs inside a lab
namespace; every loop is bounded in count and time. Prints one JSON line.

  icmp-error VIP CLIENT CPORT MTU        ICMP frag needed to VIP quoting VIP:80 -> CLIENT:CPORT (TCP)
  echo VIP                               ICMP echo request; {"reply": true} if the VIP's kernel answers
  udp VIP PORT COUNT                     COUNT 4,000-byte datagrams from fresh ports (the kernel fragments; IPv4 or IPv6)
  frags SRC VIP PORT SPORT ORDER         one 4,000-byte datagram as 3 hand-made fragments sent in ORDER (e.g. 201)
  refused VIP PORT                       connected UDP to a port nobody serves: {"refused": true} once the
                                         real server's port unreachable comes back as from the VIP
  udp-server BIND PORT NAME              answer each datagram with NAME, its length and digest (padded to 3,000 bytes; BIND :: for IPv6)
"""
import hashlib
import json
import os
import socket
import struct
import sys
import time

PAYLOAD = bytes((i * 7) & 0xFF for i in range(4000))


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_header(src: str, dst: str, proto: int, length: int, ident: int, flags_frag: int, ttl: int = 64) -> bytes:
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident, flags_frag, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:]


def icmp_error(vip: str, client: str, cport: int, mtu: int) -> None:
    # The packet a router refused: the real server's segment from VIP:80 to the client.
    tcp = struct.pack("!HHII", 80, cport, 1, 1)
    quoted = ip_header(vip, client, 6, 1480, 0x77, 0x4000) + tcp
    body = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quoted
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    for _ in range(3):
        s.sendto(body, (vip, 0))
        time.sleep(0.2)
    print(json.dumps({"sent": 3}))


def echo(vip: str) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(1.0)
    ident = os.getpid() & 0xFFFF
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"ulvs-echo"
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    deadline = time.time() + 5
    while time.time() < deadline:
        s.sendto(body, (vip, 0))
        try:
            while True:
                data, addr = s.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                if addr[0] == vip and data[ihl] == 0 and struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident:
                    print(json.dumps({"reply": True}))
                    return
        except socket.timeout:
            pass
    print(json.dumps({"reply": False}))


def family(address: str) -> int:
    """udp and udp-server take either family: an IPv6 address has a colon."""
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def udp(vip: str, port: int, count: int) -> None:
    want = hashlib.sha256(PAYLOAD).hexdigest()[:16]
    answers = []
    for _ in range(count):
        s = socket.socket(family(vip), socket.SOCK_DGRAM)
        s.settimeout(1.0)
        got = None
        for _attempt in range(3):
            s.sendto(PAYLOAD, (vip, port))
            try:
                data, _ = s.recvfrom(65535)
                got = data
                break
            except socket.timeout:
                continue
        s.close()
        if got is None:
            answers.append({"answer": None})
            continue
        name, length, digest = got.split(b"\0")[0].decode().split()
        answers.append({"server": name, "length": int(length), "intact": digest == want, "replyBytes": len(got)})
    print(json.dumps({"answers": answers}))


def frags(src: str, vip: str, port: int, sport: int, order: str) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("0.0.0.0", sport))
    rx.settimeout(2.0)
    length = 8 + len(PAYLOAD)
    pseudo = socket.inet_aton(src) + socket.inet_aton(vip) + struct.pack("!BBH", 0, 17, length)
    header = struct.pack("!HHHH", sport, port, length, 0)
    csum = checksum(pseudo + header + PAYLOAD) or 0xFFFF
    datagram = struct.pack("!HHHH", sport, port, length, csum) + PAYLOAD
    ident = (os.getpid() * 7) & 0xFFFF
    pieces = []
    for i, off in enumerate(range(0, len(datagram), 1480)):
        part = datagram[off:off + 1480]
        more = 0x2000 if off + 1480 < len(datagram) else 0
        pieces.append(ip_header(src, vip, 17, len(part), ident, more | (off >> 3)) + part)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for c in order:
        tx.sendto(pieces[int(c)], (vip, 0))
        time.sleep(0.05)
    try:
        data, _ = rx.recvfrom(65535)
        name, n, digest = data.split(b"\0")[0].decode().split()
        print(json.dumps({"server": name, "length": int(n), "intact": digest == hashlib.sha256(PAYLOAD).hexdigest()[:16]}))
    except socket.timeout:
        print(json.dumps({"server": None}))


def refused(vip: str, port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((vip, port))
    s.settimeout(1.5)
    for _ in range(4):
        try:
            s.send(b"anyone?")
            s.recv(2048)
        except ConnectionRefusedError:
            print(json.dumps({"refused": True}))
            return
        except socket.timeout:
            continue
    print(json.dumps({"refused": False}))


def udp_server(bind: str, port: int, name: str) -> None:
    s = socket.socket(family(bind), socket.SOCK_DGRAM)
    s.bind((bind, port))
    deadline = time.time() + 600
    s.settimeout(1.0)
    while time.time() < deadline:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        text = f"{name} {len(data)} {hashlib.sha256(data).hexdigest()[:16]}".encode()
        s.sendto(text + b"\0" * (3000 - len(text)), addr)


def main() -> None:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "icmp-error":
        icmp_error(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "echo":
        echo(args[0])
    elif cmd == "udp":
        udp(args[0], int(args[1]), int(args[2]))
    elif cmd == "frags":
        frags(args[0], args[1], int(args[2]), int(args[3]), args[4])
    elif cmd == "refused":
        refused(args[0], int(args[1]))
    elif cmd == "udp-server":
        udp_server(args[0], int(args[1]), args[2])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
