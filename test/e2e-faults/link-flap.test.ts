// Fault under load: the director's own interface flaps (ip link set eth0 down, then up).
// Forwarding must resume by itself once the link is back, over AF_XDP and over TAP.
import t from 'tap';
import { faultLab, loadFrom, must, reportFault } from './support.js';

for (const io of ['afxdp', 'tap'] as const) {
  t.test(`forwarding resumes after the director's eth0 flaps (${io})`, async (t) => {
    const f = await faultLab(t, `k6lf${io[0]}-`, { io });
    const warm = await loadFrom(f.client, f.url, 1000);
    t.equal(warm.failed, 0, 'load flows before the flap');
    const loading = loadFrom(f.client, f.url, 7000);
    await new Promise((r) => setTimeout(r, 1500));
    await must(f.dir1, ['ip', 'link', 'set', 'eth0', 'down']);
    await new Promise((r) => setTimeout(r, 1000));
    await must(f.dir1, ['ip', 'link', 'set', 'eth0', 'up']);
    const load = await loading;
    reportFault(t, `director eth0 down 1 s / up (${io})`, load);
    const after = await loadFrom(f.client, f.url, 1500);
    t.equal(after.failed, 0, `no request fails after the link is back (${JSON.stringify(after.errors)})`);
    t.same(Object.keys(after.servers).sort(), ['rs1', 'rs2', 'rs3'], 'every real server gets traffic again');
    t.ok(load.maxGapMs < 6000, `the outage is bounded (${load.maxGapMs} ms for a 1 s flap)`);
  });
}
