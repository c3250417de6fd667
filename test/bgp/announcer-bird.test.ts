// The announcer (src/bgp/announcer.ts) against real bird2 daemons: a router namespace whose bird
// peers with two directors' birds and installs the VIP as one multipath kernel route. Health is
// the announcer's input (usable real servers per VIP), set by the test; the rest is real: the
// include file, `birdc configure`, BGP, the router's FIB. Namespaces: k9b-*.
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { BgpAnnouncer } from '../../src/bgp/announcer.js';
import { bgpAnnounceSchema } from '../../src/config/raw-schema-bgp.js';
import { birdc, birdPaths, directorBirdConf, kernelNextHops, routerBirdConf, startBird, stopBird } from '../../src/lab/bird.js';
import { addPreparedNamespace } from '../../src/lab/namespaces.js';
import { ipBatch, run } from '../../src/lab/shell.js';
import { waitForOrFail } from '../../src/lab/wait.js';

const VIP = '198.18.0.100';
const ROUTER = 'k9b-r';
const DIRS = [{ ns: 'k9b-d1', ip: '198.18.9.1' }, { ns: 'k9b-d2', ip: '198.18.9.2' }];
const runDir = mkdtempSync(join(tmpdir(), 'k9b-'));
const logLines: string[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => { logLines.push(s); } });

async function cleanup(): Promise<void> {
  for (const ns of [ROUTER, ...DIRS.map((d) => d.ns)]) await stopBird(birdPaths(runDir, ns));
  for (const ns of [ROUTER, ...DIRS.map((d) => d.ns)]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  rmSync(runDir, { recursive: true, force: true });
}

t.teardown(cleanup);

t.test('health, disable, MED and stop move the router\'s ECMP route', async (t) => {
  await addPreparedNamespace(ROUTER);
  await ipBatch(ROUTER, ['link add br0 type bridge', 'link set br0 up', 'address add 198.18.9.254/24 dev br0']);
  for (const [i, d] of DIRS.entries()) {
    await addPreparedNamespace(d.ns);
    await ipBatch(undefined, [`link add k9b-v${i} netns ${d.ns} type veth peer name k9b-p${i} netns ${ROUTER}`]);
    await ipBatch(ROUTER, [`link set k9b-p${i} master br0`, `link set k9b-p${i} up`]);
    await ipBatch(d.ns, [`link set k9b-v${i} name eth0`, 'link set eth0 up', `address add ${d.ip}/24 dev eth0`]);
  }
  await startBird(ROUTER, birdPaths(runDir, ROUTER), routerBirdConf('198.18.9.254', DIRS.map((d, i) => ({ name: `dir${i + 1}`, ip: d.ip })), false));
  const usable = DIRS.map(() => new Map([[VIP, 2]]));
  const announcers = DIRS.map((d, i) => {
    const paths = birdPaths(runDir, d.ns);
    return { paths, cfg: bgpAnnounceSchema.parse({
      daemon: 'bird2', birdc: 'birdc', vips: [VIP], include_file: paths.include, bird_socket: paths.socket, protocol: 'ulvs_vips',
      disable_file: join(paths.dir, 'disabled'), interval: 0.2, rise: 2, fall: 1, command_timeout: 5, med: 0,
    }) };
  });
  for (const [i, d] of DIRS.entries()) await startBird(d.ns, announcers[i].paths, directorBirdConf(d.ip, '198.18.9.254', announcers[i].paths.include, false));
  const bgp = announcers.map((a, i) => new BgpAnnouncer(a.cfg, { log, usable: () => usable[i] }));
  for (const b of bgp) await b.start();
  const hops = () => kernelNextHops(ROUTER, VIP);
  const hopsAre = (want: string[]) => async () => JSON.stringify(await hops()) === JSON.stringify(want);
  const both = DIRS.map((d) => d.ip);

  await waitForOrFail('both directors as next hops', hopsAre(both), 30_000);
  t.pass(`router: ${VIP} via ${both.join(' and ')}`);
  // Sessions are read every 5 s (for ulvs status), so the first look may predate Established.
  await waitForOrFail('dir1 shows its session Established', () => bgp[0].status().sessions[0]?.info === 'Established', 15_000);
  t.match(bgp[0].status(), { daemon: { state: 'ok' }, sessions: [{ name: 'uplink', info: 'Established' }], vips: [{ vip: VIP, health: 'up', announced: true, med: 0 }] });

  usable[0].set(VIP, 0);
  const withdrawMs = await waitForOrFail('dir1 withdrawn after its last real server', hopsAre([DIRS[1].ip]), 10_000, 5);
  t.comment(`last real server down -> route withdrawn on the router: ${withdrawMs} ms (interval 200 ms, fall 1, no BFD)`);
  t.match(bgp[0].status().vips[0], { health: 'down', announced: false, reason: 'no usable real server' });
  usable[0].set(VIP, 2);
  await waitForOrFail('dir1 back after rise', hopsAre(both), 10_000);

  const t0 = Date.now();
  await bgp[1].setDisabled(true);
  await waitForOrFail('dir2 drained by disable', hopsAre([DIRS[0].ip]), 10_000, 5);
  t.comment(`ulvs bgp disable -> route withdrawn on the router: ${Date.now() - t0} ms`);
  t.ok(existsSync(announcers[1].cfg.disable_file), 'the disable_file is the state');
  // A restarted director reads the file: still disabled, still withdrawn.
  await bgp[1].stop();
  bgp[1] = new BgpAnnouncer(announcers[1].cfg, { log, usable: () => usable[1] });
  await bgp[1].start();
  t.match(bgp[1].status(), { disabled: true, vips: [{ announced: false, reason: 'disabled' }] });
  await bgp[1].setDisabled(false);
  await waitForOrFail('dir2 back after enable', hopsAre(both), 10_000);

  // when_down: med keeps a down director's route as a worse path: the router's FIB takes the better one only.
  await bgp[0].reconfigure({ ...announcers[0].cfg, when_down: 'med', down_med: 500 });
  usable[0].set(VIP, 0);
  await waitForOrFail('dir1 only with the worse MED', hopsAre([DIRS[1].ip]), 10_000);
  const routes = (await birdc(birdPaths(runDir, ROUTER), ['show', 'route', 'for', `${VIP}/32`, 'all'])).stdout;
  t.match(routes, /BGP\.med: 500/, 'dir1 still announces, with down_med');
  t.match(bgp[0].status().vips[0], { announced: true, med: 500 });

  // Clean stop: withdrawn before stop() resolves (the caller stops the dataplane after).
  await bgp[0].stop();
  t.notMatch(readFileSync(announcers[0].cfg.include_file, 'utf8'), /route /, 'nothing announced after stop');
  await waitForOrFail('dir1 gone after its clean stop', async () => !(await birdc(birdPaths(runDir, ROUTER), ['show', 'route', 'for', `${VIP}/32`, 'all'])).stdout.includes(DIRS[0].ip), 10_000);
  await bgp[1].stop();
  await waitForOrFail('no route after both stop', hopsAre([]), 10_000);
});

t.test('a daemon missing, not running, or an include file not ours: one log line and a status field', async (t) => {
  const dir = join(runDir, 'bad');
  const base = { vips: [VIP], interval: 0.2, disable_file: join(dir, 'disabled'), command_timeout: 2 };
  const cases = [
    { cfg: { ...base, include_file: join(dir, 'a.conf'), birdc: 'k9-no-such-birdc' }, state: 'not installed' },
    { cfg: { ...base, include_file: join(dir, 'b.conf'), bird_socket: join(dir, 'none.ctl') }, state: 'not running' },
  ];
  for (const c of cases) {
    const before = logLines.length;
    const a = new BgpAnnouncer(bgpAnnounceSchema.parse(c.cfg), { log, usable: () => new Map([[VIP, 1]]) });
    await a.start();
    for (let i = 0; i < 3; i++) await a.tick();
    t.equal(a.status().daemon.state, c.state, c.state);
    t.equal(logLines.slice(before).filter((l) => l.includes('forwarding continues')).length, 1, `${c.state}: one log line for many tries`);
    await a.stop();
  }
  const foreign = join(dir, 'foreign.conf');
  writeFileSync(foreign, 'protocol bgp mine { }\n');
  const a = new BgpAnnouncer(bgpAnnounceSchema.parse({ ...base, include_file: foreign }), { log, usable: () => new Map([[VIP, 1]]) });
  await a.start();
  t.equal(a.status().daemon.state, 'include file not ours');
  t.equal(readFileSync(foreign, 'utf8'), 'protocol bgp mine { }\n', 'never overwritten');
  await a.stop();
});
