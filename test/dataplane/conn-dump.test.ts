// Connection dumps in chunks of typed arrays (issue 18 part 4): the worker copies words, the
// main thread formats. The chunked dump must list exactly what the old per-object listing did
// (templates first, NONE state, shadow copies and expired flows left out), whatever the chunk size.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { DUMP_WORDS } from '../../src/conntrack/dump-layout.js';
import {
  collectConnections, dumpChunk, DUMP_CHUNK, DUMP_FLOWS, DUMP_FLOWS6, DUMP_TEMPLATES, DUMP_VISITS, formatChunk, type DumpChunk, type Dumpable,
} from '../../src/dataplane/conn-dump.js';
import { numberToIp } from '../../src/packet/addr.js';
import { insertFlow } from '../conntrack/flow-calls.js';

const NOW = 1000;
const VIP = 0xc6120064;

function tables(flowCount: number): { flows: FlowTable; templates: PersistenceTable } {
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  for (let i = 0; i < flowCount; i++) {
    insertFlow(flows, i % 3 === 0 ? 17 : 6, 0xc6130000 + i, 10_000 + i, VIP, 80, 1, 1 + (i % 3), 0xc6120010 + (i % 3), 8080, NOW, false);
  }
  for (let i = 0; i < 10; i++) templates.insert(1, 0xc6130000 + i, 1 + (i % 3), 300, NOW, 6, VIP, 80, 0xc6120010 + (i % 3), 8080);
  return { flows, templates };
}

/** What the worker's handler answered before: one object per entry from snapshot(). */
function oldListing(flows: FlowTable, templates: PersistenceTable) {
  return [...templates.snapshot(NOW), ...flows.snapshot(NOW)].map((f) => ({
    protocol: f.proto === 6 ? 'TCP' : f.proto === 17 ? 'UDP' : 'IP',
    expiresIn: f.expiresIn,
    state: f.state,
    source: `${numberToIp(f.clientIp)}:${f.clientPort}`,
    virtual: `${numberToIp(f.vip)}:${f.vport}`,
    destination: `${numberToIp(f.rsIp)}:${f.rsPort}`,
  }));
}

/** A worker that answers with chunks of at most `entries` entries and walks at most `visits` slots. */
function smallChunks(flows: Dumpable, templates: Dumpable, entries: number, visits: number) {
  const asked: number[] = [];
  const ask = async (r: { table: number; from: number }): Promise<DumpChunk> => {
    asked.push(r.from);
    // The IPv6 table answers in one go, formatted by the worker (none here).
    if (r.table === DUMP_FLOWS6) return { words: new Uint32Array(0), count: 0, next: -1, entries: [] };
    const words = new Uint32Array(entries * DUMP_WORDS);
    const { count, next } = (r.table === DUMP_TEMPLATES ? templates : flows).dumpInto(NOW, r.from, words, visits);
    return { words, count, next };
  };
  return { ask, asked };
}

t.test('a chunked dump lists what the per-object listing did, for any chunk size', async (t) => {
  const { flows, templates } = tables(1000);
  const expected = oldListing(flows, templates);
  t.equal(expected.length, 1010);
  t.equal(expected[0].state, 'NONE', 'templates first');
  for (const [entries, visits] of [[1, 1], [7, 3], [64, 1000], [5000, 5000]]) {
    const { ask, asked } = smallChunks(flows, templates, entries, visits);
    t.same(await collectConnections(ask), expected, `${entries} entries / ${visits} slots per chunk`);
    t.ok(asked.length >= Math.ceil(1010 / entries), 'one request per chunk');
  }
});

t.test('expired flows and shadow copies are left out; an empty table is one request per table', async (t) => {
  const { flows, templates } = tables(20);
  flows.disown(0); // a synced copy another worker counts
  const dumped = await collectConnections(smallChunks(flows, templates, 8, 8).ask);
  t.equal(dumped.length, 10 + 19);
  t.notOk(dumped.some((e) => e.source === `${numberToIp(0xc6130000)}:10000`), 'the shadow copy is not listed');
  const empty = tables(0);
  const { ask, asked } = smallChunks(empty.flows, new PersistenceTable({ capacity: 16 }), 8, 8);
  t.same(await collectConnections(ask), []);
  t.equal(asked.length, 3, 'templates, IPv4 flows, IPv6 flows');
});

t.test('the worker side: bounded chunks in a transferable buffer, the cursor always advancing', async (t) => {
  const { flows } = tables(3000);
  const chunk = dumpChunk(flows, NOW, 0);
  t.ok(chunk.words.buffer instanceof ArrayBuffer, 'transferable (not shared)');
  t.equal(chunk.words.length, DUMP_CHUNK * DUMP_WORDS);
  t.equal(chunk.count, 3000);
  t.equal(chunk.next, -1, 'done in one chunk');
  const out: ReturnType<typeof oldListing> = [];
  formatChunk(chunk, out);
  t.equal(out[1].source, `${numberToIp(0xc6130001)}:10001`);
  t.equal(out[1].protocol, 'TCP');
  t.equal(out[0].protocol, 'UDP');
  t.ok(DUMP_VISITS >= DUMP_CHUNK);
  // A dump that does not advance is a bug, not an endless loop.
  await t.rejects(collectConnections(async () => ({ words: new Uint32Array(0), count: 0, next: 0 })), /did not advance/);
  // A worker that died mid-dump ends that worker's part.
  t.same(await collectConnections(async () => undefined), []);
  t.equal(DUMP_FLOWS, 1);
});
