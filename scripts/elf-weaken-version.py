#!/usr/bin/env python3
import struct, sys
# Marks one ELF version requirement (e.g. GLIBC_2.38) weak: the loader then accepts a libc
# without it. Used by scripts/jazzer-prebuilt.sh. Usage: elf-weaken-version.py FILE VERSION
path, want = sys.argv[1], sys.argv[2].encode()
b = bytearray(open(path, 'rb').read())
shoff, = struct.unpack_from('<Q', b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', b, 0x3a)
secs = [struct.unpack_from('<IIQQQQIIQQ', b, shoff + i * shentsize) for i in range(shnum)]
SHT_GNU_verneed = 0x6ffffffe
done = 0
for s in secs:
    if s[1] != SHT_GNU_verneed: continue
    strtab = secs[s[6]][4]
    off = s[4]
    while True:
        vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from('<HHIII', b, off)
        a = off + vn_aux
        for _ in range(vn_cnt):
            h, flags, other, name, nxt = struct.unpack_from('<IHHII', b, a)
            n = bytes(b[strtab + name: b.index(0, strtab + name)])
            if n == want:
                struct.pack_into('<H', b, a + 4, flags | 2)  # VER_FLG_WEAK
                done += 1
            if nxt == 0: break
            a += nxt
        if vn_next == 0: break
        off += vn_next
open(path, 'wb').write(b)
print('weakened', done)
