// TUN over IPv6 (IPv6-in-IPv6, next header 41): this kernel cannot decapsulate, so what the
// director puts on the wire is decoded by tshark on the lab's bridge: outer header from the
// director to the real server, the client's SYN inside with its hop limit decremented.
// lab-tun6.yaml is the config run here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';

const prefix = 'vdu-';

t.test('TUN over IPv6: requests leave IPv6-in-IPv6 toward the real server', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  director = await startDirector(dir1, writeConfig(readFileSync(join(REPO, 'configs', 'lab-tun6.yaml'), 'utf8')));
  t.match((await labExec(dir1, ['ip', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout, /inet6 2001:2::100\/128/, 'the config\'s static_ipaddress put the IPv6 VIP on dir1');

  const fields = ['eth.dst', 'ipv6.src', 'ipv6.dst', 'ipv6.nxt', 'ipv6.hlim', 'tcp.dstport', 'tcp.flags.syn', 'tcp.checksum.status'];
  const tshark = spawn('ip', ['netns', 'exec', lab.switchNamespace, 'tshark', '-i', 'br0', '-f', 'ip6 proto 41', '-c', '1', '-a', 'duration:20',
    '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=;',
    ...fields.flatMap((f) => ['-e', f])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  tshark.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const capturing = new Promise<void>((res) => tshark.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('Capturing on')) res();
  }));
  const done = new Promise<number | null>((res) => tshark.once('exit', (code) => res(code)));
  await Promise.race([capturing, done]);
  t.match(err, /Capturing on/, 'tshark is capturing on the bridge');
  await labExec(lab.nodes.client.name, ['curl', '-s', '-m', '3', 'http://[2001:2::100]/']);
  t.equal(await done, 0, 'tshark captured an IPv6-in-IPv6 frame and exited');
  const [ethDst, src, dst, nxt, hlim, dport, syn, tcpCsum] = out.trim().split('\n')[0].split(';');
  const rs2 = lab.nodes.rs2;
  t.equal(ethDst, rs2.mac, 'addressed to the first wrr choice (rs2) at layer 2');
  t.equal(src, '2001:2::2,2001:2::1', 'outer source the director, inner source the client');
  t.equal(dst, '2001:2::20,2001:2::100', 'outer destination the real server, inner destination the VIP');
  t.equal(nxt, '41,6', 'outer next header IPv6 (41), inner TCP');
  t.equal(hlim, '63,63', 'hop limit decremented, and carried to the outer header');
  t.equal(dport, '80', 'inner TCP to port 80');
  t.equal(syn, '1', 'the SYN');
  t.equal(tcpCsum, '1', 'the inner TCP checksum untouched and good');
  t.equal(await director.stop(), 0, 'director stops cleanly');
  director = null;
});
