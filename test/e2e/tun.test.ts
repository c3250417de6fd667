// TUN (IPIP): this kernel cannot decapsulate IPIP, so the real servers cannot answer; what the
// director puts on the wire is checked instead, decoded by tshark on the lab's bridge.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, startDirector, writeConfig, type RunningDirector } from './director.js';

const prefix = 'e2tun-';

t.test('TUN: requests leave the director IPIP-encapsulated toward the real server', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(readFileSync(join(REPO, 'configs/lab-tun.yaml'), 'utf8')));

  const fields = ['eth.dst', 'ip.src', 'ip.dst', 'ip.proto', 'ip.checksum.status', 'tcp.dstport', 'tcp.flags.syn', 'tcp.checksum.status'];
  const tshark = spawn('ip', ['netns', 'exec', lab.switchNamespace, 'tshark', '-i', 'br0', '-f', 'ip proto 4', '-c', '1', '-a', 'duration:20',
    '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,', '-E', 'separator=;',
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

  // The real server cannot decapsulate, so the connection attempt times out; that is expected.
  await labExec(lab.nodes.client.name, ['curl', '-s', '-m', '3', `http://${lab.vip}/`]);
  t.equal(await done, 0, 'tshark captured an IPIP frame and exited');
  const [ethDst, ipSrc, ipDst, ipProto, ipCsum, tcpDport, syn, tcpCsum] = out.trim().split('\n')[0].split(';');
  const rs2 = lab.nodes.rs2;
  t.equal(ethDst, rs2.mac, 'addressed to the first wrr choice (rs2) at layer 2');
  t.equal(ipSrc, `${lab.nodes.dir1.ip},${lab.nodes.client.ip}`, 'outer source is the director, inner source the client');
  t.equal(ipDst, `${rs2.ip},${lab.vip}`, 'outer destination is the real server, inner destination the VIP');
  t.equal(ipProto, '4,6', 'outer protocol is IPIP (4), inner TCP');
  t.equal(ipCsum, '1,1', 'both IPv4 header checksums are good (tshark status 1 = Good)');
  t.equal(tcpDport, '80', 'inner TCP to port 80');
  t.equal(syn, '1', 'the first packet is the SYN');
  t.equal(tcpCsum, '1', 'the inner TCP checksum is untouched and good');
  t.equal(await director.stop(), 0, 'director stops cleanly');
  director = null;
});
