// The dual-stack lab (issue 16 item 8): `createLab` gives every node its 2001:2:: address
// while tshark captures br0 from before any address exists, and the capture holds no IPv6
// frame at all (no DAD, RS, MLD). Then every ordered pair of nodes talks real TCP over IPv6,
// the lab servers answer HTTP and UDP over IPv6, and the NAT variant's inside /64 and IPv6
// default route are in place. Prefixes vcd- and vcn- (this helper's).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createLab, destroyLab, labExec, NODE_SHORT_NAMES, type LabTopology } from '../../src/lab/index.js';
import { LAB_IPV6 } from '../../src/lab/ipv6.js';

const PREFIX = 'vcd-';
const NAT_PREFIX = 'vcn-';
const PAIR_PORT = 8086;
// Long enough for what a chatty IPv6 bring-up sends (an RS at once, DAD after 1 s, MLD at
// link up), with a wide margin for a busy machine.
const QUIET_WINDOW_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** tshark on br0 of the switch, IPv6 frames only; resolves once it says it is capturing. */
async function startCapture(topology: LabTopology, out: { text: string }): Promise<ChildProcess> {
  const capture = spawn('ip', ['netns', 'exec', topology.switchNamespace, 'tshark', '-l', '-n', '-i', 'br0', '-f', 'ip6', '-a', 'duration:600'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  capture.stdout?.on('data', (d: Buffer) => { out.text += String(d); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tshark did not start within 60 s')), 60_000);
    capture.stderr?.on('data', (d: Buffer) => { if (/Capturing on/.test(String(d))) { clearTimeout(timer); resolve(); } });
    capture.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tshark exited (${code})`)); });
  });
  return capture;
}

// Each node answers on [::]:PAIR_PORT with "<its name> saw <peer address>".
const PAIR_SERVER = (name: string): string =>
  `require('net').createServer((s) => s.end('${name} saw ' + s.remoteAddress)).listen({ port: ${PAIR_PORT}, host: '::', ipv6Only: true }, () => console.log('listening'))`;
// Connects to every address given and prints {address: reply} as JSON.
const PAIR_CLIENT = `const net = require('net'); const out = {};
Promise.all(process.argv.slice(1).map((a) => new Promise((resolve) => {
  const c = net.connect(${PAIR_PORT}, a); let b = ''; c.setTimeout(20000, () => c.destroy(new Error('timeout')));
  c.on('data', (d) => { b += d; }); c.on('end', () => { out[a] = b; resolve(); }); c.on('error', (e) => { out[a] = 'error ' + e.message; resolve(); });
}))).then(() => console.log(JSON.stringify(out)));`;

t.test('dual-stack lab: quiet bring-up, every pair over IPv6', async (t) => {
  t.teardown(() => destroyLab({ prefix: PREFIX }));
  const captured = { text: '' };
  let capture: ChildProcess | undefined;
  t.teardown(() => { capture?.kill('SIGKILL'); });
  const lab = await createLab({ prefix: PREFIX, onSwitchUp: async (topology) => { capture = await startCapture(topology, captured); } });
  await sleep(QUIET_WINDOW_MS);
  capture?.kill('SIGKILL');
  t.ok(capture !== undefined, 'the capture ran during bring-up');
  t.equal(captured.text.trim(), '', 'no IPv6 frame on br0 while the lab came up (no DAD, RS or MLD)');

  const nodes = Object.values(lab.nodes);
  t.test('addresses: global /64 and a static link-local, both nodad; the VIP on the real servers\' lo', async (t) => {
    for (const node of nodes) {
      const eth0 = await labExec(node.name, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
      t.match(eth0.stdout, `inet6 ${node.ip6}/64 scope global nodad`, `${node.short} global`);
      t.match(eth0.stdout, `inet6 ${node.interfaces[0].linkLocal}/64 scope link nodad`, `${node.short} link-local`);
      t.equal((eth0.stdout.match(/inet6 /g) ?? []).length, 2, `${node.short}: no generated address`);
      const lo = await labExec(node.name, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'lo']);
      if (node.role === 'real') t.match(lo.stdout, `inet6 ${LAB_IPV6.vip}/128 scope global nodad`, `${node.short} VIP on lo`);
      else t.notMatch(lo.stdout, LAB_IPV6.vip, `${node.short} has no VIP`);
    }
    t.same(nodes.map((n) => n.ip6), ['2001:2::1', '2001:2::2', '2001:2::3', '2001:2::10', '2001:2::20', '2001:2::30']);
  });

  t.test('every ordered pair reaches each other over IPv6 with real TCP', async (t) => {
    const servers = nodes.map((node) => spawn('ip', ['netns', 'exec', node.name, process.execPath, '-e', PAIR_SERVER(node.short)],
      { stdio: ['ignore', 'pipe', 'inherit'] }));
    t.teardown(() => { for (const s of servers) s.kill('SIGKILL'); });
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.stdout?.once('data', () => resolve()))));
    const results = await Promise.all(nodes.map(async (from) => {
      const targets = nodes.filter((n) => n !== from).map((n) => n.ip6);
      const r = await labExec(from.name, [process.execPath, '-e', PAIR_CLIENT, ...targets], { timeoutMs: 60_000 });
      return { from, replies: JSON.parse(r.stdout || '{}') as Record<string, string> };
    }));
    let pairs = 0;
    for (const { from, replies } of results) {
      for (const to of nodes.filter((n) => n !== from)) {
        t.equal(replies[to.ip6], `${to.short} saw ${from.ip6}`, `${from.short} -> ${to.short}`);
        pairs++;
      }
    }
    t.equal(pairs, NODE_SHORT_NAMES.length * (NODE_SHORT_NAMES.length - 1));
  });

  t.test('the lab servers answer over IPv6 (HTTP and UDP), IPv4 unchanged', async (t) => {
    const client = lab.nodes.client.name;
    for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
      const r = await labExec(client, ['curl', '-s', '-m', '10', `http://[${lab.nodes[rs].ip6}]/`]);
      t.equal(r.stdout, `${rs}\n`, `${rs} over IPv6`);
    }
    const seen = await labExec(client, ['curl', '-s', '-m', '10', `http://[${lab.nodes.rs1.ip6}]/client`]);
    t.match(seen.stdout, /^\[2001:2::1\]:\d+\n$/, 'the server saw the client\'s IPv6 address');
    const seen4 = await labExec(client, ['curl', '-s', '-m', '10', `http://${lab.nodes.rs1.ip}/client`]);
    t.match(seen4.stdout, /^198\.18\.0\.1:\d+\n$/, 'IPv4 clients still show as IPv4');
    const udp = await labExec(client, [process.execPath, '-e',
      `const s = require('dgram').createSocket('udp6'); s.on('message', (m) => { console.log(String(m).trim()); s.close(); });
       s.send('hi', 80, '${lab.nodes.rs2.ip6}'); setTimeout(() => process.exit(1), 10000).unref();`], { timeoutMs: 20_000 });
    t.equal(udp.stdout.trim(), 'rs2', 'UDP over IPv6');
  });
});

t.test('dual-stack NAT lab: inside /64, IPv6 default route, forwarding on directors', async (t) => {
  t.teardown(() => destroyLab({ prefix: NAT_PREFIX }));
  const lab = await createLab({ prefix: NAT_PREFIX, nat: true });
  const { dir1, dir2, rs1 } = lab.nodes;
  t.same([dir1.interfaces[1].ip6, dir2.interfaces[1].ip6], ['2001:2:0:1::1', '2001:2:0:1::2']);
  for (const rs of ['rs1', 'rs2', 'rs3'] as const) {
    const node = lab.nodes[rs];
    t.equal(node.ip6, LAB_IPV6.nat[rs]);
    const r = await labExec(dir1.name, ['curl', '-s', '-m', '10', `http://[${node.ip6}]/`]);
    t.equal(r.stdout, `${rs}\n`, `dir1 reaches ${rs} on the inside /64`);
  }
  const route = await labExec(rs1.name, ['ip', '-6', 'route', 'show', 'default']);
  t.match(route.stdout, `default via ${LAB_IPV6.nat.gateway} dev eth0`);
  const fwd = await labExec(dir2.name, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding']);
  t.equal(fwd.stdout.trim(), '1');
});
