// Active-active behind ECMP with bird2 (ulvs lab up --ecmp, prefix k9a-): the router's table
// shows one next hop per healthy director; a director whose real servers are all down (its
// checks blocked by nftables in its own namespace) withdraws its route; `ulvs bgp disable`
// drains one; a clean stop withdraws before the director exits. Prints the times and the spread
// of new connections over the three directors.
import { basename } from 'node:path';
import t from 'tap';
import { labExec } from '../../src/lab/index.js';
import { httpFrom, ULVS } from '../e2e/director.js';
import { ECMP_CONFIG, ecmpRig, type EcmpRig } from '../e2e/ecmp-support.js';

let rig: EcmpRig | undefined;
// Three directors, a router and four birds: minutes on a loaded 2-core machine.
t.setTimeout(400_000);

/** Connections in the director's table (new ones stay there for tcpfin after they close). */
/** `ulvs ARGS` in the namespace with a timeout for a loaded machine. */
const cli = (ns: string, args: string[]) => labExec(ns, [process.execPath, ULVS, ...args], { timeoutMs: 90_000 });

async function tracked(ns: string): Promise<number> {
  let last = '';
  for (let i = 0; i < 3; i++) {
    const r = await labExec(ns, [process.execPath, ULVS, 'stats', '--json'], { timeoutMs: 90_000 });
    if (r.code === 0) return (JSON.parse(r.stdout) as Record<string, number>).conn_table_size ?? 0;
    last = `${r.code}: ${r.stderr}`;
  }
  throw new Error(`ulvs stats in ${ns} failed: ${last}`);
}
t.teardown(async () => { await rig?.teardown(); });

t.test('ECMP over three directors, withdrawn by health, disable and stop', async (t) => {
  t.equal(basename(ECMP_CONFIG), 'lab-ecmp.yaml', 'every director runs the sample configs/lab-ecmp.yaml unchanged');
  rig = await ecmpRig('k9a-');
  const r = rig;
  const ns = (short: string) => r.lab.directors.find((d) => d.short === short)!.namespace;
  await Promise.all((['dir1', 'dir2', 'dir3'] as const).map((d) => r.start(d)));
  await r.waitHops('one next hop per healthy director', ['dir1', 'dir2', 'dir3'], 45_000);
  t.pass('router: VIP via dir1, dir2 and dir3');
  const status = await cli(ns('dir1'), ['status']);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /bgp {2}ENABLED {2}daemon bird2 ok\n {2}sessions uplink Established\n {2}198\.18\.0\.100 {2}announced med 0/);

  // Spread: 150 new connections from the one client, layer-4 hashed by the router.
  // One at a time: three CLI starts at once are slow on a loaded machine.
  const counts = async (): Promise<number[]> => { const out: number[] = []; for (const d of ['dir1', 'dir2', 'dir3']) out.push(await tracked(ns(d))); return out; };
  const before = await counts();
  const got = await httpFrom(r.lab.client.namespace, 'http://198.18.0.100/', 150, 'new');
  t.equal(got.bodies.length, 150, 'every request answered');
  const per = (await counts()).map((n, i) => n - before[i]);
  t.comment(`new connections per director (of 150): dir1 ${per[0]}, dir2 ${per[1]}, dir3 ${per[2]}`);
  for (const n of per) t.ok(n >= 15, `each director takes a share (${n})`);

  // dir2's checks cannot reach any real server: its last one goes down, its route goes away.
  const blocked = Date.now();
  const nft = await labExec(ns('dir2'), ['nft', '-f', '-'], { input: 'table ip k9a {\n  chain out {\n    type filter hook output priority 0;\n    tcp dport 80 drop\n  }\n}\n' });
  t.equal(nft.code, 0, nft.stderr);
  const ms = await r.waitHops('dir2 withdrawn', ['dir1', 'dir3']);
  const decided = [...r.directors.get('dir2')!.log().matchAll(/"time":(\d+)[^\n]*"msg":"bgp: 198\.18\.0\.100 down"/g)].at(-1);
  t.ok(decided, 'dir2 logged its decision');
  const routeGone = blocked + ms;
  t.comment(`all real servers unreachable -> route withdrawn on the router: ${ms} ms (checks: delay_loop 1, connect_timeout 1); ` +
    `from ulvs's decision: ${decided ? routeGone - Number(decided[1]) : '?'} ms`);
  t.match((await cli(ns('dir2'), ['bgp', 'status'])).stdout, /198\.18\.0\.100 {2}withdrawn {2}\(no usable real server; 0 usable real servers\)/);
  t.equal((await httpFrom(r.lab.client.namespace, 'http://198.18.0.100/', 20, 'new')).bodies.length, 20, 'the client is served by the others meanwhile');
  await labExec(ns('dir2'), ['nft', 'delete', 'table', 'ip', 'k9a']);
  await r.waitHops('dir2 back once its checks pass (rise)', ['dir1', 'dir2', 'dir3']);

  // Drain: ulvs bgp disable, kept in the disable file.
  const t0 = Date.now();
  const disabled = await cli(ns('dir3'), ['bgp', 'disable']);
  t.equal(disabled.code, 0, disabled.stderr);
  const drainMs = await r.waitHops('dir3 drained', ['dir1', 'dir2']);
  t.comment(`ulvs bgp disable: route withdrawn on the router ${drainMs} ms after the command returned (the command itself, a node start included: ${Date.now() - t0 - drainMs} ms)`);
  t.match(disabled.stdout, /^bgp {2}DISABLED/);
  t.equal((await labExec(ns('dir3'), ['test', '-e', '/etc/bird/ulvs-bgp-disabled'])).code, 0, 'the disable file exists');
  t.equal((await cli(ns('dir3'), ['bgp', 'enable'])).code, 0);
  await r.waitHops('dir3 back after enable', ['dir1', 'dir2', 'dir3']);

  // Clean stop: the route is gone by the time the process has exited.
  const code = await r.directors.get('dir1')!.stop();
  t.equal(code, 0, 'dir1 exits cleanly');
  t.same(await r.hops(), [r.ip('dir2'), r.ip('dir3')].sort(), 'dir1 withdrawn before its exit');
  r.directors.delete('dir1');
});
