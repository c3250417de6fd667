// Connection sync of IPv6 flows in the dataplane (issue 16): the master offers an IPv6
// connection once it is ESTABLISHED, the record crosses the IPVS wire as an IPv6 v1 record, a
// BACKUP (whose snapshot has no service) installs it, and after the takeover the connection's
// packets go to the same real server without being scheduled again; NAT66 replies get the VIP
// back once the client's hop is learnt; persistence templates go with their connections.
import t from 'tap';
import { C_DROP_BASE, C_NEW_FLOWS, DataplaneDrop } from '../../src/dataplane/counters.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { OUTBOX_TEMPLATE, SyncOutbox, type OutboxRecord, type OutboxRecord6 } from '../../src/dataplane/sync-outbox.js';
import { DROP, TX, TX_OTHER } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIpv6 } from '../../src/packet/addr6.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { TCP_ESTABLISHED } from '../../src/conntrack/tcp-states.js';
import { decodeSyncMessage, encodeSyncMessages } from '../../src/sync/codec.js';
import { SyncIndex6, fromSyncRecord6, toSyncRecord6 } from '../../src/sync/records6.js';
import { CLIENT_MAC, DIRECTOR_MAC, INSIDE_MAC, rsMac, setup, v6Service } from './ipv6-fixture.js';

const TCP_80 = { protocol: 6, vport: 80 };
const segment = (client: string, srcPort: number, flags: number) => buildFrame6({
  srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: client, dst: '2001:2::100', tcp: { srcPort, dstPort: 80, flags }, payload: 'x',
});

function drain6(box: SyncOutbox): OutboxRecord6[] {
  const out: OutboxRecord6[] = [];
  box.drain((r: OutboxRecord | OutboxRecord6) => { if (r.family === 6) out.push(r); else throw new Error('an IPv4 record from an IPv6 flow'); });
  return out;
}

/** The records through the IPVS wire (encode, decode) and installed on `backup` as the daemon and worker do. */
function deliver(records: OutboxRecord6[], forward: number, services: SnapshotService[], backup: ReturnType<typeof setup>): number {
  const index = new SyncIndex6({ version: 1, tunnelSource: 0, mtu: 1500, services });
  let installed = 0;
  for (const msg of encodeSyncMessages(records.map((r) => toSyncRecord6(r, forward)), { syncId: 1 })) {
    const decoded = decodeSyncMessage(msg, { syncId: 1 });
    if ('drop' in decoded) throw new Error(decoded.drop);
    const imported = decoded.records.map((r) => { if (r.family !== 6) throw new Error('not IPv6 on the wire'); return fromSyncRecord6(r, index); });
    for (const x of imported) if ('kind' in x && x.kind === 'template') { backup.dp.ipv6().importTemplate(x, 10); installed++; }
    for (const x of imported) if ('kind' in x && x.kind === 'flow') { backup.dp.ipv6().importFlow(x, 10); installed++; }
  }
  return installed;
}

const takeover = (backup: ReturnType<typeof setup>, services: SnapshotService[]): void => {
  const snapshot: Snapshot = { version: 2, tunnelSource: 0, mtu: 1500, services };
  backup.dp.setSnapshot(snapshot, 10);
};

t.test('DR: an ESTABLISHED IPv6 connection is offered, installed on the backup, and kept after the takeover', async (t) => {
  const services = [v6Service(10, FORWARD_DR, [1, 1, 1], '2001:2::', TCP_80)];
  const master = setup(services);
  const box = new SyncOutbox(64);
  master.dp.setSyncOutbox(box);
  const sent: string[] = [];
  for (let i = 0; i < 3; i++) {
    master.send(segment(`2001:2::1:${i + 1}`, 41000 + i, TCP_SYN));
    t.equal(box.pending, i * 3, 'a half-open connection is not offered (three slots per earlier one)');
    const { out } = master.send(segment(`2001:2::1:${i + 1}`, 41000 + i, TCP_ACK));
    sent.push([...out.subarray(0, 6)].join(','));
  }
  const records = drain6(box);
  t.equal(records.length, 3, 'one record per connection, once ESTABLISHED');
  t.same(records.map((r) => [formatIpv6(r.clientIp), r.clientPort, formatIpv6(r.vip), r.vport, formatIpv6(r.rsIp), r.rsPort, r.state]),
    [0, 1, 2].map((i) => [`2001:2::1:${i + 1}`, 41000 + i, '2001:2::100', 80, formatIpv6(records[i].rsIp), 8080, TCP_ESTABLISHED]), 'the flows as the master has them');
  t.same(new Set(records.map((r) => formatIpv6(r.rsIp))).size, 3, 'rr spread them over the three servers');

  const backup = setup([]);
  t.equal(backup.dp.v6, null, 'a backup with no IPv6 service has no IPv6 path yet');
  t.equal(deliver(records, FORWARD_DR, services, backup), 3);
  t.equal(backup.dp.v6!.flows.stats.size, 3, 'installed in the IPv6 table');
  t.equal(backup.dp.v6!.flows.activeConns[11] + backup.dp.v6!.flows.activeConns[12] + backup.dp.v6!.flows.activeConns[13], 3, 'counted ESTABLISHED (active)');

  takeover(backup, services);
  for (let i = 0; i < 3; i++) {
    const { verdict, out } = backup.send(segment(`2001:2::1:${i + 1}`, 41000 + i, TCP_ACK));
    t.equal(verdict, TX, `connection ${i + 1} forwarded`);
    t.equal([...out.subarray(0, 6)].join(','), sent[i], `connection ${i + 1} to the real server the master chose`);
  }
  t.equal(backup.counters[C_NEW_FLOWS], 0, 'none scheduled again');
});

t.test('NAT66: a synced connection\'s reply waits for the client\'s hop, then gets the VIP back', async (t) => {
  const services = [v6Service(20, FORWARD_NAT, [1], '2001:2:0:1::', TCP_80)];
  const master = setup(services);
  const box = new SyncOutbox(64);
  master.dp.setSyncOutbox(box);
  master.send(segment('2001:2::1', 42000, TCP_SYN));
  const synAck = buildFrame6({ srcMac: rsMac(1), dstMac: INSIDE_MAC, src: '2001:2:0:1::10', dst: '2001:2::1',
    tcp: { srcPort: 8080, dstPort: 42000, flags: TCP_SYN | TCP_ACK, ack: 2 } });
  master.send(synAck, true);
  master.send(segment('2001:2::1', 42000, TCP_ACK));
  const records = drain6(box);
  t.ok(records.length >= 1, 'offered by the time it is ESTABLISHED');

  const backup = setup([]);
  deliver(records, FORWARD_NAT, services, backup);
  takeover(backup, services);
  const reply = buildFrame6({ srcMac: rsMac(1), dstMac: INSIDE_MAC, src: '2001:2:0:1::10', dst: '2001:2::1',
    tcp: { srcPort: 8080, dstPort: 42000, flags: TCP_ACK, ack: 2 } });
  t.equal(backup.send(reply, true).verdict, DROP, 'no hop to the client yet');
  t.equal(backup.counters[C_DROP_BASE + DataplaneDrop.NO_NEIGHBOUR], 1, 'counted as no neighbour');
  const request = backup.send(segment('2001:2::1', 42000, TCP_ACK));
  t.equal(request.verdict, TX_OTHER, 'the client\'s next segment goes to the server');
  t.equal(formatIpv6(request.out, 14 + 24), '2001:2:0:1::10');
  const back = backup.send(reply, true);
  t.equal(back.verdict, TX_OTHER, 'the reply goes out');
  t.equal(formatIpv6(back.out, 14 + 8), '2001:2::100', 'from the VIP');
  t.same([...back.out.subarray(0, 6)], [...parseMac(CLIENT_MAC)], 'to the client\'s hop');
  t.equal(backup.counters[C_NEW_FLOWS], 0);
});

t.test('persistence: the template goes with its connection; after the takeover the client\'s /64 keeps its server', async (t) => {
  const persistent = (): SnapshotService[] => [{ ...v6Service(30, FORWARD_DR, [1, 1, 1], '2001:2::', TCP_80), persistenceTimeout: 300, persistencePrefix6: 64 }];
  const master = setup(persistent());
  const box = new SyncOutbox(64);
  master.dp.setSyncOutbox(box);
  master.send(segment('2001:2:0:5::1', 43000, TCP_SYN));
  const { out } = master.send(segment('2001:2:0:5::1', 43000, TCP_ACK));
  const chosen = [...out.subarray(0, 6)].join(',');
  const records = drain6(box);
  t.same(records.map((r) => r.kind), [1, OUTBOX_TEMPLATE], 'the connection, then its template');
  t.equal(formatIpv6(records[1].clientIp), '2001:2:0:5::', 'the template keys the masked client (/64)');

  const backup = setup([]);
  deliver(records, FORWARD_DR, persistent(), backup);
  t.equal(backup.dp.v6!.templates.stats.size, 1, 'template installed');
  takeover(backup, persistent());
  // A new connection from another address of the same /64: the template decides, on every try.
  for (let i = 0; i < 6; i++) {
    const r = backup.send(segment(`2001:2:0:5::${(i + 2).toString(16)}`, 44000 + i, TCP_SYN));
    t.equal([...r.out.subarray(0, 6)].join(','), chosen, `new connection ${i + 1} to the synced template's server`);
  }
});

t.test('a flow synced twice is replaced, not leaked: the client address keeps one reference', async (t) => {
  const services = [v6Service(10, FORWARD_DR, [1], '2001:2::', TCP_80)];
  const master = setup(services);
  const box = new SyncOutbox(64);
  master.dp.setSyncOutbox(box);
  master.send(segment('2001:2::7', 45000, TCP_SYN));
  master.send(segment('2001:2::7', 45000, TCP_ACK));
  const records = drain6(box);
  const backup = setup([]);
  for (let i = 0; i < 5; i++) deliver(records, FORWARD_DR, services, backup);
  const v6 = backup.dp.v6!;
  t.equal(v6.flows.stats.size, 1, 'one flow');
  const handle = v6.flows.addresses.findAt(new DataView(records[0].clientIp.buffer), 0);
  t.equal(v6.flows.addresses.references(handle), 1, 'one reference to the client address');
});

t.test('a resync dump carries the IPv6 templates and connections a starting backup needs', async (t) => {
  const persistent = (): SnapshotService[] => [{ ...v6Service(30, FORWARD_DR, [1, 1, 1], '2001:2::', TCP_80), persistenceTimeout: 300, persistencePrefix6: 64 }];
  const master = setup(persistent());
  master.send(segment('2001:2:0:6::1', 46000, TCP_SYN));
  t.equal(master.dp.v6!.dump(10, true).filter((r) => r.kind !== OUTBOX_TEMPLATE).length, 0, 'a half-open connection is not in the dump');
  const { out } = master.send(segment('2001:2:0:6::1', 46000, TCP_ACK));
  const dump = master.dp.v6!.dump(10, true);
  t.same(dump.map((r) => [r.kind, formatIpv6(r.clientIp), formatIpv6(r.vip)]),
    [[OUTBOX_TEMPLATE, '2001:2:0:6::', '2001:2::100'], [1, '2001:2:0:6::1', '2001:2::100']], 'the template first, then its connection');
  t.equal(master.dp.v6!.dump(10, false).length, 1, 'without templates (another worker reports the shared ones): the connection only');
  const backup = setup([]);
  t.equal(deliver(dump, FORWARD_DR, persistent(), backup), 2);
  takeover(backup, persistent());
  for (let i = 0; i < 4; i++) {
    const r = backup.send(segment(`2001:2:0:6::${i + 9}`, 46001 + i, TCP_SYN));
    t.equal([...r.out.subarray(0, 6)].join(','), [...out.subarray(0, 6)].join(','), `new connection ${i + 1} of the /64 goes to the dumped template's server`);
  }
  t.equal(backup.send(segment('2001:2:0:6::1', 46000, TCP_ACK)).verdict, TX, 'the dumped connection goes on');
});
