// RuntimeTables' per-rsId arrays (RealServerFlags, 384 kB a set) alternate between two sets
// instead of a fresh set per snapshot: a worker that built one per snapshot held the dead ones
// off its heap until a major GC (the soak measured +384 kB of worker external memory and malloc
// in use per snapshot). Each snapshot's facts must still be its own, never a leftover.
import t from 'tap';
import { RuntimeTables } from '../../src/dataplane/tables.js';
import { caseSnapshot } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { FORWARD_DR, FORWARD_TUN, type Snapshot } from '../../src/dataplane/snapshot.js';
import { heapFigures } from '../../src/os/memory.js';

const snapshot = (version: number, servers: number, edit?: (s: Snapshot) => void): Snapshot => {
  const s = caseSnapshot({ forward: FORWARD_TUN, weights: Array.from({ length: servers }, () => 1) });
  s.version = version;
  edit?.(s);
  return s;
};

t.test('two sets of per-rsId arrays serve any number of snapshots', async (t) => {
  let tables = new RuntimeTables(snapshot(1, 3));
  const seen = new Set<Uint8Array>([tables.rsPresent]);
  for (let v = 2; v <= 100; v++) {
    tables = new RuntimeTables(snapshot(v, 3), tables);
    seen.add(tables.rsPresent);
  }
  t.equal(seen.size, 2, '100 snapshots, 2 sets');
});

t.test('a reused set holds the new snapshot\'s facts only', async (t) => {
  const first = new RuntimeTables(snapshot(1, 3, (s) => {
    const rs3 = s.services[0].realServers[2];
    rs3.local = true;
    rs3.tunnel = 2;
    rs3.tunnelPort = 6080;
  }));
  t.same([first.rsPresent[3], first.rsSchedulable[3], first.rsLocal[3], first.rsTunnel[3], first.rsTunnelPort[3]], [1, 1, 1, 2, 6080]);
  const second = new RuntimeTables(snapshot(2, 2), first);
  // The third reuses the first's set: what the first said of rsId 3 must be gone.
  const third = new RuntimeTables(snapshot(3, 2, (s) => { s.services[0].realServers[1].available = false; }), second);
  t.equal(third.rsPresent, first.rsPresent, 'the first set, refilled');
  t.same([third.rsPresent[3], third.rsSchedulable[3], third.rsLocal[3], third.rsTunnel[3], third.rsTunnelPort[3]], [0, 0, 0, 0, 0], 'rsId 3 left the config');
  t.same([third.rsPresent[1], third.rsSchedulable[1]], [1, 1], 'rsId 1 present and schedulable');
  t.same([third.rsPresent[2], third.rsSchedulable[2]], [1, 0], 'rsId 2 present, down');
  t.same([second.rsPresent[2], second.rsSchedulable[2], second.rsPresent[3]], [1, 1, 0], 'the tables in use before the swap are untouched');
});

t.test('snapshot swaps allocate no memory off the heap', async (t) => {
  let tables = new RuntimeTables(snapshot(1, 3, (s) => { s.services[0].forward = FORWARD_DR; }));
  tables = new RuntimeTables(snapshot(2, 3), tables);
  const before = heapFigures().externalKb;
  for (let v = 3; v < 203; v++) tables = new RuntimeTables(snapshot(v, 3), tables);
  const grew = heapFigures().externalKb - before;
  // A fresh set per swap was 200 x 384 kB = 75 MB (less whatever a GC took back meanwhile).
  t.ok(grew < 2048, `200 swaps: external memory +${grew} kB`);
});
