// Fault under load: the config file is deleted, unreadable (a directory in its place: root
// reads any file mode) or half-written when a reload comes (ulvs reload and SIGHUP). The
// running config stays, nothing fails, and one log line per attempt says why.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { labDrConfig, ulvsIn } from '../e2e/director.js';
import { waitFor } from '../../src/lab/index.js';
import { faultLab, loadFrom, reportFault } from './support.js';

t.test('a broken config file at reload keeps the running config', async (t) => {
  const f = await faultLab(t, 'k6cf-', { io: 'afxdp', yaml: labDrConfig({ lbAlgo: 'rr' }).replace('io: auto', 'io: afxdp') });
  const configFile = /"-c","([^"]+)"|-c ([^\s]+)/.exec(JSON.stringify(f.director.process.spawnargs))?.[1] ?? '';
  t.ok(configFile.endsWith('ulvs.yaml'), `the config file is known (${configFile})`);
  const good = readFileSync(configFile, 'utf8');
  const rejected = (): number => f.director.log().split('\n').filter((l) => l.includes('reload rejected: the running configuration stays')).length;

  const loading = loadFrom(f.client, f.url, 9000);
  const faults: Array<[string, () => void, RegExp]> = [
    ['deleted', () => rmSync(configFile), /ENOENT|no such file|cannot read/i],
    ['a directory in its place', () => mkdirSync(configFile), /EISDIR|directory|cannot read/i],
    ['half-written', () => { rmSync(configFile, { recursive: true }); writeFileSync(configFile, good.slice(0, Math.floor(good.indexOf('real_servers') + 30))); }, /ulvs\.yaml:\d+:\d+/],
  ];
  for (const [what, breakIt, why] of faults) {
    breakIt();
    const before = rejected();
    const r = await ulvsIn(f.dir1, ['reload']);
    t.not(r.code, 0, `ulvs reload with the file ${what} is refused (exit ${r.code})`);
    t.match(r.stderr, /reload rejected: the running configuration is unchanged/, 'the CLI says the running configuration stays');
    t.equal(rejected() - before, 1, `one log line says why (${what})`);
    const line = f.director.log().split('\n').filter((l) => l.includes('reload rejected')).pop() ?? '';
    t.match(line, why, `the line names the cause: ${line.slice(0, 200)}`);
    if (what !== 'half-written') continue;
    // SIGHUP takes the same path (what systemd's reload sends).
    f.director.process.kill('SIGHUP');
    t.ok(await waitFor(() => rejected() - before === 2, 10_000), `SIGHUP with the file ${what} is refused too, with one line`);
  }
  const load = await loading;
  reportFault(t, 'config deleted / directory / half-written at reload (ulvs reload, SIGHUP)', load);
  t.equal(load.failed, 0, `no request fails (${JSON.stringify(load.errors)})`);
  t.same(Object.keys(load.servers).sort(), ['rs1', 'rs2', 'rs3'], 'the running table (three real servers) stays');

  writeFileSync(configFile, good);
  const ok = await ulvsIn(f.dir1, ['reload']);
  t.equal(ok.code, 0, 'the repaired file reloads');
});
