// The DR lab end to end: built in real namespaces, probed with curl/ip/sysctl/ethtool from
// inside them, then torn down without leftovers.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import {
  LAB_VIP,
  createLab,
  destroyLab,
  labExec,
  labNodes,
  pidfilePath,
  runningServerPid,
  startServer,
  stopServer,
} from '../../src/lab/index.js';

const PREFIX = 'tlb-d-';
const nodes = labNodes(PREFIX);
const client = nodes.client.name;

function netnsList(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX)) : [];
}

async function curl(ns: string, url: string, extra: string[] = []) {
  return labExec(ns, ['curl', '-s', '--max-time', '3', ...extra, url], { timeoutMs: 10_000 });
}

async function sysctl(ns: string, key: string): Promise<string> {
  const r = await labExec(ns, ['sysctl', '-n', key]);
  return r.stdout.trim();
}

t.teardown(() => destroyLab({ prefix: PREFIX }));

t.test('up builds the DR lab', async (t) => {
  const topology = await createLab({ prefix: PREFIX });
  t.same(netnsList().sort(), [...topology.namespaces].sort());

  t.test('client reaches every real server over HTTP directly', async (t) => {
    for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
      const r = await curl(client, `http://${nodes[rs].ip}/`);
      t.equal(r.code, 0, r.stderr);
      t.equal(r.stdout, `${rs}\n`, `${rs} answers with its name`);
      const page = await curl(client, `http://${nodes[rs].ip}/test.html`);
      t.match(page.stdout, `<h1>${rs}</h1>`);
    }
    const seen = await curl(client, `http://${nodes.rs1.ip}/client`);
    t.match(seen.stdout, /^198\.18\.0\.1:\d+\n$/, 'rs sees the client address');
    const missing = await curl(client, `http://${nodes.rs1.ip}/nope`, ['-o', '/dev/null', '-w', '%{http_code}']);
    t.equal(missing.stdout, '404');
  });

  t.test('HTTP keep-alive: two requests share one connection', async (t) => {
    const url = `http://${nodes.rs2.ip}/`;
    const r = await labExec(client, ['curl', '-sv', '--max-time', '3', url, url]);
    t.equal(r.stdout, 'rs2\nrs2\n');
    t.match(r.stderr, /Re-using existing connection|Reusing existing/i);
  });

  t.test('/slow?ms=N waits N ms', async (t) => {
    const started = Date.now();
    const r = await curl(client, `http://${nodes.rs3.ip}/slow?ms=400`);
    t.equal(r.stdout, 'rs3\n');
    t.ok(Date.now() - started >= 400, 'took at least 400 ms');
  });

  t.test('UDP on port 80 answers with the name', async (t) => {
    const script = `const s=require('dgram').createSocket('udp4');s.on('message',m=>{process.stdout.write(m);process.exit(0)});s.send('x',80,'${nodes.rs1.ip}');setTimeout(()=>process.exit(3),2000)`;
    const r = await labExec(client, [process.execPath, '-e', script]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'rs1\n');
  });

  t.test('client can TCP-connect to the directors', async (t) => {
    await startServer(nodes.dir1.name, { port: 8080 });
    t.teardown(() => stopServer(nodes.dir1.name));
    const r = await curl(client, `http://${nodes.dir1.ip}:8080/`);
    t.equal(r.stdout, 'dir1\n');
    const refused = await curl(client, `http://${nodes.dir2.ip}:8080/`);
    t.equal(refused.code, 7, 'nothing listens on dir2: connection refused, so dir2 is reachable');
  });

  t.test('real servers are prepared for DR', async (t) => {
    for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
      const ns = nodes[rs].name;
      const lo = await labExec(ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'lo']);
      t.match(lo.stdout, `inet ${LAB_VIP}/32`, `${rs} has the VIP on lo`);
      for (const dev of ['all', 'eth0']) {
        t.equal(await sysctl(ns, `net.ipv4.conf.${dev}.arp_ignore`), '1');
        t.equal(await sysctl(ns, `net.ipv4.conf.${dev}.arp_announce`), '2');
      }
    }
    for (const dir of ['dir1', 'dir2'] as const) {
      const addrs = await labExec(nodes[dir].name, ['ip', '-o', '-4', 'addr']);
      t.notMatch(addrs.stdout, LAB_VIP, `${dir} does not have the VIP (the director adds it)`);
    }
  });

  t.test('the VIP is not answered by real servers (arp_ignore)', async (t) => {
    const r = await curl(client, `http://${LAB_VIP}/`, ['--connect-timeout', '1']);
    t.not(r.code, 0, 'nobody answers ARP for the VIP yet');
  });

  t.test('interfaces: deterministic MACs, tx checksum off, loopback up, quiet IPv6', async (t) => {
    for (const node of Object.values(nodes)) {
      const link = await labExec(node.name, ['ip', '-o', 'link', 'show', 'dev', 'eth0']);
      t.match(link.stdout, `link/ether ${node.mac}`, `${node.short} MAC`);
      t.match(link.stdout, /state UP/);
      const lo = await labExec(node.name, ['ip', '-o', 'link', 'show', 'dev', 'lo']);
      t.match(lo.stdout, /<LOOPBACK,UP/);
      const k = await labExec(node.name, ['ethtool', '-k', 'eth0']);
      t.match(k.stdout, /^tx-checksumming: off/m, `${node.short} eth0 tx off`);
      // Dual-stack, the quiet way (src/lab/ipv6.ts): no generated link-local, no RA/RS, no DAD.
      t.equal(await sysctl(node.name, 'net.ipv6.conf.eth0.disable_ipv6'), '0');
      t.equal(await sysctl(node.name, 'net.ipv6.conf.eth0.addr_gen_mode'), '1');
      t.equal(await sysctl(node.name, 'net.ipv6.conf.eth0.router_solicitations'), '0');
      t.equal(await sysctl(node.name, 'net.ipv6.conf.eth0.accept_dad'), '0');
    }
    const sw = `${PREFIX}switch`;
    const ports = await labExec(sw, ['ip', '-o', 'link', 'show', 'master', 'br0']);
    const names = [...ports.stdout.matchAll(/^\d+: ([^@:]+)/gm)].map((m) => m[1]).sort();
    t.same(names, ['client', 'dir1', 'dir2', 'rs1', 'rs2', 'rs3']);
    for (const port of names) {
      const k = await labExec(sw, ['ethtool', '-k', port]);
      t.match(k.stdout, /^tx-checksumming: off/m, `switch port ${port} tx off`);
    }
  });

  t.test('server stop makes curl fail, start makes it succeed again', async (t) => {
    const url = `http://${nodes.rs2.ip}/`;
    t.equal(await stopServer('rs2', { prefix: PREFIX }), true);
    t.equal(runningServerPid(nodes.rs2.name), undefined);
    t.notOk(existsSync(pidfilePath(nodes.rs2.name)), 'pidfile removed');
    const down = await curl(client, url);
    t.equal(down.code, 7, 'connection refused while stopped');
    t.equal(await stopServer(nodes.rs2.name), false, 'stop is idempotent');
    const pid = await startServer(nodes.rs2.name);
    t.equal(await startServer('rs2', { prefix: PREFIX }), pid, 'start is idempotent');
    const up = await curl(client, url);
    t.equal(up.stdout, 'rs2\n');
  });

  t.test('createLab on an existing lab rebuilds it', async (t) => {
    const before = runningServerPid(nodes.rs1.name);
    await createLab({ prefix: PREFIX });
    const after = runningServerPid(nodes.rs1.name);
    t.ok(after !== undefined && after !== before, 'fresh server');
    t.equal((await curl(client, `http://${nodes.rs1.ip}/`)).stdout, 'rs1\n');
  });
});

t.test('down leaves nothing and is idempotent', async (t) => {
  const pids = ['rs1', 'rs2', 'rs3'].map((rs) => runningServerPid(PREFIX + rs));
  t.ok(pids.every((p) => p !== undefined), 'servers were running');
  await destroyLab({ prefix: PREFIX });
  t.same(netnsList(), [], 'no namespaces left');
  for (const pid of pids) t.notOk(existsSync(`/proc/${pid}/cmdline`) && isLive(pid!), `server ${pid} gone`);
  for (const rs of ['rs1', 'rs2', 'rs3']) t.notOk(existsSync(pidfilePath(PREFIX + rs)));
  await destroyLab({ prefix: PREFIX });
  t.same(netnsList(), []);
  await t.rejects(startServer('rs1', { prefix: PREFIX }), /does not exist/);
});

function isLive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
