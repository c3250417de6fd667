// dataplane.queues against the interface's RX queues, on two-queue veths (prefix qau-). An
// AF_XDP socket takes one queue's packets, so a director with fewer workers than RX queues
// forwarded only what RSS put on its queues (bench/queues-lab.ts: 52 % at 100 kpps): now
// queues left out means one worker per RX queue, and a count that differs is refused at start
// with one line, leaving nothing behind.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createLab, destroyLab, labDirectorConfig } from '../../src/lab/index.js';
import { httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'qau-';
const CONNECTIONS = 40;
const config = (queues: string) => writeConfig(labDirectorConfig({ dataplane: `io: afxdp${queues}` }));

t.test('two RX queues', { timeout: 300_000 }, async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix, directorQueues: 2 });
  const dir1 = lab.nodes.dir1.name;

  t.test('queues 1 is refused at start, naming the interface\'s count; nothing is left behind', async (t) => {
    const run = await ulvsIn(dir1, ['run', '-c', config(', queues: 1')]);
    t.equal(run.code, 1, 'exit 1');
    t.match(run.stderr, /^ulvs: dataplane\.queues is 1 but eth0 has 2 RX queues: .*set dataplane\.queues: 2 \(or leave it out\)/m, 'one line names both counts and the fix');
    t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
    t.notMatch(execFileSync('ip', ['-n', dir1, 'link', 'show', 'eth0'], { encoding: 'utf8' }), /xdp/, 'no XDP program attached');
    t.notMatch(execFileSync('ip', ['-n', dir1, '-4', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }), /198\.18\.0\.100\//, 'the static address released');
  });

  t.test('queues left out: one worker per RX queue, every connection answered over both', async (t) => {
    director = await startDirector(dir1, config(''));
    t.match(director.log(), /dataplane\.queues: 2 \(one worker per RX queue of eth0\)/, 'said in one line');
    t.match(director.log(), /"queue":1[^\n]*packets taken with afxdp/, 'a worker on queue 1');
    const { bodies } = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, CONNECTIONS, 'new');
    t.equal(bodies.length, CONNECTIONS, `${CONNECTIONS} new connections, every one answered`);
    t.equal(Object.keys(tally(bodies)).length, 3, `rr over the three servers: ${JSON.stringify(tally(bodies))}`);
    const stats = JSON.parse((await ulvsIn(dir1, ['stats', '--json'])).stdout) as Record<string, number>;
    t.ok(stats.queue0_rx > 0 && stats.queue1_rx > 0, `both queues received (${stats.queue0_rx}, ${stats.queue1_rx})`);
  });
});
