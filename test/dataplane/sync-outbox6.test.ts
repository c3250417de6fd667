// The sync outbox with IPv6 records (issue 16): one IPv6 connection or template takes three
// slots, pushed all or none, drained whole and in order between IPv4 records, across the
// ring's wrap; a ring without room for all three counts the refusal and loses no earlier record.
import t from 'tap';
import fc from 'fast-check';
import { OUTBOX6_SLOTS, OUTBOX_CONNECTION, OUTBOX_TEMPLATE, SyncOutbox, fillRecord, type OutboxRecord, type OutboxRecord6 } from '../../src/dataplane/sync-outbox.js';
import { fillRecord6 } from '../../src/dataplane/sync-outbox6.js';
import { parseIpv6 } from '../../src/packet/addr6.js';

function record4(i: number): OutboxRecord {
  return {
    kind: OUTBOX_CONNECTION, proto: 6, state: 1, clientIp: (0xc6120000 + i) >>> 0, clientPort: i & 0xffff,
    vip: 0xc6120064, vport: 80, rsIp: 0xc612000b, rsPort: 8080, rsId: (i % 7) + 1, service: 3, timeout: 900,
  };
}

function record6(i: number, kind = OUTBOX_CONNECTION): OutboxRecord6 {
  return {
    family: 6, kind, proto: 6, state: kind === OUTBOX_TEMPLATE ? 0 : 3,
    clientIp: parseIpv6(`2001:2::${(i & 0xffff).toString(16)}:1`), clientPort: kind === OUTBOX_TEMPLATE ? 0 : i & 0xffff,
    vip: parseIpv6('2001:2::100'), vport: 80, rsIp: parseIpv6(`2001:2:0:1::${((i % 3) + 1) * 10}`), rsPort: 8080,
    rsId: (i % 3) + 11, service: 10, timeout: 900 - (i % 100),
  };
}

/** Comparable form of either record: typed arrays as arrays, keys sorted (JSON compares order). */
const plain = (r: OutboxRecord | OutboxRecord6): unknown => {
  const flat: Record<string, unknown> = r.family === 6 ? { ...r, clientIp: [...r.clientIp], vip: [...r.vip], rsIp: [...r.rsIp] } : { ...r };
  return Object.fromEntries(Object.keys(flat).sort().map((k) => [k, flat[k]]));
};

t.test('every field of an IPv6 connection and template survives the ring', async (t) => {
  const box = new SyncOutbox(8);
  const conn = record6(0xfffe);
  conn.clientIp = parseIpv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'); conn.rsPort = 65535; conn.rsId = 65535; conn.timeout = 123456;
  const tpl = record6(7, OUTBOX_TEMPLATE);
  for (const r of [conn, tpl]) {
    fillRecord6(box.scratch6, r);
    t.ok(box.push6());
  }
  t.equal(box.pending, 2 * OUTBOX6_SLOTS, 'three slots each');
  const out: unknown[] = [];
  t.equal(box.drain((x) => out.push(plain(x))), 2, 'two records drained');
  t.same(out, [plain(conn), plain(tpl)]);
  t.equal(box.pending, 0);
});

t.test('mixed IPv4 and IPv6 records come out in order, whole, across the wrap; a full ring counts what it refused', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constant('drain' as const), fc.record({ v6: fc.boolean(), n: fc.integer({ min: 1, max: 12 }) })), { maxLength: 60 }),
    (ops) => {
      const box = new SyncOutbox(16);
      const model: (OutboxRecord | OutboxRecord6)[] = [];
      let next = 0, refused = 0, slots = 0;
      for (const op of ops) {
        if (op === 'drain') {
          const got: unknown[] = [];
          box.drain((r) => { got.push(plain(r)); });
          if (JSON.stringify(got) !== JSON.stringify(model.splice(0).map(plain))) return false;
          slots = 0;
          continue;
        }
        for (let k = 0; k < op.n; k++) {
          const r = op.v6 ? record6(next, next % 5 === 0 ? OUTBOX_TEMPLATE : OUTBOX_CONNECTION) : record4(next);
          let pushed: boolean;
          if (r.family === 6) { fillRecord6(box.scratch6, r); pushed = box.push6(); } else { fillRecord(box.scratch, r); pushed = box.push(); }
          const need = r.family === 6 ? OUTBOX6_SLOTS : 1;
          // The model: a record goes in exactly when its slots fit.
          if (pushed !== (slots + need <= 16)) return false;
          if (pushed) { model.push(r); slots += need; } else refused++;
          next++;
        }
        if (box.pending !== slots) return false;
      }
      return box.overflows === refused;
    },
  ));
});

t.test('drain(max) counts records, not slots, and leaves the rest whole', async (t) => {
  const box = new SyncOutbox(16);
  for (let i = 0; i < 4; i++) { fillRecord6(box.scratch6, record6(i)); t.ok(box.push6()); }
  const first: unknown[] = [];
  t.equal(box.drain((r) => first.push(plain(r)), 3), 3);
  t.same(first, [0, 1, 2].map((i) => plain(record6(i))));
  const rest: unknown[] = [];
  box.drain((r) => rest.push(plain(r)));
  t.same(rest, [plain(record6(3))]);
});
