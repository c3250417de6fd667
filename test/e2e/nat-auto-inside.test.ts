// NAT without flags: a config with no dataplane.inside forwards through the interface the
// kernel routes the real servers through, says which in one log line; a config whose real
// servers are behind the outside interface fails to start with one line.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, tally, writeConfig, type RunningDirector } from './director.js';
import { spawnSync } from 'node:child_process';

const PREFIX = 'lk1-';

t.test('NAT with dataplane.inside omitted', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
  });
  const lab = await createLab({ prefix: PREFIX, nat: true });
  const sample = readFileSync(join(REPO, 'configs/lab-nat.yaml'), 'utf8');
  t.match(sample, /\n  inside: eth1\n/, 'the sample names its inside interface');
  const config = writeConfig(sample.replace(/\n  inside: eth1\n/, '\n').replace(/io: auto/, 'io: tap'));
  director = await startDirector(lab.nodes.dir1.name, config);
  const lines = director.log().split('\n').filter((l) => l.includes('dataplane.inside'));
  t.equal(lines.length, 1, 'one log line says what was chosen');
  t.match(lines[0], /dataplane\.inside: eth1 \(auto: the kernel routes the NAT real servers through it \(198\.18\.1\.10, 198\.18\.1\.20, 198\.18\.1\.30\)\)/);
  const r = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 30, 'new');
  t.same(tally(r.bodies), { rs1: 10, rs2: 10, rs3: 10 }, 'NAT forwards and the replies come back through eth1');
  t.equal(await director.stop(), 0);
  director = null;

  // Real servers behind the outside interface: NAT cannot work, the start fails in one line.
  const bad = writeConfig(sample.replace(/\n  inside: eth1\n/, '\n').replace(/io: auto/, 'io: tap')
    .replace(/198\.18\.1\.(10|20|30)/g, '198.18.0.$1'));
  const run = spawnSync('ip', ['netns', 'exec', lab.nodes.dir1.name, process.execPath, join(REPO, 'bin/ulvs.js'), 'run', '-c', bad],
    { encoding: 'utf8', timeout: 60_000 });
  t.not(run.status, 0, 'the director refuses to start');
  const errLines = run.stderr.trim().split('\n').filter((l) => /dataplane\.inside/.test(l));
  t.equal(errLines.length, 1, `one line: ${run.stderr.trim()}`);
  t.match(errLines[0], /the NAT real servers are behind the outside interface eth0 \(198\.18\.0\.10 via eth0/);
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
});
