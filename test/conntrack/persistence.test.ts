// IPVS persistence templates: masked client + service -> real server, kept alive by the
// connections they created, bounded, listed like ipvsadm -Lnc.
import t from 'tap';
import fc from 'fast-check';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { lookupFlow, insertFlow } from './flow-calls.js';
import { formatConnections, type ConnectionEntry } from '../../src/control/format.js';
import { numberToIp } from '../../src/packet/addr.js';

const TCP = 6, SYN = 0x02, ACK = 0x10;
const VIP = 0xc6120064, MASK_24 = 0xffffff00;

t.test('a client masked by the granularity keeps its real server until the template expires', async (t) => {
  const templates = new PersistenceTable({ capacity: 8, seed: 1 });
  const key = PersistenceTable.maskClient(0xc6120105, MASK_24);
  t.equal(key, 0xc6120100);
  t.equal(templates.lookup(3, key, 100), -1);
  const tpl = templates.insert(3, key, 7, 50, 100, TCP, VIP, 80, 0xc612000a, 80);
  t.equal(templates.lookup(3, PersistenceTable.maskClient(0xc61201fe, MASK_24), 120), tpl, 'same /24 -> same template');
  t.equal(templates.rsId(tpl), 7);
  t.equal(templates.lookup(4, key, 120), -1, 'another service has its own templates');
  t.equal(templates.lookup(3, 0xc6120200, 120), -1, 'another /24 has none');
  templates.refresh(tpl, 120);
  t.equal(templates.lookup(3, key, 169), tpl, 'a new connection restarted the timer');
  t.equal(templates.lookup(3, key, 170), -1, 'expired after persistence_timeout idle');
  t.equal(templates.expireSome(170, 8), 1);
  t.equal(templates.stats.size, 0);
});

t.test('a template does not expire while its connections live, then lives persistence_timeout more', async (t) => {
  const templates = new PersistenceTable({ capacity: 8, seed: 2 });
  const flows = new FlowTable({ capacity: 8, seed: 2, templates });
  const tpl = templates.insert(1, 0xc6120101, 2, 30, 0, TCP, VIP, 80, 0xc612000a, 80);
  const flow = insertFlow(flows, TCP, 0xc6120101, 40000, VIP, 80, 1, 2, 0xc612000a, 80, 0, false);
  flows.attachTemplate(flow, tpl, 0);
  flows.onTcpPacket(flow, true, SYN, 0);
  flows.onTcpPacket(flow, true, ACK, 0);
  t.equal(templates.controlled(tpl), 1);
  t.equal(flows.template(flow), tpl);
  t.equal(templates.lookup(1, 0xc6120101, 500), tpl, 'alive long after 30 s: a connection depends on it');
  t.equal(templates.expireSome(500, 8), 0);
  t.equal(templates.snapshot(500).length, 1, 'listed while controlling');
  flows.expireNow(flow, 600);
  t.equal(templates.controlled(tpl), 0);
  t.equal(templates.lookup(1, 0xc6120101, 629), tpl, 'still there persistence_timeout after the last connection');
  t.equal(templates.lookup(1, 0xc6120101, 630), -1);
});

t.test('flows freed by expiry, eviction or flush release their template', async (t) => {
  const templates = new PersistenceTable({ capacity: 8, seed: 3 });
  const flows = new FlowTable({ capacity: 2, seed: 3, templates });
  const tpl = templates.insert(1, 9, 5, 10, 0, TCP, VIP, 80, 1, 80);
  for (let port = 1; port <= 2; port++) {
    const f = insertFlow(flows, TCP, 9, port, VIP, 80, 1, 5, 1, 80, 0, false);
    flows.attachTemplate(f, tpl, 0);
  }
  t.equal(templates.controlled(tpl), 2);
  insertFlow(flows, TCP, 10, 1, VIP, 80, 1, 6, 2, 80, 0, false);      // evicts one
  t.equal(templates.controlled(tpl), 1, 'eviction released');
  flows.expireSome(1000, 8);                                        // NONE times out after 2 s
  t.equal(templates.controlled(tpl), 0, 'expiry released');
  const f = insertFlow(flows, TCP, 9, 3, VIP, 80, 1, 5, 1, 80, 1000, false);
  flows.attachTemplate(f, tpl, 1000);
  t.equal(flows.dropRealServer(5, 1000, true), 1);
  t.equal(templates.controlled(tpl), 0, 'flush released');
  t.equal(templates.lookup(1, 9, 1000), -1, 'templates to a removed server stop steering');
  t.equal(templates.stats.size, 0, 'and, controlling nothing, are gone');
});

t.test('invalidated template that still controls connections: unfindable, freed when they end', async (t) => {
  const templates = new PersistenceTable({ capacity: 4, seed: 4 });
  const flows = new FlowTable({ capacity: 4, seed: 4, templates });
  const tpl = templates.insert(1, 9, 5, 100, 0, TCP, VIP, 80, 1, 80);
  const f = insertFlow(flows, TCP, 9, 1, VIP, 80, 1, 5, 1, 80, 0, false);
  flows.attachTemplate(f, tpl, 0);
  templates.dropRealServer(5, 0);
  t.equal(templates.lookup(1, 9, 0), -1);
  const again = templates.insert(1, 9, 6, 100, 0, TCP, VIP, 80, 2, 80);
  t.equal(templates.rsId(templates.lookup(1, 9, 0)), 6, 'a new template for the same client');
  t.equal(templates.stats.size, 2);
  flows.expireNow(f, 1);
  t.equal(templates.stats.size, 1, 'the old one went with its last connection');
  t.equal(templates.lookup(1, 9, 1), again);
});

t.test('bounded: a full table evicts the oldest idle template; full of controlling ones refuses', async (t) => {
  const templates = new PersistenceTable({ capacity: 2, seed: 5 });
  const a = templates.insert(1, 1, 1, 100, 0, TCP, VIP, 80, 1, 80);
  templates.insert(1, 2, 1, 100, 0, TCP, VIP, 80, 1, 80);
  templates.attach(a);
  templates.insert(1, 3, 1, 100, 0, TCP, VIP, 80, 1, 80);
  t.equal(templates.lookup(1, 1, 0), a, 'controlling template kept');
  t.equal(templates.lookup(1, 2, 0), -1, 'oldest idle evicted');
  t.equal(templates.stats.evictions, 1);
  templates.attach(templates.lookup(1, 3, 0));
  t.equal(templates.insert(1, 4, 1, 100, 0, TCP, VIP, 80, 1, 80), -1, 'refused: schedule without persistence');
  t.equal(templates.stats.full, 1);
  t.equal(templates.stats.size, 2);
});

t.test('listing: protocol, client with port 0, virtual, destination, state NONE', async (t) => {
  const templates = new PersistenceTable({ capacity: 4, seed: 6 });
  templates.insert(2, 0xc6120100, 1, 360, 10, 0, VIP, 0, 0xc612000a, 0);   // a multi-port (group) service: "IP"
  const [entry] = templates.snapshot(70);
  t.same(entry, { proto: 0, state: 'NONE', expiresIn: 300, clientIp: 0xc6120100, clientPort: 0, vip: VIP, vport: 0,
    rsIp: 0xc612000a, rsPort: 0, service: 2, rsId: 1, controlled: 0 });
});

t.test('property: templates agree with a Map oracle (no connections attached)', async (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), svc: fc.integer({ min: 0, max: 2 }), client: fc.integer({ min: 0, max: 9 }), rs: fc.integer({ min: 0, max: 5 }), timeout: fc.integer({ min: 1, max: 100 }) }),
    fc.record({ kind: fc.constant('lookup' as const), svc: fc.integer({ min: 0, max: 2 }), client: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ kind: fc.constant('advance' as const), s: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ kind: fc.constant('sweep' as const) }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer(), fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), (capacity, seed, ops) => {
    const table = new PersistenceTable({ capacity, seed });
    const oracle = new Map<string, { rs: number; expires: number; seq: number }>();
    let now = 0, seq = 0;
    for (const o of ops) {
      if (o.kind === 'insert') {
        const k = `${o.svc}/${o.client}`;
        oracle.delete(k);
        if (oracle.size >= capacity) {
          const oldest = [...oracle.entries()].sort((x, y) => x[1].seq - y[1].seq)[0][0];
          oracle.delete(oldest);
        }
        oracle.set(k, { rs: o.rs, expires: now + o.timeout, seq: seq++ });
        if (table.insert(o.svc, o.client, o.rs, o.timeout, now, TCP, VIP, 80, 1, 80) < 0) throw new Error('refused');
      } else if (o.kind === 'advance') now += o.s;
      else if (o.kind === 'sweep') {
        table.expireSome(now, capacity);
        for (const [k, v] of oracle) if (v.expires <= now) oracle.delete(k);
      }
      for (let svc = 0; svc <= 2; svc++) {
        for (let client = 0; client <= 9; client++) {
          const want = oracle.get(`${svc}/${client}`);
          const got = table.lookup(svc, client, now);
          const live = want !== undefined && want.expires > now;
          if ((got >= 0) !== live) throw new Error(`${svc}/${client}: ${got} vs ${JSON.stringify(want)} at ${now}`);
          if (live && table.rsId(got) !== want.rs) throw new Error('rs differs');
        }
      }
      if (table.stats.size !== oracle.size) throw new Error(`size ${table.stats.size} != ${oracle.size}`);
    }
  }), { numRuns: 400 });
  t.pass();
});

// What a worker sends for `ulvs conns` (src/dataplane/worker.ts) for one table entry.
function listed(e: { proto: number; state: string; expiresIn: number; clientIp: number; clientPort: number;
  vip: number; vport: number; rsIp: number; rsPort: number }): ConnectionEntry {
  return {
    protocol: e.proto === 6 ? 'TCP' : e.proto === 17 ? 'UDP' : 'IP', expiresIn: e.expiresIn, state: e.state,
    source: `${numberToIp(e.clientIp)}:${e.clientPort}`, virtual: `${numberToIp(e.vip)}:${e.vport}`,
    destination: `${numberToIp(e.rsIp)}:${e.rsPort}`,
  };
}

t.test('ipvsadm -Lnc text for connections and templates', async (t) => {
  const templates = new PersistenceTable({ capacity: 4, seed: 7 });
  const flows = new FlowTable({ capacity: 4, seed: 7, templates });
  const tpl = templates.insert(1, 0xc0a87bf8, 0, 300, 0, TCP, 0x0afe4261, 8080, 0xac148706, 8080);
  const f = insertFlow(flows, TCP, 0xc0a87bf8, 35672, 0x0afe4261, 8080, 1, 0, 0xac148706, 8080, 0, true);
  flows.attachTemplate(f, tpl, 0);
  flows.onTcpPacket(f, true, SYN, 0);
  flows.onTcpPacket(f, true, ACK, 0);
  flows.onTcpPacket(f, true, 0x11, 6);                        // FIN from the client: CLOSE_WAIT (60 s)
  flows.onTcpPacket(f, false, 0x11, 6);                       // server FIN: TIME_WAIT (120 s)
  const now = 6;
  t.equal(formatConnections([...flows.snapshot(now), ...templates.snapshot(now)].map(listed)),
    'IPVS connection entries\n' +
    'pro expire state       source             virtual            destination\n' +
    'TCP 02:00  TIME_WAIT   192.168.123.248:35672 10.254.66.97:8080  172.20.135.6:8080\n' +
    'TCP 04:54  NONE        192.168.123.248:0  10.254.66.97:8080  172.20.135.6:8080\n');
  t.equal(formatConnections([listed({ ...templates.snapshot(now)[0], proto: 0, expiresIn: 10803 })]).split('\n')[2].slice(0, 17),
    'IP  180:03 NONE  '); // print_conn: %-3s %-6s %-11s
  t.equal(templates.snapshot(310)[0].expiresIn, 290, 'kept past its time by the connection: countdown restarts');
});

t.test('property: a template\'s controlled count is the number of held flows attached to it', async (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('connect' as const), client: fc.integer({ min: 0, max: 5 }), port: fc.integer({ min: 1, max: 4 }), rs: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('packet' as const), client: fc.integer({ min: 0, max: 5 }), port: fc.integer({ min: 1, max: 4 }), flags: fc.constantFrom(SYN, ACK, 0x11, 0x04) }),
    fc.record({ kind: fc.constant('advance' as const), s: fc.integer({ min: 0, max: 200 }) }),
    fc.record({ kind: fc.constant('sweep' as const), visits: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ kind: fc.constant('drop' as const), rs: fc.integer({ min: 0, max: 2 }), expireNow: fc.boolean() }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer(),
    fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), (flowCapacity, templateCapacity, seed, ops) => {
      const templates = new PersistenceTable({ capacity: templateCapacity, seed });
      const flows = new FlowTable({ capacity: flowCapacity, seed, templates });
      let now = 10;
      for (const o of ops) {
        if (o.kind === 'connect') {
          let tpl = templates.lookup(1, o.client, now);
          if (tpl >= 0) templates.refresh(tpl, now);
          else tpl = templates.insert(1, o.client, o.rs, 30, now, TCP, VIP, 80, 100 + o.rs, 80);
          const rs = tpl >= 0 ? templates.rsId(tpl) : o.rs;
          const flow = insertFlow(flows, TCP, o.client, o.port, VIP, 80, 1, rs, 100 + rs, 80, now, false);
          flows.attachTemplate(flow, tpl, now);
        } else if (o.kind === 'packet') {
          const flow = lookupFlow(flows, TCP, o.client, o.port, VIP, 80, now);
          if (flow >= 0) flows.onTcpPacket(flow, true, o.flags, now);
        } else if (o.kind === 'advance') now += o.s;
        else if (o.kind === 'sweep') { flows.expireSome(now, o.visits); templates.expireSome(now, o.visits); }
        else flows.dropRealServer(o.rs, now, o.expireNow);
        const attached = new Map<number, number>();
        for (let f = 0; f < flows.slotCount; f++) {
          if (flows.proto(f) === 0) continue;
          const tpl = flows.template(f);
          if (tpl >= 0) attached.set(tpl, (attached.get(tpl) ?? 0) + 1);
        }
        for (let tpl = 0; tpl < templateCapacity; tpl++) {
          if (templates.controlled(tpl) !== (attached.get(tpl) ?? 0)) {
            throw new Error(`template ${tpl}: controlled ${templates.controlled(tpl)} != ${attached.get(tpl) ?? 0} flows`);
          }
        }
        if (templates.stats.size > templateCapacity) throw new Error('template bound exceeded');
      }
    }), { numRuns: 400 });
  t.pass();
});

t.test('PersistConn: live templates per real server, as IPVS counts dest->persistconns', async (t) => {
  const templates = new PersistenceTable({ capacity: 16, seed: 5 });
  templates.insert(1, 0xc6120100, 7, 30, 0, TCP, VIP, 80, 0xc612000a, 80);
  templates.insert(1, 0xc6120200, 7, 30, 0, TCP, VIP, 80, 0xc612000a, 80);
  templates.insert(1, 0xc6120300, 8, 60, 0, TCP, VIP, 80, 0xc6120014, 80);
  t.same([...templates.countsByRealServer(10)].sort(), [[7, 2], [8, 1]]);
  t.same([...templates.countsByRealServer(40)], [[8, 1]], 'expired templates no longer count');
});

t.test('property: countsByRealServer counts what snapshot lists, per rsId', async () => {
  fc.assert(fc.property(
    fc.array(fc.record({ client: fc.integer({ min: 0, max: 40 }), rsId: fc.integer({ min: 1, max: 4 }), timeout: fc.integer({ min: 1, max: 50 }), at: fc.integer({ min: 0, max: 50 }) }), { maxLength: 40 }),
    fc.integer({ min: 0, max: 120 }),
    (inserts, now) => {
      const templates = new PersistenceTable({ capacity: 16, seed: 3 });
      for (const i of [...inserts].sort((a, b) => a.at - b.at)) {
        if (templates.lookup(1, i.client << 8, i.at) < 0) templates.insert(1, i.client << 8, i.rsId, i.timeout, i.at, TCP, VIP, 80, 0xc6120000 + i.rsId, 80);
      }
      const expected = new Map<number, number>();
      for (const e of templates.snapshot(now)) expected.set(e.rsId, (expected.get(e.rsId) ?? 0) + 1);
      const got = templates.countsByRealServer(now);
      return [...expected].every(([id, n]) => got.get(id) === n) && [...got.keys()].every((id) => expected.has(id));
    },
  ), { numRuns: 200 });
});
