// Faults under load on the real-server side, one lab for all three (each phase is a fault in
// the middle of an HTTP load through the VIP):
//  - rs1's link goes down for 2 s and comes back: the TCP check takes it out and back in;
//  - rs2 is replaced by a box with the same IP and a new MAC (no gratuitous ARP, the hard
//    case: the kernel keeps the old MAC REACHABLE for up to 45 s): the TCP check takes rs2 out,
//    the director then resolves it afresh (NextHopCache.revalidate) and traffic follows;
//  - the director's neighbour table is flushed: the last known MACs keep forwarding.
import t from 'tap';
import { drConfig } from '../e2e-health/support.js';
import { waitFor } from '../../src/lab/index.js';
import { faultLab, loadFrom, must, reportFault } from './support.js';

const check = 'tcp_check: { connect_timeout: 1, retry: 1, delay_before_retry: 1 }';
const yaml = drConfig([10, 20, 30].map((o) => `{ ip: 198.18.0.${o}, port: 80, weight: 1, ${check} }`), 'delay_loop: 1')
  .replace('io: auto', 'io: afxdp');
// The check's detection (delay_loop 1 + connect_timeout 1 + retry 1 x (1 + 1) s = 4 s), then an
// ARP exchange and the check's next success; the rest is margin for a busy machine.
const NEW_MAC_BOUND_MS = 4000 + 1000 + 1000 + 9000;

t.test('real-server faults under load', async (t) => {
  const f = await faultLab(t, 'k6rs-', { io: 'afxdp', yaml });
  const warm = await waitFor(async () => { const l = await loadFrom(f.client, f.url, 800); return l.failed === 0 && Object.keys(l.servers).length === 3; }, 20_000, 200);
  t.ok(warm, 'load reaches all three real servers before the faults');

  await t.test('rs1 link down 2 s and up', async (t) => {
    const rs1 = f.lab.nodes.rs1.name;
    const loading = loadFrom(f.client, f.url, 9000);
    await new Promise((r) => setTimeout(r, 1000));
    await must(rs1, ['ip', 'link', 'set', 'eth0', 'down']);
    await new Promise((r) => setTimeout(r, 2000));
    await must(rs1, ['ip', 'link', 'set', 'eth0', 'up']);
    const load = await loading;
    reportFault(t, 'real server link down 2 s / up', load);
    t.ok(load.failTimes.every((at) => at >= 900 && at < 6000), `failures only while rs1 was out or being taken out (${JSON.stringify(load.failTimes.slice(0, 20))})`);
    const back = await waitFor(async () => { const l = await loadFrom(f.client, f.url, 800); return l.failed === 0 && (l.servers.rs1 ?? 0) > 0 && l; }, 20_000, 200);
    t.ok(back, 'rs1 serves again and nothing fails');
  });

  await t.test('rs2 replaced by a box with the same IP and a new MAC', async (t) => {
    const rs2 = f.lab.nodes.rs2.name;
    const newMac = '02:18:00:00:aa:14';
    const loading = loadFrom(f.client, f.url, 8000);
    await new Promise((r) => setTimeout(r, 1000));
    const replacedAt = Date.now();
    await must(rs2, ['ip', 'link', 'set', 'eth0', 'down']);
    await must(rs2, ['ip', 'link', 'set', 'eth0', 'address', newMac]);
    await must(rs2, ['ip', 'link', 'set', 'eth0', 'up']);
    await loading;
    const followed = await waitFor(() => new RegExp(`"time":(\\d+)[^\\n]*"mac":"${newMac}"`).exec(f.director.log()), NEW_MAC_BOUND_MS + 10_000, 100);
    // The director's log line says when it took the new MAC (same host clock as replacedAt).
    const followMs = followed ? Number(followed[1]) - replacedAt : Date.now() - replacedAt;
    t.ok(followed, 'the director resolves rs2 to its new MAC');
    t.ok(followMs < NEW_MAC_BOUND_MS, `within the neighbour refresh bound (${followMs} ms, bound ${NEW_MAC_BOUND_MS} ms)`);
    const after = await waitFor(async () => { const l = await loadFrom(f.client, f.url, 800); return l.failed === 0 && (l.servers.rs2 ?? 0) > 0 && l; }, 20_000, 200);
    t.ok(after, 'rs2 (the new box) serves and nothing fails');
    t.comment(`FAULT-MATRIX | real server replaced (new MAC, no GARP) | traffic follows after ${followMs} ms`);
  });

  await t.test('the director\'s neighbour table is flushed', async (t) => {
    const loading = loadFrom(f.client, f.url, 5000);
    await new Promise((r) => setTimeout(r, 1500));
    await must(f.dir1, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    const load = await loading;
    reportFault(t, 'director neighbour table flushed', load);
    t.equal(load.failed, 0, `no request fails (${JSON.stringify(load.errors)})`);
    t.same(Object.keys(load.servers).sort(), ['rs1', 'rs2', 'rs3'], 'all three real servers keep serving');
  });
});
