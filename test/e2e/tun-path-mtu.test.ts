// Issue 17 part 2: path MTU over TUN. The client's link MTU is 1500, so its TCP sends full-size
// 1500-byte segments with DF; encapsulated toward the real server they would be 1520 (IPIP) or
// 1532 (GUE) bytes, above the director's 1500: the real server's path MTU, seen from the client,
// is the tunnel's (1480 / 1468). The big packets of a TUN service are the client's (requests
// go through the director; the real server's replies go straight back), so a 32 MiB upload
// (POST to the VIP) exercises it: the director answers the first too-big segment with ICMP
// fragmentation needed carrying the tunnel's MTU, the client's TCP lowers its segment size,
// and the transfer completes. Counter-proof: the same upload with the client's firewall
// dropping frag needed (an ICMP black hole) stalls; it is bounded in time and reported.
// Figures (printed as comments): transfer time and the client's TCP retransmissions.
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { capture, statsOf } from './icmp-fragments-lab.js';
import { startDecap, type Decap } from './tunnel-lab.js';

const prefix = 'tub-';
const VIP = '198.18.0.100';
const PORT = 8080;
const SIZE = 32 * 1024 * 1024;
const UPLOAD_FILE = '/tmp/tub-upload-32m';
/** The black-holed upload is given this long: without frag needed it never completes. */
const STALL_SECONDS = 20;

// Counts the bytes of each POST and answers with the count.
const UPLOAD_SERVER = `require('node:http').createServer((req, res) => { let n = 0;
  req.on('data', (c) => { n += c.length; }); req.on('end', () => res.end(String(n))); }).listen(${PORT}, '0.0.0.0', () => console.log('listening'));`;

function config(tunnel: string): string {
  return `dataplane: { interface: eth0, io: auto }
static_ipaddress: [ { address: ${VIP}/32, dev: eth0 } ]
virtual_servers:
  - { vip: ${VIP}, port: ${PORT}, protocol: TCP, lb_algo: rr, lb_kind: TUN,
      real_servers: [ { ip: 198.18.0.10, port: ${PORT}${tunnel} } ] }
`;
}

/** Tcp RetransSegs of the namespace (/proc/net/snmp). */
async function retransmissions(ns: string): Promise<number> {
  const lines = (await labExec(ns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/));
  return Number(values[names.indexOf('RetransSegs')]);
}

interface Upload { code: number; seconds: number; received: string; retransmitted: number }

async function upload(ns: string, maxSeconds: number): Promise<Upload> {
  const before = await retransmissions(ns);
  const r = await labExec(ns, ['curl', '-s', '-m', String(maxSeconds), '-o', '-', '-w', '\\n%{time_total}', '--data-binary', `@${UPLOAD_FILE}`,
    '-H', 'Content-Type: application/octet-stream', `http://${VIP}:${PORT}/`], { timeoutMs: (maxSeconds + 30) * 1000 });
  const [received, seconds] = r.stdout.trim().split('\n');
  return { code: r.code, seconds: Number(seconds ?? r.stdout), received: seconds === undefined ? '' : received, retransmitted: (await retransmissions(ns)) - before };
}

for (const [name, tunnel, mtu] of [['IPIP', '', 1480], ['GUE', ', tun_type: gue, tun_port: 6080', 1468]] as const) {
  t.test(`${name}: 32 MiB upload through the tunnel; frag needed says ${mtu}; a black hole stalls`, async (t) => {
    let director: RunningDirector | null = null;
    let server: ChildProcess | null = null;
    let decap: Decap | null = null;
    t.teardown(async () => {
      await director?.stop();
      server?.kill();
      await decap?.stop().catch(() => undefined);
      await destroyLab({ prefix });
    });
    const lab = await createLab({ prefix, servers: false });
    const { client, rs1, dir1 } = lab.nodes;
    const made = await labExec(client.name, ['sh', '-c', `head -c ${SIZE} /dev/urandom > ${UPLOAD_FILE}`]);
    t.equal(made.code, 0, 'upload file made');
    t.teardown(() => labExec(client.name, ['rm', '-f', UPLOAD_FILE]).then(() => undefined));
    decap = await startDecap(rs1.name, 'tud0', name === 'GUE' ? 'gue:6080' : 'ipip');
    server = await startUploadServer(rs1.name);
    director = await startDirector(dir1.name, writeConfig(config(tunnel)));

    const routeMtu = async (): Promise<string> => /\bmtu (\d+)/.exec((await labExec(client.name, ['ip', 'route', 'get', VIP])).stdout)?.[1] ?? 'none';
    t.equal(await routeMtu(), 'none', 'the client has learnt no path MTU to the VIP yet');
    // Captured before netfilter's input hook, so the black hole below is seen on the wire too.
    let icmp = await capture(client.name, 'eth0', 'icmp', ['ip.src', 'icmp.type', 'icmp.code', 'icmp.mtu'], 1, 60);
    const before = await statsOf(dir1.name);
    const done = await upload(client.name, 120);
    t.equal(done.code, 0, 'with frag needed the upload completes');
    t.equal(done.received, String(SIZE), 'the real server received all 32 MiB');
    const fragNeeded = async (): Promise<string[]> => {
      const [src, type, code, nextHop] = ((await icmp.lines())[0] ?? '').split('\t');
      return [(src ?? '').split(',')[0], type, code, nextHop];
    };
    t.same(await fragNeeded(), [VIP, '3', '4', String(mtu)], `the director's frag needed (from the VIP) carries the ${name} tunnel's MTU, ${mtu}`);
    const after = await statsOf(dir1.name);
    t.ok(after.icmp_sent > before.icmp_sent, `frag needed sent (icmp_sent +${after.icmp_sent - before.icmp_sent})`);
    t.ok(after.drop_mtu_exceeded > before.drop_mtu_exceeded, `too-big segments counted (drop_mtu_exceeded +${after.drop_mtu_exceeded - before.drop_mtu_exceeded})`);
    t.equal(await routeMtu(), String(mtu), `the client's route to the VIP learnt mtu ${mtu}`);
    t.comment(`${name} with frag needed: 32 MiB in ${done.seconds.toFixed(2)} s, ${done.retransmitted} retransmitted segments, path MTU ${mtu}`);

    // Counter-proof: forget the learnt MTU (flushing the route cache drops PMTU exceptions) and
    // drop frag needed at the client's firewall (an ICMP black hole).
    await labExec(client.name, ['ip', 'route', 'flush', 'cache']);
    t.equal(await routeMtu(), 'none', 'the learnt path MTU is forgotten');
    await labExec(client.name, ['nft', '-f', '-'], {
      input: 'table ip tub {\n chain in {\n  type filter hook input priority 0;\n  icmp type destination-unreachable icmp code frag-needed drop\n }\n}\n',
    }).then((r) => t.equal(r.code, 0, `frag needed dropped at the client (nft): ${r.stderr}`));
    icmp = await capture(client.name, 'eth0', 'icmp', ['ip.src', 'icmp.type', 'icmp.code', 'icmp.mtu'], 1, 60);
    const stalled = await upload(client.name, STALL_SECONDS);
    t.equal(stalled.code, 28, `without frag needed the upload stalls: curl gives up after ${STALL_SECONDS} s (exit 28)`);
    t.same(await fragNeeded(), [VIP, '3', '4', String(mtu)], 'the director did send frag needed: the client\'s firewall dropped it');
    t.equal(await routeMtu(), 'none', 'so the client never learnt the path MTU');
    t.comment(`${name} black hole: no completion in ${stalled.seconds.toFixed(1)} s (curl -m ${STALL_SECONDS}), ${stalled.retransmitted} retransmitted segments`);
    await labExec(client.name, ['nft', 'delete', 'table', 'ip', 'tub']);
    t.equal(await director.stop(), 0, 'director stops cleanly');
    director = null;
  });
}

function startUploadServer(ns: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', UPLOAD_SERVER], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error('upload server did not start')); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) { clearTimeout(timer); res(child); } });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`upload server exited ${code}`)); });
  });
}

