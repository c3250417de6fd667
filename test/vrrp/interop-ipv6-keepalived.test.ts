// VRRPv3 over IPv6 on the wire with keepalived 2.2.7 (issue 16 part 5), in the dual-stack lab
// (prefix vck-). The ulvs side is the addon's raw IPv6 socket with codec6 (fixtures/vrrp6-peer.ts);
// the speaker does not run IPv6 instances yet (config refuses them), so this proves the socket
// and the codec against keepalived in both directions:
// - our adverts (priority 200, from fe80::2) keep keepalived (priority 100) BACKUP;
// - kill -9 our sender: keepalived takes over after its master-down interval (3 x 1 s + skew);
// - keepalived's adverts decode: from its link-local fe80::3 to ff02::12, hop limit 255, the
//   pseudo-header checksum good, its VIP listed;
// - our sender again: keepalived sees the higher priority and goes back to BACKUP (preempt).
import t from 'tap';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labExec, sleep } from '../../src/lab/index.js';
import { createVrrpLab, startKeepalived, waitForOrFail } from './fixtures/lab.js';

const PREFIX = 'vck-';
const VIP6 = '2001:2::100';
const here = dirname(fileURLToPath(import.meta.url));
// keepalived's master-down interval at priority 100, advert_int 1: 3 s + (256 - 100) / 256 s.
const MASTER_DOWN_MS = 3000 + Math.round((256 - 100) / 256 * 1000);

function peer(ns: string, args: string[]): { lines: string[]; kill(): void; ready: Promise<void> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv.filter((a) => a.includes('typescript')),
    join(here, 'fixtures', 'vrrp6-peer.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  child.stdout.on('data', (d: Buffer) => lines.push(...String(d).split('\n').filter(Boolean)));
  return {
    lines,
    kill: () => { try { child.kill('SIGKILL'); } catch { /* gone */ } },
    ready: waitForOrFail(`vrrp6 peer in ${ns}`, () => lines.includes('ready'), 60_000).then(() => undefined),
  };
}

async function holdsVip(ns: string): Promise<boolean> {
  const r = await labExec(ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
  return r.stdout.includes(` ${VIP6}/`);
}

const CONF = `global_defs {
  router_id ka6
}
vrrp_instance VI6 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP6}/64 dev eth0
  }
}
`;

t.test('VRRPv3 over IPv6 with keepalived 2.2.7, both directions', async (t) => {
  const lab = await createVrrpLab(PREFIX, 3);
  t.teardown(() => lab.destroy());
  const [, dir1, dir2] = lab.nodes;

  const sender = peer(dir1, ['send', 'fe80::2', '200', VIP6]);
  t.teardown(() => sender.kill());
  await sender.ready;
  const ka = startKeepalived(lab, dir2, 'ka6', CONF);
  t.teardown(() => ka.kill('SIGKILL'));
  await waitForOrFail('keepalived to enter BACKUP', () => ka.output.some((l) => /VI6.*Entering BACKUP STATE/.test(l)), 30_000);
  // Twice the master-down interval: a keepalived that did not take our adverts would be MASTER by then.
  await sleep(2 * MASTER_DOWN_MS);
  t.notOk(ka.output.some((l) => /VI6.*Entering MASTER STATE/.test(l)), 'keepalived stays BACKUP under our adverts');
  t.notOk(await holdsVip(dir2), 'and does not hold the VIP');

  const killedAt = Date.now();
  sender.kill();
  await waitForOrFail('keepalived to take over', () => holdsVip(dir2), 30_000);
  const takeoverMs = Date.now() - killedAt;
  // Counted from the kill, not from our last advert (up to 1 s earlier), so it can be below the interval.
  t.comment(`keepalived took over ${takeoverMs} ms after kill -9 of our sender (master-down interval ${MASTER_DOWN_MS} ms)`);
  t.ok(takeoverMs >= 3000 - 300, 'not before the three missed adverts');
  t.ok(takeoverMs <= MASTER_DOWN_MS + 3000, 'within the master-down interval, with margin for a busy machine');
  t.ok(ka.output.some((l) => /VI6.*Entering MASTER STATE/.test(l)), 'its log says MASTER');

  const receiver = peer(dir1, ['receive']);
  t.teardown(() => receiver.kill());
  await receiver.ready;
  await waitForOrFail('two adverts from keepalived', () => receiver.lines.filter((l) => l.includes('"advert"')).length >= 2, 30_000);
  const decoded = receiver.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { advert?: Record<string, unknown>; drop?: string });
  t.same(decoded.filter((d) => d.drop), [], 'nothing dropped: hop limit, version, checksum all good');
  t.same(decoded[0].advert, { vrid: 51, priority: 100, intervalCs: 100, addresses: [VIP6], source: 'fe80::3', destination: 'ff02::12', hopLimit: 255 },
    'keepalived\'s advert: from its link-local to ff02::12, hop limit 255, its VIP');

  const again = peer(dir1, ['send', 'fe80::2', '200', VIP6]);
  t.teardown(() => again.kill());
  await again.ready;
  await waitForOrFail('keepalived to give the VIP up to our higher priority', async () => !(await holdsVip(dir2)), 30_000);
  t.ok(ka.output.filter((l) => /VI6.*Entering BACKUP STATE/.test(l)).length >= 2, 'keepalived went back to BACKUP (preempted by priority 200)');
});
