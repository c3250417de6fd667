// Mixed Local forwarding in the lab, over AF_XDP and over TAP: a DR service whose real servers
// are a remote one (rs1) and the director itself (127.0.0.1:80, its own web server). rr shares
// new connections between them: those bound to 127.0.0.1 go, unchanged, to the director's own
// stack (the addon's LOCAL verdict), whose reply leaves through its routes; rs1's are forwarded.
// `ulvs list -n` lists the director as Local. The all-local case is local-forwarding.test.ts.
import t from 'tap';
import { createLab, destroyLab, labDirectorConfig, labExec, startServer, waitFor } from '../../src/lab/index.js';
import { httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const PREFIX = 'k2m-';

const CONFIG = (io: string): string => labDirectorConfig({
  dataplane: `io: ${io}`,
  services: [{ realServers: [{ ip: '198.18.0.10' }, { ip: '127.0.0.1' }] }],
});

t.test('a service with a remote and a local real server: both answer through the VIP', async (t) => {
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
  await startServer('rs1', { prefix: PREFIX });
  const script = "require('http').createServer((q,s)=>s.end('director-local\\n')).listen(80,'0.0.0.0')";
  const started = await labExec(dir1, ['sh', '-c', `nohup ${process.execPath} -e "${script}" >/dev/null 2>&1 & echo $!`]);
  ownServer = Number(started.stdout.trim());
  t.ok(ownServer > 0, 'the director runs its own web server');
  t.ok(await waitFor(async () => (await labExec(dir1, ['sh', '-c', 'ss -ltn | grep -q ":80 "'])).code === 0, 10_000), 'it listens on :80');

  for (const io of ['afxdp', 'tap'] as const) {
    director = await startDirector(dir1, writeConfig(CONFIG(io)));
    t.match(director.log(), new RegExp(`packets taken with ${io}`), `director uses ${io}`);
    let last: Record<string, number> = {};
    const shared = await waitFor(async () => {
      const r = await httpFrom(client, 'http://198.18.0.100/', 8, 'new');
      last = tally(r.bodies.map((b) => b.trim()));
      return last.rs1 === 4 && last['director-local'] === 4;
    }, 30_000);
    t.ok(shared, `${io}: rr shares 8 new connections 4/4 between rs1 and the director's own stack (${JSON.stringify(last)})`);
    t.match(director.log(), /198\.18\.0\.100:80: mixed: connections to 127\.0\.0\.1 go to this director's own stack/);
    const list = await ulvsIn(dir1, ['list', '-n']);
    t.match(list.stdout, /\n  -> 127\.0\.0\.1:80 +Local +1 +\d+ +\d+ *\n/, `${io}: ulvs list -n shows 127.0.0.1 as Local`);
    t.match(list.stdout, /\n  -> 198\.18\.0\.10:80 +Route +1 +\d+ +\d+ *\n/, `${io}: and rs1 as Route`);
    t.equal(await director.stop(), 0, 'clean stop');
    director = null;
  }
});
