// The lab's quiet IPv6: two namespaces (prefix k7-) on a veth get 2001:2::1 and ::2 with
// enableQuietIpv6 while tshark captures the link: no frame at all while links come up and
// addresses are added (no DAD, RS, MLD), then a real TCP connection over IPv6 carries data.
import t from 'tap';
import { spawn } from 'node:child_process';
import { addPreparedNamespace } from '../../src/lab/namespaces.js';
import { enableQuietIpv6, LAB_IPV6, quietIpv6Script } from '../../src/lab/ipv6.js';
import { labExec, run, runInNamespace } from '../../src/lab/shell.js';

const A = 'k7-a', B = 'k7-b', VA = 'k7-va', VB = 'k7-vb';

async function cleanup(): Promise<void> {
  for (const ns of [A, B]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
}

t.test('the script: sysctls before disable_ipv6=0, nodad addresses', async (t) => {
  t.equal(quietIpv6Script('eth0', ['2001:2::1']), 'sysctl -q -w net.ipv6.conf.eth0.addr_gen_mode=1 net.ipv6.conf.eth0.accept_ra=0 '
    + 'net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.router_solicitations=0 net.ipv6.conf.eth0.disable_ipv6=0\n'
    + 'ip -6 addr add 2001:2::1/64 dev eth0 nodad');
  t.match(quietIpv6Script('lo', [LAB_IPV6.vip]), /ip -6 addr add 2001:2::100\/128 dev lo nodad$/, 'the VIP on lo is a /128');
});

t.test('quiet on the wire, and TCP over IPv6 works', async (t) => {
  await cleanup();
  t.teardown(cleanup);
  await addPreparedNamespace(A);
  await addPreparedNamespace(B);
  await run('ip', ['link', 'add', VA, 'netns', A, 'type', 'veth', 'peer', 'name', VB, 'netns', B]);
  // Capture on B's end before anything comes up; tshark says "Capturing on" once it listens.
  const capture = spawn('ip', ['netns', 'exec', B, 'tshark', '-l', '-n', '-i', VB, '-a', 'duration:600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { capture.kill('SIGKILL'); });
  let captured = '';
  capture.stdout.on('data', (d: Buffer) => { captured += String(d); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('tshark did not start')), 60_000);
    capture.stderr.on('data', (d: Buffer) => { if (/Capturing on/.test(String(d))) { clearTimeout(timer); resolve(); } });
  });
  await runInNamespace(B, `ip link set ${VB} up`);
  await runInNamespace(A, `ip link set ${VA} up`);
  await enableQuietIpv6(A, VA, [LAB_IPV6.client]);
  await enableQuietIpv6(B, VB, [LAB_IPV6.dir1]);
  // A reference for "long enough": what a chatty setup would have sent within it (DAD waits 1 s,
  // an RS goes out at once, MLD at link up), with a wide margin on a busy machine.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  t.equal(captured.trim(), '', 'no frame on the wire while IPv6 came up');
  const addrs = await labExec(A, ['ip', '-6', 'addr', 'show', 'dev', VA]);
  t.notMatch(addrs.stdout, /fe80::/, 'no link-local address generated');
  t.match(addrs.stdout, /2001:2::1\/64 scope global nodad/);

  // A real server in B, a client in A: the kernel resolves the neighbour (NS/NA) and TCP flows.
  const server = spawn('ip', ['netns', 'exec', B, process.execPath, '-e',
    `require('net').createServer((s) => s.end('over ipv6')).listen(8080, '${LAB_IPV6.dir1}', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { server.kill('SIGKILL'); });
  await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));
  const client = await labExec(A, [process.execPath, '-e',
    `const c = require('net').connect(8080, '${LAB_IPV6.dir1}'); let b = ''; c.on('data', (d) => { b += d; }); c.on('end', () => console.log(b));`],
    { timeoutMs: 30_000 });
  t.equal(client.stdout.trim(), 'over ipv6');
});
