// tshark's IPVS dissector decodes ulvs's IPv6 sync records (issue 16): the message goes into a
// pcap as an IPv4/UDP datagram to 224.0.0.81:8848 (the sync channel stays IPv4, as IPVS's
// mcast group does here), and tshark reads it back with the v1 IPv6 address fields.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeSyncMessages } from '../../src/sync/codec.js';
import { toSyncRecord6 } from '../../src/sync/records6.js';
import { FORWARD_DR } from '../../src/dataplane/snapshot.js';
import { parseIpv6 } from '../../src/packet/addr6.js';

/** A one-frame pcap: Ethernet, IPv4 (checksum computed), UDP (checksum 0: none, valid over IPv4). */
function pcapOf(payload: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(8848, 0); udp.writeUInt16BE(8848, 2); udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.from([0x45, 0, 0, 0, 0, 0, 0x40, 0, 1, 17, 0, 0, 198, 18, 0, 1, 224, 0, 0, 81]);
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const eth = Buffer.from([0x01, 0x00, 0x5e, 0, 0, 0x51, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const frame = Buffer.concat([eth, ip, udp, payload]);
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0); global.writeUInt16LE(2, 4); global.writeUInt16LE(4, 6); global.writeUInt32LE(65535, 16); global.writeUInt32LE(1, 20);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(frame.length, 8); rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([global, rec, frame]);
}

t.test('tshark decodes an IPv6 DR connection and template as ulvs encodes them', async (t) => {
  const base = { proto: 6, clientPort: 40000, vip: parseIpv6('2001:db8::100'), vport: 80, rsIp: parseIpv6('2001:db8::20'), rsPort: 80, rsId: 12, service: 1 };
  const records = [
    toSyncRecord6({ ...base, kind: 1, state: 1, clientIp: parseIpv6('2001:db8:1::2'), timeout: 900 }, FORWARD_DR),
    toSyncRecord6({ ...base, kind: 2, state: 0, clientIp: parseIpv6('2001:db8:1::'), clientPort: 0, timeout: 300 }, FORWARD_DR),
  ];
  const [msg] = encodeSyncMessages(records, { syncId: 7 });
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-tshark6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sync6.pcap');
  writeFileSync(file, pcapOf(msg));
  const fields = ['ipvs.syncid', 'ipvs.conncount', 'ipvs.version', 'ipvs.type', 'ipvs.cport', 'ipvs.vport', 'ipvs.dport',
    'ipvs.caddr6', 'ipvs.vaddr6', 'ipvs.daddr6', 'ipvs.state', 'ipvs.timeout', 'ipvs.flags.v1'];
  const { stdout } = await promisify(execFile)('tshark', ['-r', file, '-d', 'udp.port==8848,ipvs', '-T', 'fields', '-E', 'separator=|',
    '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { timeout: 120_000 });
  const got = Object.fromEntries(stdout.trim().split('|').map((v, i) => [fields[i], v]));
  // Exact: tap's match on strings would accept a substring.
  t.same(got, {
    'ipvs.syncid': '7', 'ipvs.conncount': '2', 'ipvs.version': '1', 'ipvs.type': '1,1',
    'ipvs.cport': '40000,0', 'ipvs.vport': '80,80', 'ipvs.dport': '80,80',
    'ipvs.caddr6': '2001:db8:1::2,2001:db8:1::', 'ipvs.vaddr6': '2001:db8::100,2001:db8::100', 'ipvs.daddr6': '2001:db8::20,2001:db8::20',
    // type 1: STYPE_F_INET6; flags DROUTE|NOOUTPUT, the template's also TEMPLATE|NO_CPORT.
    'ipvs.state': '0x0001,0x0000', 'ipvs.timeout': '900,300', 'ipvs.flags.v1': '0x00000083,0x00001883',
  }, `tshark: ${stdout.trim()}`);
});
