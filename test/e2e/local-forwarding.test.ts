// IPVS's Local forwarding with seed 002's ldirectord config (`fallback=127.0.0.1:80 gate`):
// migrated, run in the lab over AF_XDP and over TAP; with every real server stopped the sorry
// server is the director itself, and its own web server answers through the VIP;
// `ulvs list -n` shows it as ipvsadm does ("-> 127.0.0.1:80   Local   1   0   0").
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, labExec, startServer, stopServer, waitFor } from '../../src/lab/index.js';
import { REPO, ULVS, httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';
import { spawnSync } from 'node:child_process';

const PREFIX = 'lk2-';
const SEED = join(REPO, 'test/migrate/fixtures/seed002-ldirectord.cf');

/** The seed's check asks index.html for "Server"; the lab's servers have /test.html saying "real server". */
function seedForLab(): string {
  const text = readFileSync(SEED, 'utf8');
  t.match(text, /fallback=127\.0\.0\.1:80 gate/);
  return text.replace('request="index.html"', 'request="test.html"').replace('receive="Server"', 'receive="real server"');
}

async function answers(client: string, n: number): Promise<Record<string, number>> {
  const r = await httpFrom(client, 'http://198.18.0.100/', n, 'new');
  return tally(r.bodies.map((b) => b.trim()));
}

t.test('seed 002: the fallback on the director itself answers through the VIP', async (t) => {
  let director: RunningDirector | null = null;
  let ownServer = 0;
  const lab = await createLab({ prefix: PREFIX });
  const dir1 = lab.nodes.dir1.name;
  const client = lab.nodes.client.name;
  t.teardown(async () => {
    await director?.stop();
    if (ownServer) await labExec(dir1, ['kill', String(ownServer)]).catch(() => undefined);
    await destroyLab({ prefix: PREFIX });
  });

  const cf = writeConfig('');
  const cfFile = cf.replace(/ulvs\.yaml$/, 'ldirectord.cf');
  writeFileSync(cfFile, seedForLab());
  const migrated = spawnSync(process.execPath, [ULVS, 'migrate', '--from', 'ldirectord', '--interface', 'eth0', cfFile], { encoding: 'utf8' });
  t.equal(migrated.status, 0, `migrate succeeds (${migrated.stderr.trim()})`);
  t.match(migrated.stdout, /sorry_server: \{ ip: 127\.0\.0\.1, port: 80 \}/);

  // The director's own web server ("d、在Virtual Server上配置并启动web服务"): all addresses, port 80.
  const script = "require('http').createServer((q,s)=>s.end('director-sorry\\n')).listen(80,'0.0.0.0')";
  const started = await labExec(dir1, ['sh', '-c', `nohup ${process.execPath} -e "${script}" >/dev/null 2>&1 & echo $!`]);
  ownServer = Number(started.stdout.trim());
  t.ok(ownServer > 0, 'the director runs its own web server');
  await waitFor(async () => (await labExec(dir1, ['sh', '-c', 'ss -ltn | grep -q ":80 "'])).code === 0, 10_000);

  for (const io of ['afxdp', 'tap'] as const) {
    const config = writeConfig(migrated.stdout.replace('  interface: eth0\n', `  interface: eth0\n  io: ${io}\n`));
    await Promise.all(['rs1', 'rs2'].map((rs) => startServer(rs, { prefix: PREFIX })));
    director = await startDirector(dir1, config);
    t.match(director.log(), new RegExp(`packets taken with ${io}`), `director uses ${io}`);
    const healthy = await waitFor(async () => {
      const a = await answers(client, 6);
      return (a.rs1 ?? 0) + (a.rs2 ?? 0) === 6;
    }, 30_000);
    t.ok(healthy, `${io}: the real servers answer through the VIP`);

    await Promise.all(['rs1', 'rs2'].map((rs) => stopServer(rs, { prefix: PREFIX })));
    let last: Record<string, number> = {};
    const sorry = await waitFor(async () => {
      last = await answers(client, 3);
      return last['director-sorry'] === 3;
    }, 30_000);
    t.ok(sorry, `${io}: with every real server stopped the director's own web server answers through the VIP (${JSON.stringify(last)})`);
    t.match(director.log(), /198\.18\.0\.100:80: every live destination is this director: packets go to its own stack unchanged \(Local forwarding\)/);
    // The counts are the flows ulvs made before the switch (a probe may land in that window); the kernel's own are not listed.
    const list = await ulvsIn(dir1, ['list', '-n']);
    t.match(list.stdout, /\n  -> 127\.0\.0\.1:80 +Local +1 +\d+ +\d+ *\n/, `${io}: ulvs list -n shows the sorry server as Local`);
    t.notMatch(list.stdout, /198\.18\.0\.(10|20):80/, 'the real servers are out of the table');

    // And back: the real servers return, Local forwarding stops, the VIP is steered again.
    await Promise.all(['rs1', 'rs2'].map((rs) => startServer(rs, { prefix: PREFIX })));
    const back = await waitFor(async () => {
      const a = await answers(client, 6);
      return (a.rs1 ?? 0) + (a.rs2 ?? 0) === 6;
    }, 30_000);
    t.ok(back, `${io}: the real servers take the traffic again`);
    t.equal(await director.stop(), 0, 'clean stop');
    director = null;
  }
});
