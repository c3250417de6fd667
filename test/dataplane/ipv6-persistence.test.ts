// IPv6 persistence in the dataplane (issue 16): persistence_timeout with persistence_granularity
// as a prefix length (ipvsadm -M). Same client -> same real server across connections; a /64
// groups two clients of one prefix; /128 keeps them apart; a template outlives its last flow and
// is dropped with its server.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { snapshotTemplates6 } from '../../src/conntrack/persistence6.js';
import { allocateCounters, allocateIpvsCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, TX, type PacketPort } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { ipv6Words, parseIpv6 } from '../../src/packet/addr6.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { TCP_SYN } from '../../src/packet/parse.js';
import { foldIpv6 } from '../../src/schedulers/hash.js';

const DIRECTOR_MAC = '02:18:00:00:00:02';
const rsMac = (n: number): string => `02:18:00:00:00:${(n * 16).toString(16).padStart(2, '0')}`;

function port(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'vd0', mac: parseMac(mac), frames: new Uint8Array(2048 * 4), frameSize: 2048,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

function service(prefix: number, available = [true, true, true]): SnapshotService {
  return {
    id: 10, family: 6, addresses: [{ vip: 0, vport: 80, vip6: '2001:2::100' }], protocol: 6, forward: FORWARD_DR,
    scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 50, persistenceMask: 0xffffffff, persistencePrefix6: prefix, onePacket: false,
    realServers: [1, 2, 3].map((n) => {
      const ip6 = `2001:2::${(n * 16).toString(16)}`;
      return { rsId: 10 + n, ip: foldIpv6(...ipv6Words(parseIpv6(ip6))), ip6, port: 80, weight: 1, available: available[n - 1], mac: rsMac(n), uthreshold: 0, lthreshold: 0 };
    }),
  };
}

function setup(svc: SnapshotService) {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services: [svc] };
  const outside = port(DIRECTOR_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const dp = new Dataplane(snapshot, flows, templates, allocateCounters(), outside, null, allocateIpvsCounters());
  const descs = new Uint32Array(DESC_WORDS);
  /** The real server (1..3) a SYN from client:srcPort went to, at time `now`. */
  const serverFor = (client: string, srcPort: number, now = 10): number => {
    const frame = buildFrame6({ srcMac: '02:18:00:00:00:01', dstMac: DIRECTOR_MAC, src: client, dst: '2001:2::100',
      tcp: { srcPort, dstPort: 80, flags: TCP_SYN } });
    outside.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    dp.processOutside(descs, 1, now);
    if (descs[2] !== TX) return -1;
    return outside.frames[descs[0] + 5] / 16;
  };
  return { dp, serverFor };
}

t.test('same client, same server over many connections (rr would spread them)', async (t) => {
  const { dp, serverFor } = setup(service(128));
  const first = serverFor('2001:2::1', 40000);
  t.ok(first >= 1 && first <= 3);
  for (let i = 1; i < 9; i++) t.equal(serverFor('2001:2::1', 40000 + i), first, `connection ${i + 1}`);
  t.not(serverFor('2001:2::2', 40000), first, '/128: another client is scheduled afresh (rr moves on)');
  const listed = snapshotTemplates6(dp.v6!.templates, 10);
  t.equal(listed.length, 2, 'one template per client');
  t.equal(listed[0].client, '2001:2::1');
  t.equal(dp.v6!.rsAddressText(listed[0].rsId), `2001:2::${(first * 16).toString(16)}`, 'listing names the server');
  t.equal(dp.v6!.templates.controlled(0), 9, 'the template holds its nine connections');
});

t.test('granularity /64 groups two clients of one prefix; another prefix is apart', async (t) => {
  const { serverFor } = setup(service(64));
  const a = serverFor('2001:2::1:1', 1000);
  t.equal(serverFor('2001:2::ffff:2', 1000), a, 'the other client of 2001:2::/64 goes to the same server');
  t.equal(serverFor('2001:2::7', 2000), a);
  const other = serverFor('2001:2:0:1::1', 1000);
  t.not(other, a, 'a client of 2001:2:0:1::/64 gets its own template (rr moves on)');
  t.equal(serverFor('2001:2:0:1::2', 3000), other);
});

t.test('a template is kept within persistence_timeout, and goes with its server', async (t) => {
  const svc = service(64);
  const { dp, serverFor } = setup(svc);
  const a = serverFor('2001:2::1', 1000, 10);
  t.equal(serverFor('2001:2::2', 1001, 30), a, 'within persistence_timeout');
  // The server becomes unavailable: ip_vs_check_template expires the template.
  const down = service(64, [1, 2, 3].map((n) => n !== a));
  dp.setSnapshot({ version: 2, tunnelSource: 0, mtu: 1500, services: [down] }, 40);
  const b = serverFor('2001:2::3', 1002, 40);
  t.not(b, a, 'rescheduled to an available server');
  t.ok(b >= 1 && b <= 3);
});
