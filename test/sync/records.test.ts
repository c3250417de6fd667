import t from 'tap';
import { decodeSyncMessage, encodeEmptySyncMessage, encodeSyncMessages, type SyncRecordV4 } from '../../src/sync/codec.js';
import { OUTBOX_CONNECTION, OUTBOX_TEMPLATE, type OutboxRecord } from '../../src/dataplane/sync-outbox.js';
import { SyncIndex, countingWorker, fromSyncRecord, toSyncRecord } from '../../src/sync/records.js';
import { IP_VS_CONN_F_NO_CPORT, IP_VS_CTPL_S_NONE } from '../../src/sync/wire.js';
import { IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_TEMPLATE } from '../../src/sync/wire.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { ipToNumber } from '../../src/packet/addr.js';

const VIP = ipToNumber('198.18.0.100'), RS1 = ipToNumber('198.18.0.10'), RS2 = ipToNumber('198.18.0.20');
const CLIENT = ipToNumber('198.18.0.2');

function snapshot(): Snapshot {
  const rs = (rsId: number, ip: number) => ({ rsId, ip, port: 80, weight: 1, available: true, mac: null, uthreshold: 0, lthreshold: 0 });
  const svc = (id: number, vport: number, forward: 0 | 1) => ({
    id, addresses: [{ vip: VIP, vport }], protocol: 6 as const, forward, scheduler: 'rr' as const, schedulerFlags: {} as never,
    persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false, realServers: [rs(id * 10 + 1, RS1), rs(id * 10 + 2, RS2)],
  });
  return { version: 1, services: [svc(1, 80, FORWARD_DR), svc(2, 8080, FORWARD_NAT)], tunnelSource: 0, mtu: 1500 };
}

/** Service 3: persistent (300 s, /24) on port 443; service 4: a two-address group service, persistent. */
function persistentSnapshot(): Snapshot {
  const base = snapshot();
  const [dr] = base.services;
  return { ...base, services: [...base.services,
    { ...dr, id: 3, addresses: [{ vip: VIP, vport: 443 }], persistenceTimeout: 300, persistenceMask: 0xffffff00,
      realServers: dr.realServers.map((rs, i) => ({ ...rs, rsId: 31 + i, port: 443 })) },
    { ...dr, id: 4, addresses: [{ vip: ipToNumber('198.18.0.101'), vport: 25 }, { vip: ipToNumber('198.18.0.101'), vport: 587 }],
      persistenceTimeout: 60, realServers: dr.realServers.map((rs, i) => ({ ...rs, rsId: 41 + i, port: 0 })) },
  ] };
}

function outbox(over: Partial<OutboxRecord> = {}): OutboxRecord {
  return { kind: OUTBOX_CONNECTION, proto: 6, state: 1, clientIp: CLIENT, clientPort: 40000, vip: VIP, vport: 80,
    rsIp: RS2, rsPort: 80, rsId: 12, service: 1, timeout: 899, ...over };
}

t.test('a DR connection goes out with the flags a kernel backup expects and comes back as the same flow', async (t) => {
  const rec = toSyncRecord(outbox(), FORWARD_DR);
  t.equal(rec.flags, IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_NOOUTPUT);
  const [msg] = encodeSyncMessages([rec], { syncId: 7 });
  const decoded = decodeSyncMessage(msg, { syncId: 7 });
  if ('drop' in decoded) throw new Error(decoded.drop);
  const flow = fromSyncRecord(decoded.records[0], new SyncIndex(snapshot()));
  t.same(flow, { kind: 'flow', proto: 6, state: 1, clientIp: CLIENT, clientPort: 40000, vip: VIP, vport: 80, rsIp: RS2, rsPort: 80,
    service: 1, rsId: 12, timeout: 899, nat: false, persistenceTimeout: 0, persistenceMask: 0xffffffff });
});

t.test('a NAT connection in FIN_WAIT is inactive masq (IPVS counts SYN states active), and imports as NAT', async (t) => {
  const rec = toSyncRecord(outbox({ vport: 8080, service: 2, rsId: 21, rsIp: RS1, state: 4 }), FORWARD_NAT);
  t.equal(rec.flags, IP_VS_CONN_F_MASQ | IP_VS_CONN_F_INACTIVE);
  const flow = fromSyncRecord(rec, new SyncIndex(snapshot()));
  t.match(flow, { service: 2, rsId: 21, nat: true, state: 4 });
});

t.test('records this director cannot place are ignored with a reason', async (t) => {
  const index = new SyncIndex(snapshot());
  const base = toSyncRecord(outbox(), FORWARD_DR);
  const cases: [string, SyncRecordV4][] = [
    ['unknown-service', { ...base, vip: ipToNumber('198.18.0.200') }],
    ['unknown-service', { ...base, proto: 17 }],
    ['unknown-real-server', { ...base, rsIp: ipToNumber('198.18.0.99') }],
    ['wrong-method', { ...base, flags: IP_VS_CONN_F_MASQ }],
    ['template-not-persistent', { ...base, flags: base.flags | IP_VS_CONN_F_TEMPLATE, clientPort: 0 }],
    ['bad-state', { ...base, state: 42 }],
  ];
  for (const [reason, rec] of cases) t.same(fromSyncRecord(rec, index), { ignored: reason }, reason);
  t.same(fromSyncRecord({ ...base, family: 6, clientIp: new Uint8Array(16), vip: new Uint8Array(16), rsIp: new Uint8Array(16) }, index),
    { ignored: 'not-ipv4' });
});

t.test('the resync request is an empty v1 message a backup decodes to zero records, signed when keyed', async (t) => {
  const plain = encodeEmptySyncMessage({ syncId: 7 });
  t.same([...plain], [0, 7, 0, 8, 0, 1, 0, 0], 'reserved 0, syncid, size 8, nr_conns 0, version 1, spare 0');
  t.same(decodeSyncMessage(plain, { syncId: 7 }), { syncId: 7, records: [], skipped: [] });
  const signed = encodeEmptySyncMessage({ syncId: 7, key: 'lab-sync-key-0123456789' });
  t.equal(signed.length, 8 + 32);
  t.same(decodeSyncMessage(signed, { syncId: 7, key: 'lab-sync-key-0123456789' }), { syncId: 7, records: [], skipped: [] });
  t.same(decodeSyncMessage(plain, { syncId: 7, key: 'lab-sync-key-0123456789' }), { drop: 'unsigned' });
});

t.test('a persistence template goes out as IPVS sends one and comes back as the same template', async (t) => {
  const masked = (CLIENT & 0xffffff00) >>> 0;
  const tpl = outbox({ kind: OUTBOX_TEMPLATE, state: 0, clientIp: masked, clientPort: 0, vport: 443, rsIp: RS1, rsPort: 443, rsId: 31, service: 3, timeout: 300 });
  const rec = toSyncRecord(tpl, FORWARD_DR);
  t.equal(rec.flags, IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_NOOUTPUT | IP_VS_CONN_F_TEMPLATE | IP_VS_CONN_F_NO_CPORT, 'template and no-cport flags');
  t.equal(rec.state, IP_VS_CTPL_S_NONE);
  t.equal(rec.clientPort, 0);
  const [msg] = encodeSyncMessages([rec], { syncId: 7 });
  const decoded = decodeSyncMessage(msg, { syncId: 7 });
  if ('drop' in decoded) throw new Error(decoded.drop);
  t.same(fromSyncRecord(decoded.records[0], new SyncIndex(persistentSnapshot())), {
    kind: 'template', proto: 6, clientIp: masked, vip: VIP, vport: 443, rsIp: RS1, rsPort: 443, service: 3, rsId: 31, timeout: 300,
    persistenceTimeout: 300,
  }, 'the template carries this director\'s persistence_timeout (a BACKUP\'s workers have no service to look it up in)');
});

t.test('a group service\'s template (protocol 0, port 0) finds its service by VIP; bad templates are ignored with a reason', async (t) => {
  const index = new SyncIndex(persistentSnapshot());
  const group = toSyncRecord(outbox({ kind: OUTBOX_TEMPLATE, proto: 0, state: 0, clientPort: 0, vip: ipToNumber('198.18.0.101'), vport: 0,
    rsIp: RS2, rsPort: 0, rsId: 42, service: 4, timeout: 60 }), FORWARD_DR);
  t.match(fromSyncRecord(group, index), { kind: 'template', service: 4, rsId: 42, proto: 0 });
  t.same(fromSyncRecord({ ...group, vip: ipToNumber('198.18.0.102') }, index), { ignored: 'unknown-service' });
  const tpl = toSyncRecord(outbox({ kind: OUTBOX_TEMPLATE, state: 0, clientPort: 0, vport: 443, rsIp: RS1, rsPort: 443, service: 3 }), FORWARD_DR);
  t.same(fromSyncRecord({ ...tpl, rsIp: ipToNumber('198.18.0.99') }, index), { ignored: 'unknown-real-server' });
  t.same(fromSyncRecord({ ...tpl, flags: IP_VS_CONN_F_MASQ | IP_VS_CONN_F_TEMPLATE }, index), { ignored: 'wrong-method' });
});

t.test('countingWorker: one worker of n per flow, every worker used, 0 with one queue', async (t) => {
  const seen = new Set<number>();
  for (let port = 40000; port < 40064; port++) {
    const w = countingWorker({ clientIp: CLIENT, clientPort: port, vport: 80 }, 3);
    t.ok(w >= 0 && w < 3);
    t.equal(countingWorker({ clientIp: CLIENT, clientPort: port, vport: 80 }, 3), w, 'the same flow, the same worker');
    seen.add(w);
  }
  t.equal(seen.size, 3);
  t.equal(countingWorker({ clientIp: CLIENT, clientPort: 1, vport: 80 }, 1), 0);
});
