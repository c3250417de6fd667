// The health bench's own pieces: its configs are valid ulvs configs (as `ulvs check-config`
// reads them), and its log reading and statistics are right.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { detectionConfig, loadConfig, stateChanges, stats } from '../../bench/health.js';
import { ULVS } from '../e2e/director.js';

const dir = mkdtempSync(join(tmpdir(), 'ulvs-bench-health-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

for (const [name, yaml] of [['detection', detectionConfig()], ['load unchecked', loadConfig(false)], ['load checked', loadConfig(true)]] as const) {
  t.test(`the ${name} config passes check-config`, async (t) => {
    const file = join(dir, `${name.replace(' ', '-')}.yaml`);
    writeFileSync(file, yaml);
    const r = spawnSync(process.execPath, [ULVS, 'check-config', file], { encoding: 'utf8' });
    t.equal(r.status, 0, `exit 0 ${r.stderr}`);
  });
}

t.test('the load configs list 1,000 extra real servers, checked only in the checked one', async (t) => {
  t.equal(loadConfig(true).match(/port: 1\d{4}/g)?.length, 1000);
  t.equal(loadConfig(true).match(/tcp_check/g)?.length, 1000);
  t.equal(loadConfig(false).match(/tcp_check/g), null);
});

t.test('stats', async (t) => {
  t.same(stats([3, 1, 2]), { n: 3, min: 1, median: 2, max: 3, mean: 2 });
  t.same(stats([4, 1, 2, 3]), { n: 4, min: 1, median: 2.5, max: 4, mean: 2.5 });
  t.equal(stats([]).n, 0);
});

t.test('stateChanges reads the director\'s pino lines and nothing else', async (t) => {
  const log = [
    '{"level":30,"time":1000,"pid":1,"realServer":"198.18.0.20:80","up":false,"msg":"real server 198.18.0.20:80 is down"}',
    '{"level":30,"time":2000,"pid":1,"msg":"director running"}',
    'not json "real server x is up"',
    '{"level":30,"time":3000,"pid":1,"realServer":"198.18.0.20:80","up":true,"weight":2,"msg":"real server 198.18.0.20:80 is up"}',
  ].join('\n');
  t.same(stateChanges(log), [
    { time: 1000, rsKey: '198.18.0.20:80', up: false },
    { time: 3000, rsKey: '198.18.0.20:80', up: true },
  ]);
});
