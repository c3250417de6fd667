// Issue 4: http_get with a digest (a changed page takes the server down) and ssl_get against
// a server with a self-signed certificate (up while it answers, down once it stops), on a
// real director in the lab. Both checks start with alpha (down until checked), so the real
// server entering the table proves the check succeeded.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { labExec } from '../../src/lab/index.js';
import { ulvsIn } from '../e2e/director.js';
import { drConfig, healthLog, runDirector, startHelperServer, startLab, waitFor, watchTable } from './support.js';

const PREFIX = 'hhc-';
const RS1 = '198.18.0.10:80';
const RS3 = '198.18.0.30:80';
const PAGE_PORT = 8081;
const TLS_PORT = 8443;
// delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1, + 1 s.
const DETECTION_BOUND_MS = 1000 + 2000 + 1000 + 1000;

t.test('http_get digest and ssl_get with a self-signed certificate', async (t) => {
  const lab = await startLab(t, PREFIX);
  const work = mkdtempSync(join(tmpdir(), 'ulvs-hhc-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  // rs1: a page that the test can change, on its own port.
  const page = join(work, 'test.html');
  writeFileSync(page, '<html><body>rs1 original page</body></html>\n');
  await startHelperServer(t, lab.nodes.rs1.name, ['file', String(PAGE_PORT), page]);
  const genhash = await ulvsIn(lab.nodes.dir1.name, ['genhash', '-s', '198.18.0.10', '-p', String(PAGE_PORT), '-u', '/test.html']);
  t.equal(genhash.code, 0, `ulvs genhash fetched the page ${genhash.stderr}`);
  const digest = genhash.stdout.trim().split('\n').at(-1)!.trim();
  const md5 = createHash('md5').update('<html><body>rs1 original page</body></html>\n').digest('hex');
  t.equal(digest, md5, 'genhash prints the MD5 of the body');

  // rs3: HTTPS with a fresh self-signed certificate.
  const key = join(work, 'key.pem');
  const cert = join(work, 'cert.pem');
  const openssl = await labExec(lab.nodes.rs3.name, ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '1', '-subj', '/CN=198.18.0.30'], { timeoutMs: 30_000 });
  t.equal(openssl.code, 0, 'openssl made a self-signed certificate', { stderr: openssl.stderr.slice(-300) });
  const tls = await startHelperServer(t, lab.nodes.rs3.name, ['https', String(TLS_PORT), key, cert, 'rs3-tls']);
  const sslHash = await ulvsIn(lab.nodes.dir1.name, ['genhash', '-S', '-s', '198.18.0.30', '-p', String(TLS_PORT), '-u', '/']);
  t.equal(sslHash.code, 0, `genhash -S talks TLS to the self-signed server ${sslHash.stderr}`);

  const timing = 'connect_timeout: 1, retry: 1, delay_before_retry: 1, alpha: true';
  const config = drConfig([
    `{ ip: 198.18.0.10, port: 80, weight: 1, http_get: { connect_port: ${PAGE_PORT}, url: [ { path: /test.html, digest: ${digest} } ], ${timing} } }`,
    '{ ip: 198.18.0.20, port: 80, weight: 1 }',
    `{ ip: 198.18.0.30, port: 80, weight: 1, ssl_get: { connect_port: ${TLS_PORT}, url: [ { path: /, status_code: 200 } ], ${timing} } }`,
  ], 'delay_loop: 1');
  const { director, dir1 } = await runDirector(t, lab, config);
  const table = watchTable(t, dir1);

  const bothUp = await waitFor(() => { const s = table.current(); return s !== undefined && RS1 in s && RS3 in s; }, 5000);
  t.ok(bothUp, 'the digest check and the ssl_get check bring rs1 and rs3 up');
  const list = await ulvsIn(dir1, ['list', '-n']);
  t.match(list.stdout, /198\.18\.0\.10:80 +Route +1 /, '`ulvs list -n` shows rs1');
  t.match(list.stdout, /198\.18\.0\.30:80 +Route +1 /, '`ulvs list -n` shows rs3');

  const changedAt = Date.now();
  writeFileSync(page, '<html><body>rs1 CHANGED page</body></html>\n');
  const rs1Out = await waitFor(() => table.firstAfter(changedAt, (s) => !(RS1 in s)), DETECTION_BOUND_MS + 5000);
  t.ok(rs1Out !== undefined, 'a changed page takes rs1 down');
  t.ok(rs1Out! - changedAt <= DETECTION_BOUND_MS, `rs1 left ${rs1Out! - changedAt} ms after its page changed (bound ${DETECTION_BOUND_MS} ms)`);
  const rs1Down = healthLog(director.log()).find((e) => e.rsKey === RS1 && !e.up && e.time >= changedAt);
  t.match(rs1Down?.reason ?? '', /digest/i, `the logged reason names the digest (${rs1Down?.reason})`);
  t.ok(RS3 in (table.current() ?? {}), 'rs3 is still up');

  const stoppedAt = Date.now();
  await tls.stop();
  const rs3Out = await waitFor(() => table.firstAfter(stoppedAt, (s) => !(RS3 in s)), DETECTION_BOUND_MS + 5000);
  t.ok(rs3Out !== undefined, 'ssl_get takes rs3 down once its HTTPS server stops');
  t.ok(rs3Out! - stoppedAt <= DETECTION_BOUND_MS, `rs3 left ${rs3Out! - stoppedAt} ms after the stop (bound ${DETECTION_BOUND_MS} ms)`);
  const final = await ulvsIn(dir1, ['list', '-n']);
  t.notMatch(final.stdout, /198\.18\.0\.(10|30):80/, '`ulvs list -n` shows neither rs1 nor rs3');
  t.match(final.stdout, /198\.18\.0\.20:80 +Route +1 /, 'the unchecked rs2 stays');
});
