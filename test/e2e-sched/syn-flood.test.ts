// A SYN flood from random sources against a director whose table holds 1,024 connections (the
// schema minimum): the table fills to its bound and no further, an established keep-alive
// connection keeps working throughout, and new legitimate connections still get through.
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { labDrConfig, startDirector, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, connsIn, sleep } from './lab-client.js';
import { synFlood } from './tcp-states.js';

const prefix = 'e2sf-';
const TABLE = 1024;
const FLOOD = 40_000;
/** 10,000 SYNs a second for 4 s: ten times the table every second, slow enough to see every one. */
const FLOOD_PPS = 10_000;

t.test('SYN flood: bounded table, established and new connections unharmed', async (t) => {
  let director: RunningDirector | null = null;
  let client: LabClient | null = null;
  t.teardown(async () => { client?.stop(); await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(labDrConfig({ lbAlgo: 'rr', dataplane: `conn_table_size: ${TABLE}` })));
  const dir1 = lab.nodes.dir1.name;
  client = LabClient.start(lab.nodes.client.name);
  const long = await client.open({ host: lab.vip });
  t.match(long.body, /^rs[123]$/, `the established connection is answered (${long.body})`);

  let flooding = true;
  const flood = synFlood(lab, FLOOD, 7, FLOOD_PPS).finally(() => { flooding = false; });
  const longAnswers: string[] = [];
  const fresh: string[] = [];
  const sizes: number[] = [];
  // While the flood runs: the long connection, new connections and the table size, in turns.
  for (let round = 0; flooding && round < 400; round++) {
    longAnswers.push(await client.get(long.id).catch((e: Error) => `ERR:${e.message}`));
    fresh.push(await client.once({ host: lab.vip }).catch((e: Error) => `ERR:${e.message}`));
    // The table size costs a CLI start (slow on a busy machine): sampled every 10th round.
    if (round % 10 === 0) sizes.push((await connsIn(dir1)).length);
    await sleep(20);
  }
  const sent = await flood;
  t.equal(sent, FLOOD, `${FLOOD} SYNs sent from random sources`);
  t.ok(longAnswers.length >= 5 && fresh.length >= 5, `the clients ran during the flood (${longAnswers.length} rounds)`);

  const after = await connsIn(dir1);
  sizes.push(after.length);
  t.ok(sizes.every((n) => n <= TABLE), `the table never holds more than ${TABLE} entries (max seen ${Math.max(...sizes)})`);
  t.equal(after.length, TABLE, `after the flood the table is full: ${after.length} entries`);
  t.ok(after.filter((c) => c.state === 'SYN_RECV' && c.source.startsWith('198.19.')).length > TABLE * 0.9, 'almost all of them the flood\'s SYN_RECV entries');
  const stats = JSON.parse((await ulvsIn(dir1, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.new_flows >= FLOOD * 0.95, `(nearly) every SYN was scheduled and given an entry (new_flows ${stats.new_flows}, rx ${stats.rx})`);

  t.same(new Set(longAnswers), new Set([long.body]), `the established connection answered all ${longAnswers.length} requests during the flood from ${long.body}`);
  const entry = after.find((c) => c.source === `198.18.0.1:${long.localPort}`);
  t.equal(entry?.state, 'ESTABLISHED', 'and keeps its ESTABLISHED entry');
  t.same(fresh.filter((b) => !/^rs[123]$/.test(b)), [], `all ${fresh.length} new connections during the flood succeeded`);

  // With the table full of the flood's entries, new connections still get in (they evict them).
  const later: string[] = [];
  for (let i = 0; i < 20; i++) later.push(await client.once({ host: lab.vip }).catch((e: Error) => `ERR:${e.message}`));
  t.same(later.filter((b) => !/^rs[123]$/.test(b)), [], '20 new connections into the full table succeed');
  t.equal(await client.get(long.id), long.body, 'the established connection still answers');
  t.ok((await connsIn(dir1)).length <= TABLE, 'and the table stays at its bound');
});
