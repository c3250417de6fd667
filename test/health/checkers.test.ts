// tcp, smtp, dns, udp, misc, file and ping checkers against real loopback peers and scripts.
import t from 'tap';
import net from 'node:net';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runTcpCheck } from '../../src/health/tcp.js';
import { runSmtpCheck, smtpReplyCode, DEFAULT_HELO_NAME } from '../../src/health/smtp.js';
import { runDnsCheck, buildDnsQuery, judgeDnsReply } from '../../src/health/dns.js';
import { runUdpCheck, parseKeepalivedHex, judgeUdpReply } from '../../src/health/udp.js';
import { runMiscCheck, judgeMiscExit, splitCommandLine } from '../../src/health/misc.js';
import { runFileCheck, judgeFileContent } from '../../src/health/file.js';
import { runPingCheck, buildEchoRequest, parseEchoReply, setIcmpSocketFactory, type IcmpSocket } from '../../src/health/ping.js';
import { runCheck, probeKey, canonicalJson } from '../../src/health/checkers.js';

const local = (port: number) => ({ ip: '127.0.0.1', port });

async function listen(t: Tap.Test, onConn: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer((s) => { s.on('error', () => {}); onConn(s); });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return (server.address() as net.AddressInfo).port;
}

async function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function udpServer(t: Tap.Test, onMsg: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => onMsg(msg, (b) => s.send(b, rinfo.port, rinfo.address)));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  t.teardown(() => s.close());
  return s.address().port;
}

t.test('tcp_check: up on connect, down on refused, bindto/bind_port honoured', async (t) => {
  let peer = '';
  const port = await listen(t, (s) => { peer = `${s.remoteAddress}:${s.remotePort}`; });
  t.ok((await runTcpCheck(local(port), { connect_timeout: 1 })).ok);
  const dead = await freePort();
  const r = await runTcpCheck(local(dead), { connect_timeout: 1 });
  t.notOk(r.ok);
  t.match(r.reason, /ECONNREFUSED/);
  const bindPort = await freePort();
  t.ok((await runTcpCheck({ ip: '127.0.0.1', port: dead }, { connect_ip: '127.0.0.1', connect_port: port, bindto: '127.0.0.2', bind_port: bindPort, connect_timeout: 1 })).ok);
  t.equal(peer, `127.0.0.2:${bindPort}`, 'source address and port as configured');
});

t.test('smtp_check: 220, HELO, 250, QUIT', async (t) => {
  t.equal(smtpReplyCode('220 hi\r\n'), 220);
  t.equal(smtpReplyCode('220-a\r\n220-b\r\n'), null, 'multi-line reply not finished');
  t.equal(smtpReplyCode('220-a\r\n220 b\r\n'), 220);
  t.ok(Number.isNaN(smtpReplyCode('HTTP/1.0 400\r\n')!));
  const seen: string[] = [];
  const good = await listen(t, (s) => {
    s.write('220-mail.test ESMTP\r\n220 ready\r\n');
    s.on('data', (d) => {
      const line = d.toString();
      seen.push(line);
      if (line.startsWith('HELO')) s.write('250 mail.test\r\n');
      if (line.startsWith('QUIT')) s.end('221 bye\r\n');
    });
  });
  let r = await runSmtpCheck(local(good), { connect_timeout: 1 });
  t.ok(r.ok, r.reason);
  await new Promise((res) => setTimeout(res, 50));
  t.equal(seen[0], `HELO ${DEFAULT_HELO_NAME}\r\n`);
  t.equal(seen[1], 'QUIT\r\n');
  r = await runSmtpCheck(local(good), { connect_timeout: 1, helo_name: 'director1.test' });
  await new Promise((res) => setTimeout(res, 50));
  t.equal(seen[2], 'HELO director1.test\r\n');
  const busy = await listen(t, (s) => s.end('421 busy\r\n'));
  t.notOk((await runSmtpCheck(local(busy), { connect_timeout: 1 })).ok, '421 greeting');
  const reject = await listen(t, (s) => { s.write('220 ok\r\n'); s.on('data', () => s.write('550 no\r\n')); });
  t.notOk((await runSmtpCheck(local(reject), { connect_timeout: 1 })).ok, 'HELO rejected');
  const http = await listen(t, (s) => s.end('HTTP/1.0 400 Bad\r\n\r\n'));
  t.notOk((await runSmtpCheck(local(http), { connect_timeout: 1 })).ok, 'not SMTP');
  const silent = await listen(t, () => {});
  const t0 = performance.now();
  t.notOk((await runSmtpCheck(local(silent), { connect_timeout: 0.5 })).ok, 'silent server');
  t.ok(performance.now() - t0 < 1000);
});

t.test('dns_check: id match and NOERROR', async (t) => {
  const q = buildDnsQuery(0x1234, 'example.test', 'A');
  t.same([...q.subarray(0, 12)], [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  t.same([...q.subarray(12)], [7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1]);
  t.same([...buildDnsQuery(1, '.', 'SOA').subarray(12)], [0, 0, 6, 0, 1], 'root SOA, keepalived\'s default');
  t.throws(() => buildDnsQuery(1, 'x', 'BOGUS'));
  t.equal(judgeDnsReply(7, Buffer.from([0, 8, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'other id ignored');
  t.equal(judgeDnsReply(7, Buffer.from([0, 7, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'a query is not a reply');
  t.ok(judgeDnsReply(7, Buffer.from([0, 7, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]))!.ok);
  t.notOk(judgeDnsReply(7, Buffer.from([0, 7, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0]))!.ok, 'NXDOMAIN');

  let rcode = 0;
  let lastQ: Buffer | null = null;
  const port = await udpServer(t, (msg, send) => {
    lastQ = msg;
    send(Buffer.from([0xff, 0xff, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0])); // wrong id first: ignored
    const r = Buffer.from(msg);
    r[2] = 0x81; r[3] = 0x80 | rcode;
    send(r);
  });
  let r = await runDnsCheck(local(port), { connect_timeout: 1, type: 'A', name: 'rs1.test' });
  t.ok(r.ok, r.reason);
  t.equal(lastQ![lastQ!.length - 3], 1, 'asked type A');
  rcode = 2;
  r = await runDnsCheck(local(port), { connect_timeout: 1 });
  t.notOk(r.ok, 'SERVFAIL');
  const mute = await udpServer(t, () => {});
  r = await runDnsCheck(local(mute), { connect_timeout: 0.5 });
  t.notOk(r.ok, `no answer: ${r.reason}`);
});

t.test('udp_check: payload, require_reply, ICMP port unreachable', async (t) => {
  t.same([...parseKeepalivedHex('Ab12f 3 456 546443123')!.bytes], [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03],
    'keepalived.conf(5) example');
  t.equal(parseKeepalivedHex('zz'), null);
  t.ok(judgeUdpReply(Buffer.from([0xde, 0xad, 0x01]), { require_reply: 'deXd' }).ok, 'X wildcard nibble');
  t.notOk(judgeUdpReply(Buffer.from([0xde, 0xbd]), { require_reply: 'dead' }).ok);
  t.ok(judgeUdpReply(Buffer.from([0xde]), { require_reply: 'dead' }).ok, 'compared over the shorter');
  t.notOk(judgeUdpReply(Buffer.alloc(300), { require_reply: true }).ok, 'longer than max_reply_length 255');
  t.notOk(judgeUdpReply(Buffer.alloc(2), { require_reply: true, min_reply_length: 4 }).ok);

  let got: Buffer | null = null;
  const echo = await udpServer(t, (msg, send) => { got = msg; send(Buffer.from('pong')); });
  let r = await runUdpCheck(local(echo), { connect_timeout: 1, payload: '70 69 6e 67', require_reply: true });
  t.ok(r.ok, r.reason);
  t.equal(got!.toString(), 'ping', 'payload sent');
  r = await runUdpCheck(local(echo), { connect_timeout: 1, require_reply: Buffer.from('pong').toString('hex') });
  t.ok(r.ok, 'reply matches hex');
  r = await runUdpCheck(local(echo), { connect_timeout: 1, require_reply: 'ffff' });
  t.notOk(r.ok, 'reply differs');
  const mute = await udpServer(t, () => {});
  r = await runUdpCheck(local(mute), { connect_timeout: 0.5, require_reply: true });
  t.notOk(r.ok, 'require_reply and no reply');
  r = await runUdpCheck(local(mute), { connect_timeout: 0.5 });
  t.ok(r.ok, 'no reply needed and no ICMP error: up');
  const closed = await freeUdpPort();
  const t0 = performance.now();
  r = await runUdpCheck(local(closed), { connect_timeout: 2 });
  t.notOk(r.ok, `closed port: ${r.reason}`);
  t.match(r.reason, /port unreachable/);
  t.ok(performance.now() - t0 < 1000, 'ICMP error ends the probe early');
});

t.test('misc_check: exit codes, misc_dynamic weights, hung script killed with its group', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-health-misc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'check.sh');
  writeFileSync(script, '#!/bin/sh\nexit "$1"\n');
  chmodSync(script, 0o755);
  t.same(splitCommandLine(`${script} "a b" 'c' d`), [script, 'a b', 'c', 'd']);
  const table: Array<[number, boolean, boolean, number | undefined]> = [
    [0, false, true, undefined], [1, false, false, undefined], [2, false, false, undefined],
    [0, true, true, undefined], [1, true, false, undefined], [2, true, true, 0], [12, true, true, 10], [255, true, true, 253],
  ];
  for (const [code, dynamic, ok, weight] of table) {
    const r = await runMiscCheck(local(80), { misc_path: `${script} ${code}`, misc_dynamic: dynamic, misc_timeout: 5 });
    t.equal(r.ok, ok, `exit ${code} dynamic=${dynamic}: ${r.reason}`);
    t.equal(r.weight, weight, `exit ${code} dynamic=${dynamic} weight`);
    t.same(judgeMiscExit(code, null, dynamic).ok, ok);
  }
  t.notOk((await runMiscCheck(local(80), { misc_path: join(dir, 'missing.sh') })).ok, 'missing script');

  const pidFile = join(dir, 'child.pid');
  const hang = join(dir, 'hang.sh');
  writeFileSync(hang, `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\ntrap '' TERM\nwait\n`);
  chmodSync(hang, 0o755);
  const t0 = performance.now();
  const r = await runMiscCheck(local(80), { misc_path: hang, misc_timeout: 0.7 });
  const ms = performance.now() - t0;
  t.notOk(r.ok);
  t.match(r.reason, /timed out/);
  t.ok(ms >= 650 && ms < 1700, `cut at misc_timeout (${ms.toFixed(0)} ms)`);
  t.ok(existsSync(pidFile), 'the script had forked a child');
  const childPid = Number(readFileSync(pidFile, 'utf8'));
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (let i = 0; i < 40 && alive(childPid); i++) await new Promise((res) => setTimeout(res, 100));
  t.notOk(alive(childPid), 'the script\'s child (same process group) was killed too');
});

t.test('file_check follows keepalived track_file', async (t) => {
  const table: Array<[string, object, boolean, number | undefined]> = [
    ['0', { weight: 0 }, true, undefined],
    ['1', { weight: 0 }, false, undefined],
    ['5', {}, true, undefined],
    ['5', { dynamic: true }, true, 5],
    ['5', { dynamic: true, weight: 2 }, true, 10],
    ['5', { dynamic: true, weight: 2, reverse: true }, true, -10],
    ['  -3\n', { dynamic: true }, true, -3],
    ['down', {}, false, undefined],
    ['', { weight: 0 }, false, undefined],
  ];
  for (const [text, p, ok, delta] of table) {
    const r = judgeFileContent(text, { file: 'x', ...p });
    t.equal(r.ok, ok, `${JSON.stringify(text)} ${JSON.stringify(p)}: ${r.reason}`);
    t.equal(r.weightDelta, delta);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-health-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'rs1');
  writeFileSync(f, '0\n');
  t.ok((await runFileCheck(local(80), { file: f, weight: 0 })).ok);
  writeFileSync(f, '1\n');
  t.notOk((await runFileCheck(local(80), { file: f, weight: 0 })).ok);
  t.notOk((await runFileCheck(local(80), { file: join(dir, 'missing'), weight: 0 })).ok, 'missing file is down');
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await runFileCheck(local(80), { file: fifo, weight: 0 });
  t.notOk(r.ok, 'a FIFO is refused, not read (it would block a worker thread)');
  t.match(r.reason, /regular file/);
  writeFileSync(f, '7\n');
  const dyn = await runCheck('file_check', local(80), { file: f, dynamic: true, weight: 2 });
  t.same(dyn, { ok: true, weightDelta: 14, reason: 'track file 7' }, 'through the registry');
});

t.test('ping_check: echo codec, and a pluggable ICMP socket', async (t) => {
  const req = buildEchoRequest(0x1234, 7, Buffer.from('abc'));
  t.same([...req.subarray(0, 8)].filter((_, i) => i !== 2 && i !== 3), [8, 0, 0x12, 0x34, 0, 7]);
  const reply = Uint8Array.from(req);
  reply[0] = 0;
  // type 8 -> 0 changes the checksum by 0x0800 (RFC 1624).
  const c = ((reply[2] << 8) | reply[3]) + 0x0800;
  const folded = (c & 0xffff) + (c >>> 16);
  reply[2] = folded >>> 8; reply[3] = folded & 0xff;
  t.same(parseEchoReply(reply), { id: 0x1234, seq: 7 });
  const bad = Uint8Array.from(reply); bad[9] ^= 1;
  t.equal(parseEchoReply(bad), null, 'bad checksum');
  t.equal(parseEchoReply(req), null, 'a request is not a reply');

  setIcmpSocketFactory(() => null);
  let r = await runPingCheck(local(0), { connect_timeout: 0.5 });
  t.notOk(r.ok, 'no ICMP socket: down, and says why');
  t.match(r.reason, /no ICMP socket/);

  // A loopback "network" that answers echo requests for 127.0.0.1 only.
  const fake = (): IcmpSocket => {
    const handlers = new Set<(src: string, b: Uint8Array) => void>();
    return {
      send(dst, b) {
        if (dst !== '127.0.0.1') return;
        const rep = Uint8Array.from(b); rep[0] = 0;
        const s = ((rep[2] << 8) | rep[3]) + 0x0800; const f = (s & 0xffff) + (s >>> 16);
        rep[2] = f >>> 8; rep[3] = f & 0xff;
        setTimeout(() => { for (const h of handlers) h(dst, rep); }, 5);
      },
      onMessage(h) { handlers.add(h); return () => handlers.delete(h); },
      close() { handlers.clear(); },
    };
  };
  setIcmpSocketFactory(fake);
  t.teardown(() => setIcmpSocketFactory(null));
  r = await runPingCheck(local(0), { connect_timeout: 0.5 });
  t.ok(r.ok, r.reason);
  r = await runPingCheck({ ip: '127.0.0.9', port: 0 }, { connect_timeout: 0.3 });
  t.notOk(r.ok, 'no reply: down at connect_timeout');

  // The default: the addon's raw ICMP socket, against the kernel's own echo replies.
  setIcmpSocketFactory(null);
  const t0 = performance.now();
  r = await runPingCheck(local(0), { connect_timeout: 1 });
  t.ok(r.ok, `real ICMP echo to 127.0.0.1 over the addon's raw socket: ${r.reason}`);
  t.ok(performance.now() - t0 < 500, 'answered at once');
  r = await runPingCheck(local(0), { connect_timeout: 1, bindto: '127.0.0.3' });
  t.ok(r.ok, `with bindto: ${r.reason}`);
});

t.test('registry and probe keys', async (t) => {
  const port = await listen(t, () => {});
  t.ok((await runCheck('tcp_check', local(port), { connect_timeout: 1 })).ok);
  t.notOk((await runCheck('nope' as never, local(port), {})).ok, 'unknown type is a failed probe, not a throw');
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  const k1 = probeKey('tcp_check', local(80), { connect_timeout: 3, nb_get_retry: 2 });
  const k2 = probeKey('tcp_check', local(80), { retry: 2, connect_timeout: 3 });
  t.equal(k1, k2, 'key order and nb_get_retry alias do not matter');
  t.not(k1, probeKey('tcp_check', local(81), { retry: 2, connect_timeout: 3 }));
  t.not(k1, probeKey('http_get', local(80), { retry: 2, connect_timeout: 3 }));
});
