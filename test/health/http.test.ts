// http_get / ssl_get against real loopback servers: digest, status ranges, regex, vhost,
// negotiate, and misbehaving servers (garbage, reset, trickle, silence) cut at the deadline.
import t from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHttpGet, runSslGet, negotiateAsHttpGet, judgeHttpResponse } from '../../src/health/http.js';
import {
  HttpResponseReader, buildHttpRequest, parseStatusCodes, statusMatches, isDigest,
} from '../../src/health/http_response.js';
import { runTcpCheck } from '../../src/health/tcp.js';

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

type Handler = (socket: net.Socket, request: string) => void;

/** A raw TCP server that hands each complete request head to `handler`. */
async function rawServer(t: Tap.Test, handler: Handler, tlsOpts?: tls.TlsOptions): Promise<{ port: number; requests: string[]; connections: () => number }> {
  const requests: string[] = [];
  let connections = 0;
  const onSocket = (socket: net.Socket): void => {
    connections++;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && buf.length >= end + 4 && !(socket as { handled?: boolean }).handled) {
        (socket as { handled?: boolean }).handled = true;
        requests.push(buf);
        handler(socket, buf);
      }
    });
  };
  const server = tlsOpts ? tls.createServer(tlsOpts, onSocket) : net.createServer(onSocket);
  const sockets = new Set<net.Socket>();
  server.on(tlsOpts ? 'secureConnection' : 'connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { port: (server.address() as net.AddressInfo).port, requests, connections: () => connections };
}

const reply = (status: string, body: string, extra = ''): string =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const target = (port: number) => ({ ip: '127.0.0.1', port });

t.test('request text is keepalived\'s, byte for byte', async (t) => {
  t.equal(buildHttpRequest('/test.html', '127.0.0.1:80'),
    'GET /test.html HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:80\r\n\r\n');
  t.equal(buildHttpRequest('/x', 'www.example', '1.1'),
    'GET /x HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n');
  t.equal(buildHttpRequest('/x', 'h', '1.0C'),
    'GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n');
});

t.test('status_code parsing and ranges', async (t) => {
  const table: Array<[Parameters<typeof parseStatusCodes>[0], number[], number[]]> = [
    [undefined, [200, 204, 299], [199, 300, 404]],
    [200, [200], [201]],
    ['200-299 400-499 503', [250, 404, 503], [300, 502, 504]],
    [['301', 302], [301, 302], [303]],
    [[{ from: 200, to: 204 }, { from: 404, to: 404 }], [200, 204, 404], [205, 403]],
    ['200,301', [200, 301], [302]],
  ];
  for (const [spec, good, bad] of table) {
    const r = parseStatusCodes(spec);
    t.ok(r, `parses ${JSON.stringify(spec)}`);
    for (const c of good) t.ok(statusMatches(c, r!), `${c} in ${JSON.stringify(spec)}`);
    for (const c of bad) t.notOk(statusMatches(c, r!), `${c} not in ${JSON.stringify(spec)}`);
  }
  for (const bad of ['abc', '299-200', '20', '200-', '700', { from: 300, to: 200 }]) t.equal(parseStatusCodes(bad), null, `rejects ${bad}`);
  t.ok(isDigest('c5f42eddf777ef2d2b0f7263c094c20e'));
  t.notOk(isDigest('c5f42eddf777ef2d2b0f7263c094c20'));
  t.notOk(isDigest('z5f42eddf777ef2d2b0f7263c094c20e'));
});

t.test('response reader hashes the body only, capped at Content-Length, chunk framing kept', async (t) => {
  const cases: Array<{ name: string; chunks: string[]; body: string; status: number }> = [
    { name: 'split anywhere', chunks: ['HTTP/1.0 200 OK\r\nContent-Le', 'ngth: 5\r\n\r', '\nhel', 'lo'], body: 'hello', status: 200 },
    { name: 'extra bytes after Content-Length ignored', chunks: ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef'], body: 'abc', status: 200 },
    { name: 'chunked is hashed raw, like genhash', chunks: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n0\r\n\r\n'], body: '3\r\nhel\r\n0\r\n\r\n', status: 200 },
    { name: 'garbage status line', chunks: ['SSH-2.0-OpenSSH\r\n\r\nxyz'], body: 'xyz', status: 0 },
  ];
  for (const c of cases) {
    const r = new HttpResponseReader();
    for (const ch of c.chunks) r.feed(Buffer.from(ch, 'latin1'));
    const s = r.summary();
    t.equal(s.digest, md5(c.body), c.name);
    t.equal(s.status, c.status, `${c.name}: status`);
  }
  const big = new HttpResponseReader();
  big.feed(Buffer.alloc(70 * 1024, 0x41));
  t.ok(big.garbage, 'a header that never ends is garbage');
});

t.test('response reader: the verdict does not depend on how the bytes are split', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 300 }),
    fc.boolean(),
    fc.array(fc.nat(), { maxLength: 8 }),
    (body, withLength, cuts) => {
      const head = `HTTP/1.1 200 OK\r\n${withLength ? `Content-Length: ${body.length}\r\n` : ''}\r\n`;
      const whole = Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('trailing junk')]);
      const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
      const r = new HttpResponseReader();
      let prev = 0;
      for (const p of [...points, whole.length]) { r.feed(whole.subarray(prev, p)); prev = p; }
      const s = r.summary();
      const expected = withLength ? Buffer.from(body) : Buffer.concat([body, Buffer.from('trailing junk')]);
      return s.status === 200 && s.digest === md5(expected) && r.bodyComplete === withLength;
    },
  ), { numRuns: 500 });
  t.pass('500 random bodies and splits');
});

t.test('http_get: status, digest, changed page, regex, vhost', async (t) => {
  let page = '<html>hello from rs1</html>\n';
  let status = '200 OK';
  const srv = await rawServer(t, (s) => s.end(reply(status, page)));
  const base = { connect_timeout: 2 };

  let r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/test.html', digest: md5(page) }] });
  t.ok(r.ok, `digest matches: ${r.reason}`);
  t.match(srv.requests.at(-1), /^GET \/test\.html HTTP\/1\.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127\.0\.0\.1:\d+\r\n\r\n$/);

  const digest = md5(page);
  page = '<html>hello from rs1, changed</html>\n';
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/test.html', digest }] });
  t.notOk(r.ok, 'changed page fails the digest');
  t.match(r.reason, /MD5 digest/);

  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', digest: digest.toUpperCase() }] });
  t.notOk(r.ok, 'still the changed page');

  status = '404 Not Found';
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/' }] });
  t.notOk(r.ok, '404 fails the default 200-299');
  t.match(r.reason, /status code 404/);
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', status_code: '200-299 400-499' }] });
  t.ok(r.ok, '404 passes 400-499');
  status = '503 Busy';
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', status_code: [200, '500-502'] }] });
  t.notOk(r.ok, '503 not in 200,500-502');
  status = '200 OK';

  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', regex: 'changed<' }] });
  t.ok(r.ok, 'regex matches');
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', regex: 'goodbye' }] });
  t.notOk(r.ok, 'regex does not match');
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', regex: 'goodbye', regex_no_match: true }] });
  t.ok(r.ok, 'regex_no_match inverts');
  r = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/', regex: 'HELLO', regex_options: 'caseless' }] });
  t.ok(r.ok, 'caseless');

  r = await runHttpGet(target(srv.port), { ...base, virtualhost: 'www.example.test', http_protocol: '1.1', url: [{ path: '/v' }] });
  t.ok(r.ok);
  t.match(srv.requests.at(-1), /^GET \/v HTTP\/1\.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www\.example\.test\r\n\r\n$/);
  r = await runHttpGet(target(srv.port), { ...base, virtualhost: 'a.test', url: [{ path: '/u', virtualhost: 'b.test' }] });
  t.match(srv.requests.at(-1), /Host: b\.test\r\n/, 'url virtualhost overrides the checker one');

  r = await runHttpGet({ ip: '127.0.0.1', port: 1 }, { ...base, connect_port: srv.port, url: [{ path: '/cp' }] });
  t.ok(r.ok, 'connect_port overrides the target port');

  const two = await runHttpGet(target(srv.port), { ...base, url: [{ path: '/a' }, { path: '/b', regex: 'nope' }] });
  t.notOk(two.ok, 'every url must pass');
});

t.test('ldirectord negotiate = http_get with request path and receive regex', async (t) => {
  const srv = await rawServer(t, (s, req) => s.end(reply('200 OK', req.startsWith('GET /index.html ') ? 'Server: ok' : 'nothing')));
  const p = negotiateAsHttpGet({ request: 'index.html', receive: 'Server', connect_timeout: 2 });
  t.same(p.url, [{ path: '/index.html', regex: 'Server' }]);
  t.ok((await runHttpGet(target(srv.port), p)).ok);
  const header = negotiateAsHttpGet({ request: 'other.html', receive: 'Content-Type: text/html', connect_timeout: 2 });
  t.ok((await runHttpGet(target(srv.port), header)).ok, 'receive may match a response header (the seed\'s receive="Server")');
  const miss = negotiateAsHttpGet({ request: '/other.html', receive: 'Server', connect_timeout: 2 });
  t.notOk((await runHttpGet(target(srv.port), miss)).ok);
});

t.test('ssl_get against a self-signed certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-health-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const page = 'secure page\n';
  let sni: string | undefined;
  const srv = await rawServer(t, (s) => { sni = (s as tls.TLSSocket).servername || undefined; s.end(reply('200 OK', page)); },
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  let r = await runSslGet(target(srv.port), { connect_timeout: 3, url: [{ path: '/', digest: md5(page) }] });
  t.ok(r.ok, `ssl_get digest ok: ${r.reason}`);
  t.equal(sni, undefined, 'no SNI unless enable_sni');
  r = await runSslGet(target(srv.port), { connect_timeout: 3, virtualhost: 'www.example.test', enable_sni: true, url: [{ path: '/' }] });
  t.ok(r.ok);
  t.equal(sni, 'www.example.test', 'enable_sni sends the virtualhost');
  r = await runSslGet(target(srv.port), { connect_timeout: 3, url: [{ path: '/', digest: md5('other') }] });
  t.notOk(r.ok, 'digest mismatch over TLS');
  const plain = await rawServer(t, (s) => s.end(reply('200 OK', page)));
  r = await runSslGet(target(plain.port), { connect_timeout: 2, url: [{ path: '/' }] });
  t.notOk(r.ok, 'ssl_get to a plain HTTP server fails');
});

t.test('misbehaving servers are down, fast, and never crash the checker', async (t) => {
  const garbage = await rawServer(t, (s) => s.end('\x00\x01\x02garbage\r\n\r\nmore'));
  const reset = await rawServer(t, (s) => s.resetAndDestroy());
  const midReset = await rawServer(t, (s) => { s.write('HTTP/1.0 200 OK\r\n\r\npartial'); setTimeout(() => s.resetAndDestroy(), 20); });
  const silentClose = await rawServer(t, (s) => s.end());
  const trickle = await rawServer(t, (s) => {
    const msg = reply('200 OK', 'x'.repeat(200));
    let i = 0;
    const iv = setInterval(() => { if (i >= msg.length || s.destroyed) { clearInterval(iv); return; } s.write(msg[i++]); }, 50);
    s.on('close', () => clearInterval(iv));
  });
  const endless = await rawServer(t, (s) => {
    s.write('HTTP/1.0 200 OK\r\n\r\n');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = (): void => { while (!s.destroyed && s.write(chunk)); if (!s.destroyed) s.once('drain', pump); };
    pump();
  });
  const hugeHeader = await rawServer(t, (s) => { s.write('HTTP/1.0 200 OK\r\nX: '); s.write(Buffer.alloc(100 * 1024, 0x61)); });
  const p = { connect_timeout: 1, url: [{ path: '/' }] };
  const cases: Array<[string, number]> = [
    ['garbage', garbage.port], ['reset', reset.port], ['reset mid-body', midReset.port],
    ['closed without reply', silentClose.port], ['trickle', trickle.port], ['endless body', endless.port],
    ['huge header', hugeHeader.port],
  ];
  for (const [name, port] of cases) {
    const t0 = performance.now();
    const r = await runHttpGet(target(port), p);
    const ms = performance.now() - t0;
    t.notOk(r.ok, `${name}: down (${r.reason})`);
    t.ok(ms < 2000, `${name}: settled in ${ms.toFixed(0)} ms (connect_timeout 1 s)`);
  }
  const closed = await rawServer(t, () => {});
  const dead = await new Promise<number>((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const port = (s.address() as net.AddressInfo).port; s.close(() => res(port)); }); });
  const r = await runHttpGet(target(dead), p);
  t.notOk(r.ok, `refused: ${r.reason}`);
  void closed;
});

t.test('a server that accepts and never answers is cut at connect_timeout; others are not blocked', async (t) => {
  const hang = await rawServer(t, () => {});
  const good = await rawServer(t, (s) => s.end(reply('200 OK', 'ok')));
  const t0 = performance.now();
  let goodAt = 0;
  const [hung, ok] = await Promise.all([
    runHttpGet(target(hang.port), { connect_timeout: 1.5, url: [{ path: '/' }] }),
    runHttpGet(target(good.port), { connect_timeout: 1.5, url: [{ path: '/' }] }).then((r) => { goodAt = performance.now() - t0; return r; }),
  ]);
  const hungMs = performance.now() - t0;
  t.notOk(hung.ok, `hung server down: ${hung.reason}`);
  t.ok(hungMs >= 1400 && hungMs < 2500, `cut at ~1.5 s (${hungMs.toFixed(0)} ms)`);
  t.ok(ok.ok, 'the healthy server is up');
  t.ok(goodAt < 1000, `the healthy check finished in ${goodAt.toFixed(0)} ms, not after the hung one`);
  const tcpHang = await runTcpCheck(target(hang.port), { connect_timeout: 1 });
  t.ok(tcpHang.ok, 'tcp_check only needs the connection');
});

t.test('abort cuts a probe at once', async (t) => {
  const hang = await rawServer(t, () => {});
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(), 100);
  const r = await runHttpGet(target(hang.port), { connect_timeout: 5, url: [{ path: '/' }] }, { signal: ac.signal });
  t.notOk(r.ok);
  t.ok(performance.now() - t0 < 1000, 'aborted well before the timeout');
});

t.test('judgeHttpResponse order: status before digest before regex', async (t) => {
  const s = { status: 500, contentLength: 2, headerText: '', bodyBytes: 2, digest: md5('ok'), bodyText: 'ok' };
  t.match(judgeHttpResponse({ path: '/', digest: md5('no'), regex: 'x' }, s).reason, /status code 500/);
  t.match(judgeHttpResponse({ path: '/', digest: md5('no'), regex: 'x' }, { ...s, status: 200 }).reason, /MD5/);
  t.match(judgeHttpResponse({ path: '/', digest: md5('ok'), regex: 'x' }, { ...s, status: 200 }).reason, /regex/);
  t.ok(judgeHttpResponse({ path: '/', digest: md5('ok'), regex: 'o' }, { ...s, status: 200 }).ok);
});
