// The NAT variant: real servers on the inside segment behind the directors' eth1.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { NAT_GATEWAY, createLab, destroyLab, labExec, labNodes } from '../../src/lab/index.js';

const PREFIX = 'tlb-n-';
const nodes = labNodes(PREFIX, { nat: true });

function netnsList(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX)) : [];
}

const curl = (ns: string, url: string) =>
  labExec(ns, ['curl', '-s', '--max-time', '3', '--connect-timeout', '1', url], { timeoutMs: 10_000 });

t.teardown(() => destroyLab({ prefix: PREFIX }));

t.test('NAT lab', async (t) => {
  await createLab({ prefix: PREFIX, nat: true });

  t.test('real servers are reachable from both directors over eth1', async (t) => {
    for (const dir of ['dir1', 'dir2'] as const) {
      for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
        const r = await curl(nodes[dir].name, `http://${nodes[rs].ip}/`);
        t.equal(r.stdout, `${rs}\n`, `${dir} -> ${rs} (${nodes[rs].ip})`);
      }
    }
  });

  t.test('the client is on the outside segment only', async (t) => {
    const r = await curl(nodes.client.name, `http://${nodes.rs1.ip}/`);
    t.not(r.code, 0, 'no route from client to 198.18.1.0/24');
    const routes = await labExec(nodes.client.name, ['ip', '-4', 'route']);
    t.notMatch(routes.stdout, /default/);
    t.equal((await curl(nodes.client.name, `http://${nodes.dir1.ip}/`)).code, 7, 'dir1 reachable (refused)');
  });

  t.test('addresses, MACs, routes and forwarding', async (t) => {
    for (const dir of ['dir1', 'dir2'] as const) {
      const ns = nodes[dir].name;
      for (const ifc of nodes[dir].interfaces) {
        const a = await labExec(ns, ['ip', '-o', 'addr', 'show', 'dev', ifc.name]);
        t.match(a.stdout, `inet ${ifc.ip}/24`);
        const l = await labExec(ns, ['ip', '-o', 'link', 'show', 'dev', ifc.name]);
        t.match(l.stdout, `link/ether ${ifc.mac}`);
        const k = await labExec(ns, ['ethtool', '-k', ifc.name]);
        t.match(k.stdout, /^tx-checksumming: off/m, `${dir} ${ifc.name} tx off`);
      }
      t.equal((await labExec(ns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
      const addrs = await labExec(ns, ['ip', '-o', '-4', 'addr']);
      t.notMatch(addrs.stdout, NAT_GATEWAY, `${dir} does not hold the gateway (the director adds it)`);
    }
    for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
      const r = await labExec(nodes[rs].name, ['ip', '-4', 'route', 'show', 'default']);
      t.match(r.stdout, `default via ${NAT_GATEWAY} dev eth0 onlink`);
    }
    const sw = `${PREFIX}switch`;
    const inside = await labExec(sw, ['ip', '-o', 'link', 'show', 'master', 'br1']);
    const ports = [...inside.stdout.matchAll(/^\d+: ([^@:]+)/gm)].map((m) => m[1]).sort();
    t.same(ports, ['dir1-e1', 'dir2-e1', 'rs1', 'rs2', 'rs3']);
  });
});

t.test('NAT down leaves nothing', async (t) => {
  await destroyLab({ prefix: PREFIX });
  t.same(netnsList(), []);
});
