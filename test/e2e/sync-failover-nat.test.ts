// Zero-reset failover with connection sync, NAT: the backup must rewrite the replies of
// connections it never saw (the real servers' gateway moves with the VIP). Also: sync messages
// a stranger on the segment sends, unsigned or signed with another key, are dropped and counted.
import t from 'tap';
import { join } from 'node:path';
import { labExec, waitForOrFail } from '../../src/lab/index.js';
import { REPO, ulvsIn } from './director.js';
import { CONNECTIONS, statsOf } from './failover-harness.js';
import { syncFailover } from './sync-support.js';

/** Runs in the client namespace: one connection record for the VIP, sent as `mode` says. */
function injector(mode: 'wrong-key' | 'unsigned'): string {
  const dist = join(REPO, 'dist/src/sync');
  return `
import { createSocket } from 'node:dgram';
import { encodeSyncMessages } from '${dist}/codec.js';
const record = { family: 4, proto: 6, flags: 0x0003 | 0x0080, state: 1, clientPort: 4444, vport: 80, rsPort: 80, fwmark: 0,
  timeout: 900, clientIp: 0xc6120001, vip: 0xc6120064, rsIp: 0xc612010a };
const [msg] = encodeSyncMessages([record], { syncId: 7, ${mode === 'wrong-key' ? "key: 'not-the-lab-key-at-all'" : ''} });
const s = createSocket('udp4');
s.bind(0, '198.18.0.1', () => {
  s.setMulticastInterface('198.18.0.1');
  s.send(msg, 8848, '224.0.0.81', (err) => { s.close(); if (err) { console.error(err.message); process.exit(1); } });
});`;
}

t.test('rr, NAT, sync: kill -9 of the MASTER breaks 0 of 30; forged sync messages are dropped and counted', { timeout: 300_000 }, async (t) => {
  let before: Record<string, number> = {};
  const run = await syncFailover(t, 'sy4-', { lbAlgo: 'rr', kind: 'NAT', sync: true, failback: false }, async (lab) => {
    before = await statsOf(lab.nodes.dir2.name);
    for (const mode of ['wrong-key', 'unsigned'] as const) {
      const sent = await labExec(lab.nodes.client.name, [process.execPath, '--input-type=module', '-e', injector(mode)]);
      t.equal(sent.code, 0, `the stranger sent a ${mode} message ${sent.stderr}`);
    }
    await waitForOrFail('dir2 to count both forgeries', async () => {
      const s = await statsOf(lab.nodes.dir2.name);
      return s.sync_dropped_bad_signature > before.sync_dropped_bad_signature && s.sync_dropped_unsigned > before.sync_dropped_unsigned;
    }, 10_000, 100);
    // The master keeps syncing meanwhile, so count the forged connection itself, not totals.
    const conns = JSON.parse((await ulvsIn(lab.nodes.dir2.name, ['conns', '--json'])).stdout) as { source: string }[];
    t.notOk(conns.some((c) => c.source === '198.18.0.1:4444'), 'neither forged record was applied');
  });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.equal(run.brokenAtEnd, 0, 'none broke afterwards either');
  t.ok(run.dir2Stats.sync_applied >= CONNECTIONS, `the backup held them all (applied ${run.dir2Stats.sync_applied})`);
  t.equal(run.dir2Stats.drop_reply_no_flow, 0, 'the new master rewrote every reply');
  t.ok(run.streams.every((s) => s.bodies.length === 1), 'each connection stayed on its real server');
});
