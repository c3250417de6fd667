// Byte fixtures hand-assembled from the kernel's layout (net/netfilter/ipvs/ip_vs_sync.c:
// struct ip_vs_sync_mesg, struct ip_vs_sync_v4/v6, the IPVS_OPT_* parameters), each field
// named; the encoder must produce them exactly and the decoder must read them back.
import t from 'tap';

import { decodeSyncMessage, encodeSyncMessages, type SyncRecord } from '../../src/sync/codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
const ip4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);

// One established DR connection, syncid 7.
const DR_ESTABLISHED: SyncRecord = {
  family: 4, proto: 6, flags: 0x83, state: 1, clientPort: 40000, vport: 80, rsPort: 80, fwmark: 0, timeout: 900,
  clientIp: ip4('198.18.0.200'), vip: ip4('198.18.0.100'), rsIp: ip4('198.18.0.10'),
};
const DR_MESSAGE = hex(`
  00        # reserved: 0 (a v0 receiver reads nr_conns = 0)
  07        # syncid 7
  002c      # size 44 = 8 header + 36 record
  01        # nr_conns 1
  01        # version 1 (SYNC_PROTO_VER)
  0000      # spare
  00        # type 0: IPv4 (STYPE_F_INET6 clear)
  06        # protocol TCP
  0024      # ver_size: version 0 << 12 | size 36
  00000083  # flags: IP_VS_CONN_F_DROUTE 0x3 | IP_VS_CONN_F_NOOUTPUT 0x80
  0001      # state IP_VS_TCP_S_ESTABLISHED
  9c40      # cport 40000
  0050      # vport 80
  0050      # dport 80
  00000000  # fwmark
  00000384  # timeout 900 s
  c61200c8  # caddr 198.18.0.200
  c6120064  # vaddr 198.18.0.100
  c612000a  # daddr 198.18.0.10
`);

// A NAT connection with sequence data (options), then a persistence template; syncid 0.
const NAT_WITH_SEQ: SyncRecord = {
  family: 4, proto: 6, flags: 0x0600, state: 1, clientPort: 51000, vport: 443, rsPort: 8443, fwmark: 0, timeout: 900,
  clientIp: ip4('198.18.0.201'), vip: ip4('198.18.0.100'), rsIp: ip4('10.0.0.20'),
  seq: { in: { initSeq: 0x11111111, delta: 5, previousDelta: 0 }, out: { initSeq: 0x22222222, delta: 0xfffffffb, previousDelta: 3 } },
};
const TEMPLATE: SyncRecord = {
  family: 4, proto: 6, flags: 0x1000 | 0x0800 | 0x0083, state: 0, clientPort: 0, vport: 443, rsPort: 443, fwmark: 0, timeout: 300,
  clientIp: ip4('198.18.0.0'), vip: ip4('198.18.0.100'), rsIp: ip4('198.18.0.30'),
};
const TWO_RECORDS = hex(`
  00 00 006c 02 01 0000   # header: reserved, syncid 0, size 108, nr_conns 2, version 1, spare
  # record 1 @8: 36 + 26 option bytes = 62
  00 06 003e              # IPv4, TCP, ver_size 62
  00000600                # flags: IP_VS_CONN_F_MASQ 0 | IN_SEQ 0x400 | OUT_SEQ 0x200
  0001 c738 01bb 20fb     # ESTABLISHED, cport 51000, vport 443, dport 8443
  00000000 00000384       # fwmark 0, timeout 900
  c61200c9 c6120064 0a000014  # caddr 198.18.0.201, vaddr 198.18.0.100, daddr 10.0.0.20
  01 18                   # IPVS_OPT_SEQ_DATA, length 24
  11111111 00000005 00000000  # in_seq: init_seq, delta, previous_delta
  22222222 fffffffb 00000003  # out_seq
  0000                    # padding to the 4-byte boundary @72 (counted in size)
  # record 2 @72: a template
  00 06 0024              # IPv4, TCP, ver_size 36
  00001883                # flags: TEMPLATE 0x1000 | NO_CPORT 0x800 | NOOUTPUT 0x80 | DROUTE 3
  0000 0000 01bb 01bb     # IP_VS_CTPL_S_NONE, cport 0, vport 443, dport 443
  00000000 0000012c       # fwmark 0, timeout 300 (persistence_timeout)
  c6120000 c6120064 c612001e  # caddr 198.18.0.0 (masked client), vaddr, daddr 198.18.0.30
`);

// IPv6 UDP connection with persistence-engine data and name, syncid 3.
const v6 = (last: number): Uint8Array => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), last]);
const V6_PE: SyncRecord = {
  family: 6, proto: 17, flags: 0x0102, state: 0, clientPort: 5060, vport: 5060, rsPort: 5060, fwmark: 9, timeout: 300,
  clientIp: v6(1), vip: v6(0x64), rsIp: v6(0x0a), peData: Uint8Array.from([0xca, 0xfe, 0xba, 0xbe]), peName: 'sip',
};
const V6_MESSAGE = hex(`
  00 03 005b 01 01 0000   # header: syncid 3, size 91 = 8 + 83
  01 11 0053              # type STYPE_F_INET6, protocol UDP, ver_size 83
  00000102                # flags: TUNNEL 2 | INACTIVE 0x100
  0000 13c4 13c4 13c4     # IP_VS_UDP_S_NORMAL, cport/vport/dport 5060
  00000009 0000012c       # fwmark 9, timeout 300
  20010db8000000000000000000000001  # caddr 2001:db8::1
  20010db8000000000000000000000064  # vaddr 2001:db8::64
  20010db800000000000000000000000a  # daddr 2001:db8::a
  02 04 cafebabe          # IPVS_OPT_PE_DATA, length 4
  03 03 736970            # IPVS_OPT_PE_NAME, length 3, "sip"
`);

t.test('encoder writes the kernel layout byte for byte', async (t) => {
  t.same(encodeSyncMessages([DR_ESTABLISHED], { syncId: 7 }), [DR_MESSAGE]);
  t.same(encodeSyncMessages([NAT_WITH_SEQ, TEMPLATE], { syncId: 0 }), [TWO_RECORDS], 'options, padding, template');
  t.same(encodeSyncMessages([V6_PE], { syncId: 3 }), [V6_MESSAGE], 'IPv6 with PE data and name');
});

t.test('decoder reads the fixtures back', async (t) => {
  t.same(decodeSyncMessage(DR_MESSAGE, { syncId: 7 }), { syncId: 7, records: [DR_ESTABLISHED], skipped: [] });
  t.same(decodeSyncMessage(TWO_RECORDS, { syncId: 0 }), { syncId: 0, records: [NAT_WITH_SEQ, TEMPLATE], skipped: [] });
  t.same(decodeSyncMessage(V6_MESSAGE, { syncId: 3 }), { syncId: 3, records: [V6_PE], skipped: [] });
  t.same(decodeSyncMessage(DR_MESSAGE, { syncId: 0 }), { syncId: 7, records: [DR_ESTABLISHED], skipped: [] }, 'syncid 0 takes every syncid');
});

const patch = (buf: Buffer, at: number, bytes: number[]): Buffer => {
  const copy = Buffer.from(buf);
  bytes.forEach((b, i) => { copy[at + i] = b; });
  return copy;
};

t.test('whole messages dropped, with the kernel\'s reasons', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['shorter than a header', DR_MESSAGE.subarray(0, 7), 'truncated'],
    ['size says 44, datagram is 43', DR_MESSAGE.subarray(0, 43), 'bad-size'],
    ['datagram longer than size', Buffer.concat([DR_MESSAGE, Buffer.alloc(4)]), 'bad-size'],
    ['another syncid', patch(DR_MESSAGE, 1, [8]), 'bad-syncid'],
    ['version 0 message (nr_conns in byte 0)', hex('01 07 001c 00 06 9c40 0050 0050 c61200c8 c6120064 c612000a 0083 0001'), 'version-0'],
    ['version 2', patch(DR_MESSAGE, 5, [2]), 'bad-version'],
    ['spare not zero', patch(DR_MESSAGE, 6, [0, 1]), 'bad-version'],
    ['nr_conns 2 but one record', patch(DR_MESSAGE, 4, [2]), 'truncated'],
    ['record size past the end', patch(DR_MESSAGE, 10, [0x00, 0x28]), 'truncated'],
    ['record version 1 in ver_size', patch(DR_MESSAGE, 10, [0x10, 0x24]), 'bad-record'],
    ['record smaller than its addresses', patch(patch(DR_MESSAGE, 10, [0x00, 0x20]), 0, [0]), 'bad-record'],
    ['type 2 (neither v4 nor v6)', patch(DR_MESSAGE, 8, [2]), 'bad-record'],
    ['seq option with length 23', patch(TWO_RECORDS, 45, [0x17]), 'bad-record'],
    ['option length 0', patch(TWO_RECORDS, 45, [0x00]), 'bad-record'],
    ['PE name longer than 16', patch(V6_MESSAGE, 87, [0x11]), 'bad-record'],
  ];
  for (const [what, buf, reason] of cases) t.same(decodeSyncMessage(buf, { syncId: what === 'another syncid' ? 7 : 0 }), { drop: reason }, what);
});

t.test('records skipped alone, the rest kept (the kernel\'s positive return codes)', async (t) => {
  // Record 1 of TWO_RECORDS changed, record 2 (the template) must survive.
  const sctp = patch(TWO_RECORDS, 9, [132]);
  t.same(decodeSyncMessage(sctp, { syncId: 0 }), { syncId: 0, records: [TEMPLATE], skipped: ['unsupported-protocol'] }, 'SCTP');
  const badState = patch(TWO_RECORDS, 16, [0, 11]);
  t.same(decodeSyncMessage(badState, { syncId: 0 }), { syncId: 0, records: [TEMPLATE], skipped: ['bad-state'] }, 'TCP state 11');
  const unknownMandatory = patch(TWO_RECORDS, 44, [5]);
  t.same(decodeSyncMessage(unknownMandatory, { syncId: 0 }), { syncId: 0, records: [TEMPLATE], skipped: ['unknown-option'] }, 'option 5');
  const unknownOptional = patch(TWO_RECORDS, 44, [5 | 0x40]);
  const { seq: _seq, ...natWithoutSeq } = NAT_WITH_SEQ;
  t.same(decodeSyncMessage(unknownOptional, { syncId: 0 }), { syncId: 0, records: [natWithoutSeq, TEMPLATE], skipped: [] }, 'option 5 | IPVS_OPT_F_PARAM is skipped');
  const templateAnyProto = patch(TWO_RECORDS, 73, [0]);
  t.same(decodeSyncMessage(templateAnyProto, { syncId: 0 }), { syncId: 0, records: [NAT_WITH_SEQ, { ...TEMPLATE, proto: 0 }], skipped: [] }, 'a template of a fwmark service has protocol 0');
  // PE data without PE name: turn the PE_NAME option into an optional unknown one.
  const peDataOnly = patch(V6_MESSAGE, 86, [0x45]);
  t.same(decodeSyncMessage(peDataOnly, { syncId: 3 }), { syncId: 3, records: [], skipped: ['bad-pe'] });
});

t.test('packing follows maxlen', async (t) => {
  const many = Array.from({ length: 100 }, (_, i) => ({ ...DR_ESTABLISHED, clientPort: 1000 + i }));
  const messages = encodeSyncMessages(many, { syncId: 1 });
  t.same(messages.map((m) => m[4]), [40, 40, 20], 'default maxlen 1472: 40 records of 36 bytes per message');
  t.ok(messages.every((m) => m.length <= 1472));
  t.same(messages.map((m) => m.readUInt16BE(2)), messages.map((m) => m.length), 'size is the datagram length');
  const decoded = messages.flatMap((m) => { const r = decodeSyncMessage(m, { syncId: 1 }); return 'records' in r ? r.records : []; });
  t.same(decoded, many, 'order kept across messages');
  t.same(encodeSyncMessages(many.slice(0, 3), { syncId: 1, maxLen: 10 }).map((m) => m.length), [44, 44, 44], 'a record larger than maxlen goes alone');
  const lots = Array.from({ length: 300 }, () => DR_ESTABLISHED);
  t.same(encodeSyncMessages(lots, { syncId: 1, maxLen: 65507 }).map((m) => m[4]), [255, 45], 'nr_conns is a u8');
  t.same(encodeSyncMessages([], { syncId: 1 }), [], 'nothing to send, no message');
  t.same(encodeSyncMessages(many.slice(0, 40), { syncId: 1, key: 'k' }).map((m) => m[4]), [39, 1], 'the signature trailer fits inside maxlen');
});

t.test('encoder refuses what the wire cannot carry', async (t) => {
  t.throws(() => encodeSyncMessages([{ ...DR_ESTABLISHED, clientPort: 70000 }], { syncId: 0 }), RangeError);
  t.throws(() => encodeSyncMessages([DR_ESTABLISHED], { syncId: 256 }), RangeError);
  t.throws(() => encodeSyncMessages([{ ...V6_PE, peName: undefined }], { syncId: 0 }), RangeError);
  t.throws(() => encodeSyncMessages([{ ...V6_PE, peName: 'x'.repeat(17) }], { syncId: 0 }), RangeError);
  t.throws(() => encodeSyncMessages([{ ...V6_PE, vip: new Uint8Array(4) }], { syncId: 0 }), RangeError);
  t.throws(() => encodeSyncMessages([DR_ESTABLISHED], { syncId: 0, key: '' }), RangeError);
});
