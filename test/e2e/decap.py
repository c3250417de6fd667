#!/usr/bin/env python3
"""Userspace tunnel decapsulator for a lab real server (this kernel has no ipip, ip_gre or fou).

    decap.py TUNDEV ipip|gre|gue[:PORT][,...] [SECONDS]

Receives what the director sends to this real server -- IPIP (raw socket, protocol 4), GRE (raw
socket, protocol 47, RFC 2784/2890 headers, checksum verified when present) and GUE (a UDP socket
on PORT, version 0 carrying IPv4) -- strips the outer headers and writes the inner IPv4 packet
into the TUN device TUNDEV, so the real server's kernel receives it as if a tunnel device had
decapsulated it. The VIP is on lo as for DR; replies leave directly (the DR return path).
Prints one JSON line "ready" once every socket is open; on SIGTERM or after SECONDS (default
600) prints one JSON line with what it counted, and exits.
"""
import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
GRE_C, GRE_K, GRE_S = 0x8000, 0x2000, 0x1000


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    subprocess.run(['ip', 'link', 'set', name, 'up'], check=True)
    # The inner packet arrives on TUNDEV while the route back to the client is via eth0.
    for dev in ('all', name):
        subprocess.run(['sysctl', '-q', '-w', f'net.ipv4.conf.{dev}.rp_filter=0'], check=True)
    return fd


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    tun = open_tun(sys.argv[1])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 600.0
    counts = {'ipip': 0, 'gre': 0, 'gue': 0, 'bad': 0, 'greChecksummed': 0, 'gueHeaders': []}
    sockets = {}
    for spec in sys.argv[2].split(','):
        kind, _, port = spec.partition(':')
        if kind == 'ipip':
            sockets[socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)] = 'ipip'
        elif kind == 'gre':
            sockets[socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)] = 'gre'
        elif kind == 'gue':
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(('0.0.0.0', int(port)))
            sockets[s] = 'gue'
        else:
            sys.stderr.write(f'unknown tunnel type {kind}\n')
            return 2
    for s in sockets:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print(json.dumps({'ready': True}), flush=True)
    deadline = time.monotonic() + seconds
    while not stop and time.monotonic() < deadline:
        try:
            readable, _, _ = select.select(list(sockets), [], [], 0.2)
        except InterruptedError:
            continue
        for s in readable:
            kind = sockets[s]
            data = s.recv(65535)
            inner = None
            if kind == 'ipip':
                inner = data[(data[0] & 0x0F) * 4:]
            elif kind == 'gre':
                gre = data[(data[0] & 0x0F) * 4:]
                flags, proto = struct.unpack('!HH', gre[:4])
                skip = 4 + (4 if flags & GRE_C else 0) + (4 if flags & GRE_K else 0) + (4 if flags & GRE_S else 0)
                if proto != 0x0800 or flags & 0x0007:
                    counts['bad'] += 1
                    continue
                if flags & GRE_C:
                    if checksum(gre) != 0xFFFF:
                        counts['bad'] += 1
                        continue
                    counts['greChecksummed'] += 1
                inner = gre[skip:]
            else:
                version, hlen, proto = data[0] >> 6, data[0] & 0x1F, data[1]
                if len(counts['gueHeaders']) < 4:
                    counts['gueHeaders'].append(data[:4].hex())
                if version != 0 or proto != 4:
                    counts['bad'] += 1
                    continue
                inner = data[4 + hlen * 4:]
            if len(inner) < 20 or inner[0] >> 4 != 4:
                counts['bad'] += 1
                continue
            counts[kind] += 1
            os.write(tun, inner)
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
