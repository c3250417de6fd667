// The addon's RawSocket/PacketSocket on their own: ICMP echo through a raw socket (as
// ping_check uses it) between two namespaces, errors as JS Errors with code/syscall,
// and a GARP frame sent by PacketSocket seen by a raw AF_PACKET capture (tshark).
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

import { openPacketSocket, openRawSocket } from '../../src/os/raw-sockets.js';
import { createVrrpLab, waitForOrFail } from './fixtures/lab.js';

const tsLoader = (): string[] => process.execArgv.filter((a) => a.includes('typescript'));

t.test('errors carry errno name and syscall', async (t) => {
  const sock = openRawSocket(112);
  t.teardown(() => sock.close());
  t.throws(() => sock.bindToDevice('nosuchdev0'), { code: 'ENODEV', syscall: 'setsockopt' });
  t.throws(() => sock.joinGroup('224.0.0.18', 'nosuchdev0'), { code: 'ENODEV', syscall: 'if_nametoindex' });
  t.throws(() => sock.send('not-an-ip', new Uint8Array(8)), TypeError);
  t.throws(() => openPacketSocket('nosuchdev0'), { code: 'ENODEV' });
  t.throws(() => openRawSocket(300), RangeError);
  sock.close();
  sock.close();
  t.throws(() => sock.send('127.0.0.1', new Uint8Array(8)), { code: 'EBADF' }, 'closed socket');
});

t.test('ICMP echo over a raw socket (as ping_check uses it), in a namespace', async (t) => {
  const lab = await createVrrpLab('tvri-', 2);
  t.teardown(() => lab.destroy());
  const out = execFileSync('ip', ['netns', 'exec', lab.nodes[0], process.execPath, ...tsLoader(),
    join(import.meta.dirname, 'fixtures', 'icmp-echo.ts'), lab.ips[1]], { encoding: 'utf8', timeout: 30000 });
  const reply = JSON.parse(out.trim().split('\n').pop()!);
  t.match(reply, { version: 4, src: lab.ips[1], sent: 16, payload: [0x75, 0x6c, 0x76, 0x73] }, 'reply with its IPv4 header, source and payload');
  t.ok(reply.ttl > 0 && reply.ifindex > 0, `TTL ${reply.ttl} and ifindex ${reply.ifindex} readable`);
});

t.test('PacketSocket sends a GARP that tshark decodes', async (t) => {
  const lab = await createVrrpLab('tvrn-', 2);
  t.teardown(() => lab.destroy());
  const pcap = join(lab.dir, 'garp.pcap');
  // -c 3: tshark ends by itself once the three GARPs (and only ARP about that address) are in.
  const capture = spawn('ip', ['netns', 'exec', lab.nodes[1], 'tshark', '-q', '-i', 'eth0', '-w', pcap, '-c', '3', '-f', 'arp host 198.18.0.99'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => { try { capture.kill('SIGKILL'); } catch { /* gone */ } });
  let captureLog = '';
  capture.stderr.on('data', (d: Buffer) => { captureLog += d.toString(); });
  const captured = new Promise((r) => capture.once('exit', r));
  await waitForOrFail('tshark to capture', () => captureLog.includes('Capturing on'), 15_000);
  // The sender runs in node 1's namespace, through the same TypeScript loader.
  execFileSync('ip', ['netns', 'exec', lab.nodes[0], process.execPath, ...tsLoader(),
    join(import.meta.dirname, 'fixtures', 'send-garp.ts'), 'eth0', '198.18.0.99', '3']);
  // Fewer than three on the wire: tshark is stopped after 5 s and the count below says so.
  const stopper = setTimeout(() => capture.kill('SIGINT'), 5_000);
  await captured;
  clearTimeout(stopper);
  const lines = execFileSync('tshark', ['-r', pcap, '-Y', 'arp.isgratuitous == 1', '-T', 'fields', '-e', 'arp.src.proto_ipv4', '-e', 'arp.dst.proto_ipv4', '-e', 'eth.dst'],
    { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  t.equal(lines.length, 3, 'three gratuitous ARPs on the wire');
  t.same(lines[0].split('\t'), ['198.18.0.99', '198.18.0.99', 'ff:ff:ff:ff:ff:ff']);
});
