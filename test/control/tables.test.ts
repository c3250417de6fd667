// The lookup tables the control plane's snapshot becomes in a worker: the service index
// (vip, port, protocol) -> service and the hop table (client-side MACs for NAT replies).
import t from 'tap';
import fc from 'fast-check';
import type { SnapshotService } from '../../src/dataplane/snapshot.js';
import { HopTable, ServiceIndex } from '../../src/dataplane/tables.js';
import { formatMac, ipToNumber, parseMac } from '../../src/packet/addr.js';

const service = (addresses: [string, number][], protocol: 6 | 17 = 6): SnapshotService =>
  ({ addresses: addresses.map(([vip, vport]) => ({ vip: ipToNumber(vip), vport })), protocol } as SnapshotService);

t.test('ServiceIndex finds each address of each service, and nothing else', async (t) => {
  const index = new ServiceIndex([
    service([['198.18.0.100', 80]]),
    service([['198.18.0.100', 53]], 17),
    service([['198.18.0.110', 80], ['198.18.0.111', 80], ['198.18.0.111', 443]]),
  ]);
  t.equal(index.find(ipToNumber('198.18.0.100'), 80, 6), 0);
  t.equal(index.find(ipToNumber('198.18.0.100'), 53, 17), 1);
  t.equal(index.find(ipToNumber('198.18.0.100'), 53, 6), -1, 'the protocol is part of the key');
  t.equal(index.find(ipToNumber('198.18.0.111'), 443, 6), 2, 'a group service under each member');
  t.equal(index.find(ipToNumber('198.18.0.110'), 443, 6), -1);
  t.equal(index.find(ipToNumber('198.18.0.101'), 80, 6), -1);
  t.equal(new ServiceIndex([]).find(ipToNumber('198.18.0.100'), 80, 6), -1, 'an empty index finds nothing');
});

t.test('ServiceIndex: property, every key inserted is found, absent keys are not (colliding slots included)', async (t) => {
  const key = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 65535 }), fc.constantFrom(6, 17));
  fc.assert(fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 300, selector: (k) => k.join(':') }), key, (keys, probe) => {
    const services = keys.map(([vip, vport, protocol]) => ({ addresses: [{ vip, vport }], protocol } as SnapshotService));
    const index = new ServiceIndex(services);
    keys.forEach(([vip, port, proto], i) => { if (index.find(vip, port, proto) !== i) throw new Error(`lost ${vip}:${port}/${proto}`); });
    const at = keys.findIndex((k) => k.join(':') === probe.join(':'));
    return index.find(probe[0], probe[1], probe[2]) === at;
  }), { numRuns: 200 });
  t.pass('held for 200 random key sets');
});

/** A frame-like buffer with a source MAC at byte 6, as the pipeline hands it to learn(). */
function frameFrom(mac: string): Uint8Array {
  const u8 = new Uint8Array(14);
  u8.set(parseMac(mac), 6);
  return u8;
}

t.test('HopTable: the same MAC gets the same index, its view holds the MAC', async (t) => {
  const hops = new HopTable();
  const a = hops.learn(frameFrom('02:18:00:00:00:01'), 6);
  const b = hops.learn(frameFrom('02:18:00:00:00:fe'), 6);
  t.not(a, b);
  t.equal(hops.learn(frameFrom('02:18:00:00:00:01'), 6), a, 'the last-seen shortcut');
  t.equal(hops.learn(frameFrom('02:18:00:00:00:fe'), 6), b);
  t.equal(formatMac(hops.views[a], 0), '02:18:00:00:00:01');
  t.equal(formatMac(hops.views[b], 0), '02:18:00:00:00:fe');
});

t.test('HopTable holds CAPACITY distinct MACs apart; one more reuses a slot', async (t) => {
  const hops = new HopTable();
  const macOf = (i: number): string => `0a:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
  const slots = new Set<number>();
  for (let i = 0; i < HopTable.CAPACITY; i++) slots.add(hops.learn(frameFrom(macOf(i)), 6));
  t.equal(slots.size, HopTable.CAPACITY, 'no two MACs share a slot while the table has room');
  let stable = true;
  for (let i = 0; i < HopTable.CAPACITY; i += 97) {
    const slot = hops.learn(frameFrom(macOf(i)), 6);
    if (formatMac(hops.views[slot], 0) !== macOf(i)) stable = false;
  }
  t.ok(stable, 'learned MACs are found again');
  const extra = hops.learn(frameFrom('0e:ff:ff:ff:ff:ff'), 6);
  t.ok(extra >= 0 && extra < HopTable.CAPACITY);
  t.equal(formatMac(hops.views[extra], 0), '0e:ff:ff:ff:ff:ff', 'full: a slot is overwritten (documented limit)');
});
