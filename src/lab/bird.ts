// bird2 in lab namespaces: the router's and the directors' bird.conf (the user's config, which
// ulvs never writes: it only includes ulvs's file), and starting/stopping one bird per
// namespace with its own control socket under a run directory. The router installs the VIP
// as one multipath kernel route over every director that announces it (merge paths).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, runInNamespace } from './shell.js';
import { waitFor } from './wait.js';

export const ROUTER_AS = 65000;
export const DIRECTOR_AS = 65001;

/** Short BGP timers: a lab session comes up in about a second and retries every two. */
const TIMERS = 'hold time 6; keepalive time 2; connect retry time 2; error wait time 1, 4; connect delay time 1;';

export interface RouterPeer { name: string; ip: string }

export function routerBirdConf(routerId: string, peers: readonly RouterPeer[], bfd: boolean): string {
  return [
    `router id ${routerId};`,
    'protocol device { scan time 10; }',
    // One kernel route with a next hop per director (ECMP); fib_multipath_hash_policy picks among them.
    'protocol kernel { ipv4 { import none; export all; }; merge paths on limit 64; }',
    ...(bfd ? ['protocol bfd { interface "*" { interval 100 ms; multiplier 3; }; }'] : []),
    `template bgp directors { local as ${ROUTER_AS}; ${TIMERS}${bfd ? ' bfd on;' : ''} ipv4 { import all; export none; }; }`,
    ...peers.map((p) => `protocol bgp ${p.name} from directors { neighbor ${p.ip} as ${DIRECTOR_AS}; }`),
    '',
  ].join('\n');
}

/** A director's bird.conf: identical on every director but for the router id. */
export function directorBirdConf(routerId: string, routerIp: string, includeFile: string, bfd: boolean, protocol = 'ulvs_vips'): string {
  return [
    `router id ${routerId};`,
    'protocol device { scan time 10; }',
    `include "${includeFile}";`,
    ...(bfd ? ['protocol bfd { interface "*" { interval 100 ms; multiplier 3; }; }'] : []),
    `protocol bgp uplink { local as ${DIRECTOR_AS}; neighbor ${routerIp} as ${ROUTER_AS}; ${TIMERS}${bfd ? ' bfd on;' : ''}`,
    `  ipv4 { import none; export where proto = "${protocol}"; }; }`,
    '',
  ].join('\n');
}

export interface BirdPaths { dir: string; conf: string; socket: string; pid: string; include: string }

export function birdPaths(runDir: string, namespace: string): BirdPaths {
  const dir = join(runDir, namespace);
  return { dir, conf: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), pid: join(dir, 'bird.pid'), include: join(dir, 'ulvs-vips.conf') };
}

/**
 * /etc/netns/NS/bird: `ip netns exec NS` binds it over /etc/bird, so every director (and
 * ulvs in it) sees its own /etc/bird/bird.conf, bird.ctl and ulvs-vips.conf under the same names.
 */
export function netnsBirdPaths(namespace: string): { host: BirdPaths; inside: BirdPaths } {
  const at = (dir: string): BirdPaths => ({ dir, conf: join(dir, 'bird.conf'), socket: join(dir, 'bird.ctl'), pid: join(dir, 'bird.pid'), include: join(dir, 'ulvs-vips.conf') });
  return { host: at(`/etc/netns/${namespace}/bird`), inside: at('/etc/bird') };
}

/**
 * Writes the config (and an empty include for a director) and starts bird in the namespace;
 * `inside` is how the namespace's processes see the same files (netnsBirdPaths).
 */
export async function startBird(namespace: string, paths: BirdPaths, conf: string, inside: BirdPaths = paths): Promise<void> {
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.conf, conf);
  if (!existsSync(paths.include)) writeFileSync(paths.include, '');
  await run('ip', ['netns', 'exec', namespace, 'bird', '-c', inside.conf, '-s', inside.socket, '-P', inside.pid]);
  if (!await waitFor(() => existsSync(paths.socket), 5000)) throw new Error(`lab: bird in ${namespace} made no control socket ${paths.socket}`);
}

/** Stops the bird of this run directory (SIGTERM, then SIGKILL); quiet when none runs. */
export async function stopBird(paths: BirdPaths): Promise<void> {
  let pid: number;
  try { pid = Number(readFileSync(paths.pid, 'utf8').trim()); } catch { return; }
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  if (!await waitFor(() => !alive(), 3000)) process.kill(pid, 'SIGKILL');
}

export function birdc(paths: BirdPaths, args: readonly string[]): Promise<{ stdout: string }> {
  return run('birdc', ['-s', paths.socket, ...args]);
}

/** The router's kernel route to `vip`: its next hops (one per director announcing it). */
export async function kernelNextHops(namespace: string, vip: string): Promise<string[]> {
  const { stdout } = await runInNamespace(namespace, `ip -4 route show ${vip}/32`);
  return [...stdout.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]).sort();
}
