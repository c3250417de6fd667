// The LVS keywords that need a real server: HTTP_GET's regex_min_offset / regex_max_offset
// against a real HTTP server (keepalived's offsets count from the start of the returned data),
// and fast_recovery with the real checker and a server that comes back.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHttpGet } from '../../src/health/http.js';
import { HealthManager } from '../../src/health/manager.js';
import { waitFor } from '../../src/lab/index.js';

async function server(t: Tap.Test, body: () => { status: number; text: string }) {
  const srv = http.createServer((_req, res) => {
    const { status, text } = body();
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return (srv.address() as AddressInfo).port;
}

t.test('regex_min_offset / regex_max_offset over a real HTTP response', async (t) => {
  const port = await server(t, () => ({ status: 200, text: 'padding-padding-READY' }));
  const target = { ip: '127.0.0.1', port };
  const conn = { connect_timeout: 5 };
  const whole = await runHttpGet(target, { ...conn, url: [{ path: '/', regex: 'HTTP/1\\.[01] 200' }] });
  t.equal(whole.ok, true, `the status line is at offset 0 of the returned data (${whole.reason})`);
  const skipped = await runHttpGet(target, { ...conn, url: [{ path: '/', regex: 'HTTP/1\\.[01] 200', regex_min_offset: 1 }] });
  t.equal(skipped.ok, false, 'regex_min_offset 1 skips a match that starts at 0');
  const early = await runHttpGet(target, { ...conn, url: [{ path: '/', regex: 'READY', regex_max_offset: 20 }] });
  t.equal(early.ok, false, 'READY starts beyond regex_max_offset 20: no match');
  t.match(early.reason, /regex did not match/);
  const inWindow = await runHttpGet(target, { ...conn, url: [{ path: '/', regex: 'READY', regex_min_offset: 20 }] });
  t.equal(inWindow.ok, true, 'inside the window it matches');
});

t.test('fast_recovery with the real HTTP_GET checker: up after one good probe instead of one per url', async (t) => {
  let healthy = false;
  const port = await server(t, () => (healthy ? { status: 200, text: 'ok' } : { status: 503, text: 'no' }));
  const urls = [{ path: '/a' }, { path: '/b' }, { path: '/c' }];
  const runs: Record<string, number> = {};
  for (const fastRecovery of [true, false]) {
    healthy = false;
    const hm = new HealthManager([{
      serviceId: `vs-${fastRecovery}`, rsKey: `127.0.0.1:${port}`, target: { ip: '127.0.0.1', port }, type: 'http_get',
      params: { delay_loop: 0.2, warmup: 0, connect_timeout: 5, retry: 0, url: urls, fast_recovery: fastRecovery },
    }]);
    hm.start();
    t.teardown(() => hm.stop());
    await waitFor(() => !hm.status()[0].up, 20_000);
    const before = [...hm.probeRuns().values()][0];
    healthy = true;
    await waitFor(() => hm.status()[0].up, 20_000);
    runs[String(fastRecovery)] = [...hm.probeRuns().values()][0] - before;
    await hm.stop();
  }
  t.equal(runs.true, 1, 'fast_recovery: the first good probe brings it up');
  t.equal(runs.false, 3, 'without: one good probe per url, a delay_loop apart (keepalived: one url per delay_loop)');
});
