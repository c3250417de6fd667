// IPv6 persistence templates: the wide PersistenceTable keys on the four masked words, so two
// clients whose 32-bit folds collide keep their own templates; prefix masks as ipvsadm -M.
import t from 'tap';
import { PersistenceTable, SharedPersistenceTable } from '../../src/conntrack/persistence.js';
import { allocateSharedTemplates6, createPersistenceTable6, prefixMaskWord, setClientKey6, snapshotTemplates6 } from '../../src/conntrack/persistence6.js';

t.test('prefix masks word by word', async (t) => {
  t.same([0, 1, 2, 3].map((i) => prefixMaskWord(64, i)), [0xffffffff, 0xffffffff, 0, 0]);
  t.same([0, 1, 2, 3].map((i) => prefixMaskWord(56, i)), [0xffffffff, 0xffffff00, 0, 0]);
  t.same([0, 1, 2, 3].map((i) => prefixMaskWord(128, i)), [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
  t.same([0, 1, 2, 3].map((i) => prefixMaskWord(0, i)), [0, 0, 0, 0]);
});

t.test('colliding folds keep their own templates; a /64 groups clients', async (t) => {
  const table = createPersistenceTable6(1024);
  const vip = [0x20010002, 0, 0, 0x100] as const;
  // 2001:2::1:0:1 and 2001:2::2:0:2 fold (XOR of the words) to the same 32 bits.
  setClientKey6(table, 128, 0x20010002, 0, 1, 1, ...vip);
  t.equal(table.args[0], 0x20010002);
  const a = table.insertArgs(1, 7, 60, 100);
  setClientKey6(table, 128, 0x20010002, 0, 2, 2, ...vip);
  t.equal(table.args[0], 0x20010002, 'the folds collide');
  t.equal(table.lookupArgs(1, 100), -1, 'the other client has no template');
  const b = table.insertArgs(1, 8, 60, 100);
  t.not(a, b);
  setClientKey6(table, 128, 0x20010002, 0, 1, 1, ...vip);
  t.equal(table.rsId(table.lookupArgs(1, 100)), 7, 'first client: its own server');
  setClientKey6(table, 64, 0x20010002, 0, 0xdead, 0xbeef, ...vip);
  const c = table.insertArgs(2, 9, 60, 100);
  setClientKey6(table, 64, 0x20010002, 0, 0x1234, 0x5678, ...vip);
  t.equal(table.lookupArgs(2, 100), c, '/64: another client of the prefix finds the template');
  setClientKey6(table, 64, 0x20010002, 1, 0xdead, 0xbeef, ...vip);
  t.equal(table.lookupArgs(2, 100), -1, 'another /64 does not');
  t.equal(table.lookupArgs(2, 161), -1, 'expired after persistence_timeout');
  const listed = snapshotTemplates6(table, 100).map((e) => `${e.client} ${e.vip} ${e.rsId}`).sort();
  t.same(listed, ['2001:2:: 2001:2::100 9', '2001:2::1:0:1 2001:2::100 7', '2001:2::2:0:2 2001:2::100 8'],
    'listed with the masked client (the /64 as its prefix) and the VIP');
  t.ok(table.memory().bytesPerTemplate > new PersistenceTable({ capacity: 1024 }).memory().bytesPerTemplate, 'IPv6 templates are wider');
});

t.test('shared memory: two workers see one template', async (t) => {
  const memory = allocateSharedTemplates6(4096);
  const w1 = createPersistenceTable6(1024, memory, 1);
  const w2 = createPersistenceTable6(1024, memory, 2);
  t.ok(w1 instanceof SharedPersistenceTable);
  setClientKey6(w1, 64, 0x20010002, 0, 0, 1, 0x20010002, 0, 0, 0x100);
  const tpl = w1.insertArgs(3, 11, 60, 10);
  setClientKey6(w2, 64, 0x20010002, 0, 0, 2, 0x20010002, 0, 0, 0x100);
  t.equal(w2.lookupArgs(3, 10), tpl);
  t.equal(w2.rsId(tpl), 11);
});
