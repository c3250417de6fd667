// Every checker over IPv6 (issue 16 item 6), against real peers on ::1: TCP (with bindto),
// HTTP_GET with a digest and the [addr]:port Host, SSL_GET, SMTP, DNS, UDP (ICMPv6 port
// unreachable ends the probe), MISC, PING as ICMPv6 echo through the addon's raw IPv6 socket,
// and `ulvs genhash -s ::1`. Each is also shown going down when its peer is gone.
import t from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { runCheck } from '../../src/health/checkers.js';
import { buildEchoRequest, parseEchoReply } from '../../src/health/ping.js';

const LOOP6 = '::1';
const at = (port: number) => ({ ip: LOOP6, port });
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

async function tcpServer(t: Tap.Test, onConn: (s: net.Socket) => void, tlsOptions?: tls.TlsOptions): Promise<{ port: number; peers: string[]; close(): Promise<void> }> {
  const peers: string[] = [];
  const handler = (s: net.Socket): void => { peers.push(s.remoteAddress ?? ''); s.on('error', () => {}); onConn(s); };
  const server = tlsOptions ? tls.createServer(tlsOptions, handler) : net.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, LOOP6, r));
  const close = () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); });
  t.teardown(close);
  return { port: (server.address() as net.AddressInfo).port, peers, close };
}

async function udpServer(t: Tap.Test, onMsg: (msg: Buffer, reply: (b: Buffer) => void) => void): Promise<{ port: number; close(): Promise<void> }> {
  const s = dgram.createSocket('udp6');
  s.on('message', (msg, rinfo) => onMsg(msg, (b) => s.send(b, rinfo.port, rinfo.address)));
  await new Promise<void>((r) => s.bind(0, LOOP6, r));
  let closed = false;
  const close = () => new Promise<void>((r) => { if (closed) return r(); closed = true; s.close(() => r()); });
  t.teardown(close);
  return { port: s.address().port, close };
}

const httpReply = (body: string) => `HTTP/1.0 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

t.test('tcp_check over IPv6, bindto honoured; down once the server is gone', async (t) => {
  const srv = await tcpServer(t, (s) => s.end());
  let r = await runCheck('tcp_check', at(srv.port), { connect_timeout: 2, bindto: LOOP6 });
  t.ok(r.ok, r.reason);
  t.equal(srv.peers[0], LOOP6, 'the probe came from bindto');
  r = await runCheck('tcp_check', { ip: '127.0.0.1', port: 1 }, { connect_timeout: 2, connect_ip: LOOP6, connect_port: srv.port });
  t.ok(r.ok, 'connect_ip IPv6 on an IPv4 target');
  await srv.close();
  r = await runCheck('tcp_check', at(srv.port), { connect_timeout: 2 });
  t.notOk(r.ok, `refused: ${r.reason}`);
});

t.test('http_get over IPv6: digest, Host [::1]:port; ssl_get over IPv6', async (t) => {
  const page = 'page over ipv6\n';
  let host = '';
  const srv = await tcpServer(t, (s) => s.once('data', (d) => { host = /Host: (.*)\r\n/.exec(String(d))?.[1] ?? ''; s.end(httpReply(page)); }));
  let r = await runCheck('http_get', at(srv.port), { connect_timeout: 2, url: [{ path: '/test.html', digest: md5(page) }] });
  t.ok(r.ok, r.reason);
  t.equal(host, `[::1]:${srv.port}`, 'Host header brackets the IPv6 address');
  r = await runCheck('http_get', at(srv.port), { connect_timeout: 2, url: [{ path: '/', digest: md5('other') }] });
  t.notOk(r.ok, 'digest mismatch');

  const dir = mkdtempSync(join(tmpdir(), 'ulvs-v6-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const secure = await tcpServer(t, (s) => s.end(httpReply(page)), { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  r = await runCheck('ssl_get', at(secure.port), { connect_timeout: 3, url: [{ path: '/', digest: md5(page) }] });
  t.ok(r.ok, `ssl_get: ${r.reason}`);
  await secure.close();
  r = await runCheck('ssl_get', at(secure.port), { connect_timeout: 2, url: [{ path: '/' }] });
  t.notOk(r.ok, 'down once stopped');
});

t.test('genhash -s ::1 prints the page digest', async (t) => {
  const page = 'genhash over ipv6\n';
  const srv = await tcpServer(t, (s) => s.once('data', () => s.end(httpReply(page))));
  // Not spawnSync: the server lives in this process and must keep answering.
  const r = await promisify(execFile)(process.execPath, ['bin/ulvs.js', 'genhash', '-s', LOOP6, '-p', String(srv.port), '-u', '/test.html'], { encoding: 'utf8', timeout: 60_000 });
  t.match(r.stdout, md5(page));
});

t.test('smtp_check over IPv6', async (t) => {
  const srv = await tcpServer(t, (s) => {
    s.write('220 v6 ESMTP\r\n');
    s.on('data', (d) => { const l = String(d); if (/^HELO/i.test(l)) s.write('250 ok\r\n'); else if (/^QUIT/i.test(l)) s.end('221 bye\r\n'); });
  });
  const r = await runCheck('smtp_check', at(srv.port), { connect_timeout: 2 });
  t.ok(r.ok, r.reason);
});

t.test('dns_check and udp_check over IPv6; ICMPv6 port unreachable ends a probe early', async (t) => {
  const dns = await udpServer(t, (msg, send) => { const reply = Buffer.from(msg); reply[2] = 0x81; reply[3] = 0x80; send(reply); });
  let r = await runCheck('dns_check', at(dns.port), { connect_timeout: 2, type: 'A', name: 'rs1.test' });
  t.ok(r.ok, r.reason);
  const echo = await udpServer(t, (_msg, send) => send(Buffer.from('pong')));
  r = await runCheck('udp_check', at(echo.port), { connect_timeout: 2, require_reply: true });
  t.ok(r.ok, r.reason);
  await echo.close();
  const t0 = performance.now();
  r = await runCheck('udp_check', at(echo.port), { connect_timeout: 3 });
  t.notOk(r.ok, `closed port: ${r.reason}`);
  t.match(r.reason, /unreachable/);
  t.ok(performance.now() - t0 < 2000, 'the ICMPv6 error ended it before its timeout');
});

t.test('misc_check runs with an IPv6 target', async (t) => {
  const r = await runCheck('misc_check', at(80), { misc_path: 'true', misc_timeout: 5 });
  t.ok(r.ok, r.reason);
});

t.test('ping_check over IPv6: ICMPv6 echo through the raw IPv6 socket', async (t) => {
  const req = buildEchoRequest(0x1234, 7, Buffer.from('x'), 6);
  t.equal(req[0], 128, 'ICMPv6 echo request');
  t.same([req[2], req[3]], [0, 0], 'checksum left to the kernel (it covers the IPv6 pseudo-header)');
  t.same(parseEchoReply(Uint8Array.from([129, 0, 0, 0, 0x12, 0x34, 0, 7]), 6), { id: 0x1234, seq: 7 });
  t.equal(parseEchoReply(Uint8Array.from([128, 0, 0, 0, 0x12, 0x34, 0, 7]), 6), null, 'a request is not a reply');
  t.equal(parseEchoReply(Uint8Array.from([0, 0, 0, 0, 0x12, 0x34, 0, 7]), 6), null, 'an ICMPv4 reply type is not an ICMPv6 reply');
  const r = await runCheck('ping_check', at(0), { connect_timeout: 3 });
  t.ok(r.ok, r.reason);
  t.match(r.reason, 'echo reply from ::1');
  const rWritten = await runCheck('ping_check', { ip: '0:0::0:1', port: 0 }, { connect_timeout: 3 });
  t.ok(rWritten.ok, `the same address written otherwise: ${rWritten.reason}`);
  // 100::/64 is the discard-only prefix (RFC 6666): nothing answers.
  const none = await runCheck('ping_check', { ip: '100::1', port: 0 }, { connect_timeout: 1 });
  t.notOk(none.ok, `no reply: ${none.reason}`);
});
