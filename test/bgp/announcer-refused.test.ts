// Bad input from the daemon side (issue 19), against a real bird2 (namespaces ecr-*): a router
// that refuses the BGP session (nothing listens on its port 179) is one log line and the
// session's state in the status, then one line when it comes up; a bird that refuses ulvs's
// include (a protocol of the same name in the user's bird.conf) is state `refused`, one log line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { BgpAnnouncer } from '../../src/bgp/announcer.js';
import { bgpAnnounceSchema } from '../../src/config/raw-schema-bgp.js';
import { birdPaths, directorBirdConf, routerBirdConf, startBird, stopBird } from '../../src/lab/bird.js';
import { addPreparedNamespace } from '../../src/lab/namespaces.js';
import { ipBatch, run } from '../../src/lab/shell.js';
import { waitForOrFail } from '../../src/lab/wait.js';

const VIP = '198.18.0.100';
const ROUTER = 'ecr-r';
const DIR = 'ecr-d1';
const DIR_IP = '198.18.8.1';
const ROUTER_IP = '198.18.8.254';
const runDir = mkdtempSync(join(tmpdir(), 'ecr-'));
const logLines: string[] = [];
const log = pino({ level: 'info' }, { write: (s: string) => { logLines.push(s); } });

t.teardown(async () => {
  for (const ns of [ROUTER, DIR]) await stopBird(birdPaths(runDir, ns));
  for (const ns of [ROUTER, DIR]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  rmSync(runDir, { recursive: true, force: true });
});

const lines = (from: number, re: RegExp): string[] => logLines.slice(from).filter((l) => re.test(l));

t.test('a router refusing the session: one line, the state in status; one line when it comes up', async (t) => {
  await addPreparedNamespace(ROUTER);
  await addPreparedNamespace(DIR);
  await ipBatch(undefined, [`link add ecr-v0 netns ${DIR} type veth peer name ecr-p0 netns ${ROUTER}`]);
  await ipBatch(ROUTER, ['link set ecr-p0 up', `address add ${ROUTER_IP}/24 dev ecr-p0`]);
  await ipBatch(DIR, ['link set ecr-v0 name eth0', 'link set eth0 up', `address add ${DIR_IP}/24 dev eth0`]);
  const paths = birdPaths(runDir, DIR);
  await startBird(DIR, paths, directorBirdConf(DIR_IP, ROUTER_IP, paths.include, false));
  const cfg = bgpAnnounceSchema.parse({ vips: [VIP], include_file: paths.include, bird_socket: paths.socket,
    disable_file: join(paths.dir, 'disabled'), interval: 0.2, rise: 1, fall: 1, command_timeout: 5 });
  const bgp = new BgpAnnouncer(cfg, { log, usable: () => new Map([[VIP, 1]]) });
  const from = logLines.length;
  await bgp.start();
  t.teardown(() => bgp.stop());
  // Sessions are read every 5 s; bird retries the refused connection every 2 s meanwhile.
  await waitForOrFail('the refused session logged', () => lines(from, /session uplink not established/).length > 0, 30_000, 100);
  t.match(bgp.status(), { daemon: { state: 'ok' }, sessions: [{ name: 'uplink' }], vips: [{ vip: VIP, announced: true }] });
  t.notMatch(bgp.status().sessions[0].info, /^Established/, `status shows the session down: ${bgp.status().sessions[0].info}`);
  t.match(lines(from, /session uplink not established/)[0], /forwarding continues/);
  // Several reads later: still one line.
  await new Promise((r) => setTimeout(r, 11_000));
  t.equal(lines(from, /session uplink not established/).length, 1, 'one line while it stays refused');

  const rp = birdPaths(runDir, ROUTER);
  await startBird(ROUTER, rp, routerBirdConf(ROUTER_IP, [{ name: 'dir1', ip: DIR_IP }], false));
  await waitForOrFail('the session comes up', () => bgp.status().sessions[0]?.info === 'Established', 40_000, 100);
  t.equal(lines(from, /"msg":"bgp: session uplink Established"/).length, 1, 'one line when it comes up');
});

t.test('a bird that refuses the include: state refused, one log line, forwarding not touched', async (t) => {
  // The user's bird.conf already has a protocol named as ulvs's: bird refuses the reconfiguration.
  const paths = birdPaths(runDir, DIR);
  await stopBird(paths);
  writeFileSync(paths.include, '');
  await startBird(DIR, paths, directorBirdConf(DIR_IP, ROUTER_IP, paths.include, false) + 'protocol static ulvs_vips { ipv4; }\n');
  const cfg = bgpAnnounceSchema.parse({ vips: [VIP], include_file: paths.include, bird_socket: paths.socket,
    disable_file: join(paths.dir, 'disabled'), interval: 0.2, rise: 1, fall: 1, command_timeout: 5 });
  const from = logLines.length;
  const bgp = new BgpAnnouncer(cfg, { log, usable: () => new Map([[VIP, 1]]) });
  await bgp.start();
  for (let i = 0; i < 4; i++) await bgp.tick();
  t.equal(bgp.status().daemon.state, 'refused', `state refused: ${bgp.status().daemon.error}`);
  t.equal(lines(from, /forwarding continues/).length, 1, 'one log line for many tries');
  await bgp.stop();
});
