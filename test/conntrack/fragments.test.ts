// The fragment table: bounded memory and probes, timeouts, forged-fragment verdicts (issue 17).
import t from 'tap';
import fc from 'fast-check';
import { FRAGMENT_TIMEOUT, FragmentTable, FragmentVerdict, MAX_FRAGMENTS } from '../../src/conntrack/fragments.js';
import { TokenBucket } from '../../src/dataplane/rate-limit.js';

const setKey = (table: FragmentTable, src: number, dst: number, idProto: number): void => {
  table.key[0] = src; table.key[1] = dst; table.key[2] = idProto;
};

t.test('memory is fixed by the capacity, whatever goes in', async (t) => {
  const table = new FragmentTable({ capacity: 4096 });
  const bytes = table.byteLength;
  t.equal(bytes, 4096 * (4 + 4 + 4 + 4 + 4 + 2 + 4 + 4) + 12, `${bytes} bytes for 4,096 datagrams in flight`);
  for (let i = 0; i < 100_000; i++) { setKey(table, i, 7, i & 0xffff); table.insert(i, 1480, 0); }
  t.equal(table.byteLength, bytes, 'unchanged after 100,000 inserts');
  t.ok(table.liveCount(0) <= table.capacity, 'never more entries than slots');
});

t.test('property: an entry is found until it times out, and only for its own key', async (t) => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffff)), { minLength: 1, maxLength: 200, selector: (k) => k.join(',') }),
    (keys) => {
      const table = new FragmentTable({ capacity: 1024 });
      const stored: number[] = [];
      keys.forEach(([s, d, ip], i) => { setKey(table, s, d, ip); if (table.insert(i, 8, 100) >= 0) stored.push(i); });
      for (const i of stored) {
        const [s, d, ip] = keys[i];
        setKey(table, s, d, ip);
        const slot = table.find(100 + FRAGMENT_TIMEOUT - 1);
        if (slot < 0 || table.flow(slot) !== i) return false;
        if (table.find(100 + FRAGMENT_TIMEOUT) !== -1) return false;
      }
      setKey(table, 1, 2, 0x1000001);
      return keys.some(([s, d, ip]) => s === 1 && d === 2 && ip === 0x1000001) || table.find(100) === -1;
    }));
});

t.test('a full neighbourhood refuses new datagrams rather than evicting live ones', async (t) => {
  const table = new FragmentTable({ capacity: 16 });
  let refused = 0;
  for (let i = 0; i < 64; i++) { setKey(table, i, 0, 0); if (table.insert(i, 8, 0) < 0) refused++; }
  t.ok(refused >= 64 - 16, `${refused} of 64 refused in a 16-slot table`);
  setKey(table, 999, 0, 0);
  t.ok(table.insert(1, 8, FRAGMENT_TIMEOUT) >= 0, 'once entries time out, their slots are reused');
});

t.test('verdicts: complete, overlap, too many, too large', async (t) => {
  const table = new FragmentTable();
  setKey(table, 1, 2, 3);
  let slot = table.insert(7, 1480, 0);
  t.equal(table.account(slot, 2960, 1048, false), FragmentVerdict.OK, 'last before middle');
  t.equal(table.account(slot, 2960, 1048, false), FragmentVerdict.OVERLAP, 'a second last fragment');
  t.equal(table.account(slot, 1480, 2000, true), FragmentVerdict.OVERLAP, 'past the known end');
  t.equal(table.account(slot, 1480, 1480, true), FragmentVerdict.COMPLETE, 'every byte seen');
  t.equal(table.find(0), -1, 'a whole datagram frees its slot');
  setKey(table, 1, 2, 4);
  slot = table.insert(7, 8, 0);
  t.equal(table.account(slot, 65528, 16, true), FragmentVerdict.TOO_LARGE);
  for (let i = 1; i < MAX_FRAGMENTS; i++) t.equal(table.account(slot, i * 8, 8, true), FragmentVerdict.OK);
  t.equal(table.account(slot, 1000, 8, true), FragmentVerdict.TOO_MANY, `more than ${MAX_FRAGMENTS} fragments`);
});

t.test('token bucket: burst, then the rate', async (t) => {
  const b = new TokenBucket(1000, 50);
  let n = 0;
  for (let i = 0; i < 200; i++) if (b.allow(0)) n++;
  t.equal(n, 50, 'burst of 50 at one instant');
  n = 0;
  for (let ms = 1; ms <= 1000; ms++) for (let i = 0; i < 10; i++) if (b.allow(ms)) n++;
  t.equal(n, 1000, '1,000 a second after that');
});
