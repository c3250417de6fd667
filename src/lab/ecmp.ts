// `ulvs lab up --ecmp`: the DR lab grows a router and a third director. The client moves to its
// own segment (198.18.2.0/24) behind the router; the router runs bird2, peers with every
// director's bird (each of which includes ulvs's file), and installs the VIP as one multipath
// route with layer-4 hashing (fib_multipath_hash_policy=1). Real servers reply straight to the
// client through the router (DR). Each node's /etc/bird is its own (/etc/netns/NS/bird).
import { rmSync } from 'node:fs';
import { directorBirdConf, netnsBirdPaths, routerBirdConf, startBird, stopBird } from './bird.js';
import { createLab, destroyLab } from './lab.js';
import { addPreparedNamespace, txChecksumOff } from './namespaces.js';
import { namespaceExists } from './servers.js';
import { ipBatch, run, runInNamespace } from './shell.js';
import { DEFAULT_PREFIX, REAL_SERVER_NAMES, labMac, labTopology, type LabTopology } from './topology.js';

export const ECMP_ROUTER_IP = '198.18.0.254';
export const ECMP_CLIENT_SEGMENT = '198.18.2.0/24';
export const ECMP_CLIENT_IP = '198.18.2.1';
export const ECMP_CLIENT_GATEWAY = '198.18.2.254';
export const ECMP_DIR3_IP = '198.18.0.4';

export interface EcmpDirector { short: 'dir1' | 'dir2' | 'dir3'; namespace: string; ip: string; mac: string }

export interface EcmpLab {
  topology: LabTopology;
  router: { namespace: string; ip: string; clientSideIp: string };
  client: { namespace: string; ip: string; gateway: string };
  directors: EcmpDirector[];
  bfd: boolean;
}

/** Names and addresses, pure (README's table). */
export function ecmpLabLayout(prefix: string = DEFAULT_PREFIX, bfd = false): EcmpLab {
  const topology = labTopology({ prefix });
  const n = topology.nodes;
  return {
    topology,
    router: { namespace: `${prefix}router`, ip: ECMP_ROUTER_IP, clientSideIp: ECMP_CLIENT_GATEWAY },
    client: { namespace: n.client.name, ip: ECMP_CLIENT_IP, gateway: ECMP_CLIENT_GATEWAY },
    directors: [
      { short: 'dir1', namespace: n.dir1.name, ip: n.dir1.ip, mac: n.dir1.mac },
      { short: 'dir2', namespace: n.dir2.name, ip: n.dir2.ip, mac: n.dir2.mac },
      { short: 'dir3', namespace: `${prefix}dir3`, ip: ECMP_DIR3_IP, mac: labMac(0, 4) },
    ],
    bfd,
  };
}

export function ecmpNamespaces(prefix: string): string[] {
  return [`${prefix}router`, `${prefix}dir3`];
}

export async function createEcmpLab(options: { prefix?: string; bfd?: boolean } = {}): Promise<EcmpLab> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const lab = ecmpLabLayout(prefix, options.bfd ?? false);
  await destroyEcmpLab({ prefix });
  try {
    await createLab({ prefix });
    const sw = lab.topology.switchNamespace;
    const r = lab.router.namespace;
    const dir3 = lab.directors[2];
    for (const ns of ecmpNamespaces(prefix)) await addPreparedNamespace(ns);
    await ipBatch(sw, [
      'link add br2 address 02:18:fe:02:00:00 type bridge stp_state 0 forward_delay 0 mcast_snooping 0',
      `link add dir3 address ${labMac(0, 4, 'switch')} type veth peer name eth0 address ${dir3.mac} netns ${dir3.namespace}`,
      `link add router address ${labMac(0, 254, 'switch')} type veth peer name eth0 address ${labMac(0, 254)} netns ${r}`,
      `link add router-e1 address ${labMac(1, 254, 'switch')} type veth peer name eth1 address 02:18:00:02:00:fe netns ${r}`,
      'link set dir3 master br0', 'link set router master br0', 'link set router-e1 master br2',
      // The client moves to its own segment: only the router joins it to the others.
      'link set client nomaster', 'link set client master br2',
      'link set br2 up', 'link set dir3 up', 'link set router up', 'link set router-e1 up',
    ]);
    await runInNamespace(sw, ['dir3', 'router', 'router-e1'].map(txChecksumOff).join('\n'));
    await runInNamespace(dir3.namespace, [`ip addr add ${dir3.ip}/24 dev eth0`, 'ip link set eth0 up', txChecksumOff('eth0')].join('\n'));
    await runInNamespace(lab.client.namespace, [
      'ip addr flush dev eth0', `ip addr add ${lab.client.ip}/24 dev eth0`, `ip route add default via ${lab.client.gateway}`,
    ].join('\n'));
    await runInNamespace(r, [
      `ip addr add ${lab.router.ip}/24 dev eth0`, 'ip link set eth0 up', txChecksumOff('eth0'),
      `ip addr add ${lab.router.clientSideIp}/24 dev eth1`, 'ip link set eth1 up', txChecksumOff('eth1'),
      // Layer-4 hashing: the flows of one client spread over the directors.
      'sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1',
    ].join('\n'));
    // DR: real servers answer the client directly, through the router.
    await Promise.all(REAL_SERVER_NAMES.map((rs) => runInNamespace(lab.topology.nodes[rs].name, `ip route add ${ECMP_CLIENT_SEGMENT} via ${lab.router.ip}`)));
    const rp = netnsBirdPaths(r);
    await startBird(r, rp.host, routerBirdConf(lab.router.ip, lab.directors.map((d) => ({ name: d.short, ip: d.ip })), lab.bfd), rp.inside);
    for (const d of lab.directors) {
      const p = netnsBirdPaths(d.namespace);
      await startBird(d.namespace, p.host, directorBirdConf(d.ip, lab.router.ip, p.inside.include, lab.bfd), p.inside);
    }
  } catch (error) {
    await destroyEcmpLab({ prefix }).catch(() => undefined);
    throw error;
  }
  return lab;
}

/** Removes the ECMP additions (birds, router, dir3, /etc/netns dirs) and the base lab. */
export async function destroyEcmpLab(options: { prefix?: string } = {}): Promise<void> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const lab = ecmpLabLayout(prefix);
  const all = [lab.router.namespace, ...lab.directors.map((d) => d.namespace)];
  for (const ns of all) await stopBird(netnsBirdPaths(ns).host);
  for (const ns of ecmpNamespaces(prefix)) {
    if (!namespaceExists(ns)) continue;
    const { stdout } = await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  await destroyLab({ prefix });
  for (const ns of all) rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}
