// `ulvs genhash` against keepalived's own genhash (Debian keepalived 2.2.7) on a local server.
import t from 'tap';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { runGenhash, genhashCommand, dumpBuffer } from '../../src/cli/genhash.js';

const run = promisify(execFile);

const pages: Record<string, string> = {
  '/test.html': 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\nhello\n',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n3\r\nlo\n\r\n0\r\n\r\n',
  '/missing': 'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n',
  '/nolen': 'HTTP/1.0 200 OK\r\n\r\n<html><body>binary \x01\x02\xff</body></html>',
};

async function server(t: Tap.Test): Promise<{ port: number; requests: string[] }> {
  const requests: string[] = [];
  const srv = net.createServer((s) => {
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      requests.push(buf);
      const path = /^GET (\S+)/.exec(buf)?.[1] ?? '/';
      s.end(Buffer.from(pages[path] ?? pages['/missing'], 'latin1'));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  return { port: (srv.address() as net.AddressInfo).port, requests };
}

function sink(): { write(s: string): void; text: string } {
  return { text: '', write(s: string) { this.text += s; } };
}

t.test('keepalived genhash is installed (the oracle)', async (t) => {
  const r = await run('genhash', ['-h']).catch((e: { stdout?: string; stderr?: string }) => e);
  t.match(`${r.stdout}${r.stderr}`, /Usage: genhash/);
});

t.test('digest and verbose dump equal keepalived genhash', async (t) => {
  const srv = await server(t);
  for (const path of Object.keys(pages)) {
    const theirs = await run('genhash', ['-s', '127.0.0.1', '-p', String(srv.port), '-u', path]);
    const theirReq = srv.requests.at(-1);
    const out = sink(); const err = sink();
    const code = await runGenhash({ server: '127.0.0.1', port: srv.port, url: path }, out, err);
    t.equal(code, 0);
    t.equal(out.text, theirs.stdout, `${path}: same output (${theirs.stdout.trim()})`);
    t.equal(srv.requests.at(-1), theirReq, `${path}: same request bytes`);

    const theirsV = await run('genhash', ['-v', '-s', '127.0.0.1', '-p', String(srv.port), '-u', path, '-V', 'www.example.test', '-P', '1.1']);
    const theirReqV = srv.requests.at(-1);
    const outV = sink();
    await runGenhash({ server: '127.0.0.1', port: srv.port, url: path, verbose: true, virtualhost: 'www.example.test', protocol: '1.1' }, outV, sink());
    const strip = (s: string) => s.replace(/= \d+ usecs/, '= N usecs');
    t.equal(strip(outV.text), strip(theirsV.stdout), `${path}: same verbose dump`);
    t.equal(srv.requests.at(-1), theirReqV, `${path}: same request with vhost and HTTP/1.1`);
  }
  const hello = sink();
  await runGenhash({ server: '127.0.0.1', port: srv.port, url: '/test.html' }, hello, sink());
  t.equal(hello.text.trim(), createHash('md5').update('hello\n').digest('hex'), 'md5 of the body');
});

t.test('connection failure: clear line, non-zero exit', async (t) => {
  const port = await new Promise<number>((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
  const out = sink(); const err = sink();
  const code = await runGenhash({ server: '127.0.0.1', port, url: '/', timeout: 1 }, out, err);
  t.equal(code, 1);
  t.equal(out.text, '');
  t.match(err.text, /^Connection failed to 127\.0\.0\.1:\d+: .*ECONNREFUSED\n$/);
});

t.test('command line', async (t) => {
  const srv = await server(t);
  const cmd = genhashCommand().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const writes: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => { writes.push(String(s)); return true; }) as typeof process.stdout.write;
  try {
    await cmd.parseAsync(['-s', '127.0.0.1', '-p', String(srv.port), '-u', '/test.html'], { from: 'user' });
  } finally {
    process.stdout.write = orig;
  }
  t.equal(writes.join(''), 'b1946ac92492d2347c6235b4d2611184\n');
  t.equal(process.exitCode, 0);
  process.exitCode = 0;
  await t.rejects(genhashCommand().exitOverride().configureOutput({ writeErr: () => {} })
    .parseAsync(['-s', 'not-an-ip', '-p', '80', '-u', '/'], { from: 'user' }), /IPv4 or IPv6/);
  await t.rejects(genhashCommand().exitOverride().configureOutput({ writeErr: () => {} })
    .parseAsync(['-s', '127.0.0.1', '-p', '99999', '-u', '/'], { from: 'user' }), /port/);
  await t.rejects(genhashCommand().exitOverride().configureOutput({ writeErr: () => {} })
    .parseAsync(['-s', '127.0.0.1', '-p', '80'], { from: 'user' }), /url/);
});

t.test('dump format', async (t) => {
  t.equal(dumpBuffer(Buffer.from('hello\n')),
    '0000  68 65 6c 6c 6f 0a       -                           hello.          \n');
});
