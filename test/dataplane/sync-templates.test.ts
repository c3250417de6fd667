// Connection sync in the dataplane itself: persistence templates offered next to their
// connections and installed on the backup (the same client then lands on the same real server),
// and, with several queues, synced flows counted once across the workers.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { allocateCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot } from '../../src/dataplane/snapshot.js';
import { OUTBOX_CONNECTION, OUTBOX_TEMPLATE, SyncOutbox, type OutboxRecord } from '../../src/dataplane/sync-outbox.js';
import { DESC_WORDS, type PacketPort } from '../../src/io/port.js';
import { formatMac, ipToNumber } from '../../src/packet/addr.js';
import { buildFrame } from '../../src/packet/build.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { decodeSyncMessage, encodeSyncMessages } from '../../src/sync/codec.js';
import { SyncIndex, fromSyncRecord, toSyncRecord } from '../../src/sync/records.js';

const FRAME = 2048;
const DIRECTOR_MAC = '02:18:00:00:00:02';
const RS_MAC = (n: number): string => `02:18:00:00:00:${(n * 10).toString(16).padStart(2, '0')}`;

function fakePort(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'test0', mac: Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16))),
    frames: new Uint8Array(FRAME * 64), frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}

function snapshot(persistenceTimeout: number): Snapshot {
  return {
    version: 1, tunnelSource: 0, mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], protocol: 6, forward: FORWARD_DR,
      scheduler: 'rr', schedulerFlags: {}, persistenceTimeout, persistenceMask: 0xffffffff, onePacket: false,
      realServers: [1, 2, 3].map((i) => ({
        rsId: i, ip: ipToNumber(`198.18.0.${i * 10}`), port: 80, weight: 1, available: true, mac: RS_MAC(i), uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
}

/** What a VRRP BACKUP's workers forward: nothing (it holds no VIP; compileSnapshot leaves the service out). */
function backupSnapshot(): Snapshot {
  return { ...snapshot(300), services: [] };
}

function director(persistenceTimeout = 300, forwarding: Snapshot = snapshot(persistenceTimeout)) {
  const outside = fakePort(DIRECTOR_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const dp = new Dataplane(forwarding, flows, templates, allocateCounters(), outside, null);
  const descs = new Uint32Array(64 * DESC_WORDS);
  /** One client segment through the dataplane at second `now`; the real server's MAC it went to. */
  const send = (client: string, srcPort: number, flags: number, now = 10): string => {
    const frame = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: '02:18:00:00:00:01', ip: { src: client, dst: '198.18.0.100' }, tcp: { srcPort, dstPort: 80, flags } });
    outside.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    dp.processOutside(descs, 1, now);
    return formatMac(outside.frames, descs[0]);
  };
  return { dp, flows, templates, send };
}

function drainAll(box: SyncOutbox): OutboxRecord[] {
  const out: OutboxRecord[] = [];
  box.drain((r) => out.push(r));
  return out;
}

/** The master's outbox records through the IPVS wire and back, installed on `backup` as the daemon does. */
function deliver(records: OutboxRecord[], backup: ReturnType<typeof director>, now = 20, index = new SyncIndex(backup.dp.tables.snapshot)): void {
  for (const msg of encodeSyncMessages(records.map((r) => toSyncRecord(r, FORWARD_DR)), { syncId: 1 })) {
    const decoded = decodeSyncMessage(msg, { syncId: 1 });
    if ('drop' in decoded) throw new Error(decoded.drop);
    const imported = decoded.records.map((r) => fromSyncRecord(r, index));
    for (const x of imported) if ('kind' in x && x.kind === 'template') backup.dp.importTemplate(x, now);
    for (const x of imported) if ('kind' in x && x.kind === 'flow') backup.dp.importFlow(x, now);
  }
}

t.test('a template goes out with the first connection it created, not again with the next ones', async (t) => {
  const master = director();
  const box = new SyncOutbox(64);
  master.dp.sync.outbox = box;
  master.send('198.18.0.1', 40000, TCP_SYN);
  t.same(drainAll(box), [], 'a half-open connection offers nothing (nor its template)');
  const rs = master.send('198.18.0.1', 40000, TCP_ACK);
  const first = drainAll(box);
  t.same(first.map((r) => r.kind), [OUTBOX_CONNECTION, OUTBOX_TEMPLATE], 'ESTABLISHED: the connection, then its template');
  t.match(first[1], { clientIp: ipToNumber('198.18.0.1'), clientPort: 0, vip: ipToNumber('198.18.0.100'), vport: 80, rsId: first[0].rsId, service: 1, timeout: 300 });
  master.send('198.18.0.1', 40001, TCP_SYN);
  t.equal(master.send('198.18.0.1', 40001, TCP_ACK), rs, 'persistence: the second connection on the same server');
  t.same(drainAll(box).map((r) => r.kind), [OUTBOX_CONNECTION], 'the template is not repeated within the refresh period');
  master.send('198.18.0.1', 40001, TCP_ACK, 10 + 31);
  t.same(drainAll(box).map((r) => r.kind), [OUTBOX_CONNECTION, OUTBOX_TEMPLATE], 'the refresh offer carries the template again');
});

t.test('on the backup a NEW connection of a synced client goes to the master\'s server, not the scheduler\'s pick', async (t) => {
  const master = director();
  const box = new SyncOutbox(64);
  master.dp.sync.outbox = box;
  // rr: the first client takes server 1, so the synced client is on server 2 on the master.
  master.send('198.18.0.9', 30000, TCP_SYN);
  master.send('198.18.0.1', 40000, TCP_SYN);
  const onMaster = master.send('198.18.0.1', 40000, TCP_ACK);
  t.equal(onMaster, RS_MAC(2));
  const backup = director();
  deliver(drainAll(box), backup);
  t.equal(backup.templates.snapshot(20).length, 1, 'the backup holds the template');
  t.equal(backup.flows.template(0) >= 0, true, 'the imported connection holds its template, as on the master');
  t.equal(backup.send('198.18.0.1', 50000, TCP_SYN, 21), RS_MAC(2), 'new connection, same real server');
  t.equal(backup.send('198.18.0.7', 50000, TCP_SYN, 21), RS_MAC(1), 'another client: rr from the start');
  // The same record again refreshes the template the imported flow holds rather than replacing it.
  const before = backup.templates.stats.inserts;
  deliver([{ kind: OUTBOX_TEMPLATE, proto: 6, state: 0, clientIp: ipToNumber('198.18.0.1'), clientPort: 0, vip: ipToNumber('198.18.0.100'), vport: 80,
    rsIp: ipToNumber('198.18.0.20'), rsPort: 80, rsId: 2, service: 1, timeout: 300 }], backup, 25);
  t.equal(backup.templates.stats.inserts, before, 'refreshed, not re-inserted');
});

t.test('a VRRP BACKUP, which forwards no service, still installs and lists the template; after the takeover it steers', async (t) => {
  // The defect behind sync-persistence's "the backup lists the template": the main thread matched
  // the record against the whole config (sync_applied_templates 1), then the worker looked the
  // service up in its own snapshot, which on a BACKUP is empty, and dropped the template.
  const master = director();
  const box = new SyncOutbox(64);
  master.dp.sync.outbox = box;
  master.send('198.18.0.9', 30000, TCP_SYN);
  master.send('198.18.0.1', 40000, TCP_SYN);
  t.equal(master.send('198.18.0.1', 40000, TCP_ACK), RS_MAC(2), 'on the master the synced client is on server 2');
  const backup = director(300, backupSnapshot());
  t.equal(backup.dp.tables.snapshot.services.length, 0, 'the backup forwards no service');
  // The director's import index is compiled with every VIP (Director.fullIndex).
  deliver(drainAll(box), backup, 20, new SyncIndex(snapshot(300)));
  const listed = backup.templates.snapshot(20);
  t.match(listed, [{ state: 'NONE', clientIp: ipToNumber('198.18.0.1'), rsIp: ipToNumber('198.18.0.20'), expiresIn: 300 }], 'the backup lists the template');
  t.ok(backup.flows.template(0) >= 0, 'the imported connection holds its template');
  backup.dp.setSnapshot(snapshot(300), 21);   // VRRP takeover: the service is forwarded now
  t.equal(backup.send('198.18.0.1', 50000, TCP_SYN, 22), RS_MAC(2), 'a new connection of the client goes to the master\'s server');
  t.equal(backup.send('198.18.0.7', 50000, TCP_SYN, 22), RS_MAC(1), 'another client: rr from the start (server 1), so the check above can fail');
});

t.test('a template for a service without persistence here is not installed (counted by the daemon)', async (t) => {
  const backup = director(0);
  const index = new SyncIndex(backup.dp.tables.snapshot);
  const rec = toSyncRecord({ kind: OUTBOX_TEMPLATE, proto: 6, state: 0, clientIp: ipToNumber('198.18.0.1'), clientPort: 0, vip: ipToNumber('198.18.0.100'),
    vport: 80, rsIp: ipToNumber('198.18.0.20'), rsPort: 80, rsId: 2, service: 1, timeout: 300 }, FORWARD_DR);
  t.same(fromSyncRecord(rec, index), { ignored: 'template-not-persistent' });
});

t.test('queues > 1: a synced flow is counted once; the worker that carries it takes the count', async (t) => {
  const flow = { proto: 6, state: 1, clientIp: ipToNumber('198.18.0.1'), clientPort: 40000, vip: ipToNumber('198.18.0.100'), vport: 80,
    rsIp: ipToNumber('198.18.0.20'), rsPort: 80, rsId: 2, service: 1, timeout: 900, nat: false, persistenceTimeout: 0, persistenceMask: 0 };
  const workers = [director(0), director(0)];
  workers[0].dp.importFlow(flow, 10, true);
  workers[1].dp.importFlow(flow, 10, false);
  const active = (): number => workers[0].flows.activeConns[2] + workers[1].flows.activeConns[2];
  t.equal(active(), 1, 'ActiveConn 1, not one per worker');
  t.equal(workers[0].flows.snapshot(10).length + workers[1].flows.snapshot(10).length, 1, 'listed once');
  const claims = new SyncOutbox(16);
  workers[1].dp.claims = claims;
  t.equal(workers[1].send('198.18.0.1', 40000, TCP_ACK, 11), RS_MAC(2), 'the shadow copy forwards');
  const claimed = drainAll(claims);
  t.match(claimed, [{ clientIp: flow.clientIp, clientPort: 40000, vip: flow.vip, vport: 80 }], 'worker 1 says it counts the flow now');
  t.equal(workers[1].flows.activeConns[2], 1);
  // What the main thread then tells the other workers (worker.ts 'sync-disown').
  const tuple = workers[0].flows.tuple;
  tuple[0] = 6; tuple[1] = flow.clientIp; tuple[2] = 40000; tuple[3] = flow.vip; tuple[4] = 80;
  workers[0].flows.disown(workers[0].flows.lookupTuple(11));
  t.equal(active(), 1, 'still counted once, now by worker 1');
  workers[1].send('198.18.0.1', 40000, TCP_ACK, 12);
  t.same(drainAll(claims), [], 'claimed once');
  t.equal(workers[0].flows.expireSome(10_000, 4096), 1, 'the shadow copy expires on its own');
  t.equal(workers[0].flows.activeConns[2], 0, 'and leaves no count behind');
});
