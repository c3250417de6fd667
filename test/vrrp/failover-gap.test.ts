// Failover gap seen by a client (ms from the last TCP connect that worked before the master
// was killed with -9 to the first after), for ulvs and keepalived in every pairing, VRRPv2
// advert_int 1 and VRRPv3 advert_int 0.1. The backup must take over within its master-down
// interval plus the time since the master's last advert (< one interval) plus a margin for
// the address add, the GARP and the client's 10 ms probe period.
import t from 'tap';
import { execFileSync } from 'node:child_process';

import {
  createVrrpLab, events, hasVip, keepalivedConf, keepalivedPids, startKeepalived, startUlvs, waitForOrFail, type Runner,
} from './fixtures/lab.js';
import { masterDownIntervalMs } from '../../src/vrrp/state.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const VIP = '198.18.0.100';
const PORT = 8080;
const MARGIN_MS = 300;
const lab = await createVrrpLab('tvrg-', 3);
t.teardown(() => lab.destroy());
const [n1, n2, client] = lab.nodes;

// A TCP listener on every director, so whoever holds the VIP answers.
for (const ns of [n1, n2]) {
  const server = spawn('ip', ['netns', 'exec', ns, 'python3', '-c',
    `import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('0.0.0.0', ${PORT}))\ns.listen(512)\nwhile True:\n  c,_=s.accept()\n  c.close()`], { stdio: 'ignore' });
  t.teardown(() => server.kill('SIGKILL'));
}

type Side = 'ulvs' | 'keepalived';
interface Speaker { kind: Side; name: string; runner: Runner; ns: string }

function startSide(kind: Side, ns: string, name: string, version: 2 | 3, state: 'MASTER' | 'BACKUP', priority: number): Speaker {
  const advertInt = version === 2 ? 1 : 0.1;
  const runner = kind === 'ulvs'
    ? startUlvs(lab, ns, name, { vrrp_instances: [{
      name: 'VI_1', state, interface: 'eth0', virtual_router_id: 51, priority, advert_int: advertInt, version,
      authentication: version === 2 ? { auth_type: 'PASS', auth_pass: '1111' } : null,
      virtual_ipaddress: [{ address: `${VIP}/32`, dev: 'eth0' }], garp_master_delay: 5, garp_master_repeat: 5,
    }] })
    : startKeepalived(lab, ns, name, keepalivedConf({ state, priority, version, advertInt }));
  return { kind, name, runner, ns };
}

function kill9(s: Speaker): void {
  if (s.kind === 'keepalived') {
    for (const pid of keepalivedPids(lab, s.name).reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  }
  s.runner.kill('SIGKILL');
}

async function ready(s: Speaker): Promise<void> {
  if (s.kind === 'ulvs') await waitForOrFail('ulvs to start', () => events(s.runner).some((e) => e.event === 'started'), 30000);
  else await waitForOrFail('keepalived to start', () => s.runner.output.some((l) => /Entering (BACKUP|MASTER) STATE/.test(l)), 10000);
}

const results: string[] = [];
let round = 0;
for (const version of [2, 3] as const) {
  for (const [masterKind, backupKind] of [['ulvs', 'ulvs'], ['ulvs', 'keepalived'], ['keepalived', 'keepalived'], ['keepalived', 'ulvs']] as const) {
    t.test(`v${version}: ${masterKind} master killed, ${backupKind} backup takes over`, async (t) => {
      round++;
      for (const ns of [n1, n2]) { try { execFileSync('ip', ['-n', ns, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0'], { stdio: 'ignore' }); } catch { /* absent */ } }
      const master = startSide(masterKind, n1, `m${round}`, version, 'MASTER', 150);
      t.teardown(() => kill9(master));
      await ready(master);
      await waitForOrFail('master to hold the VIP', () => hasVip(n1, VIP), 8000);
      const backup = startSide(backupKind, n2, `b${round}`, version, 'BACKUP', 100);
      t.teardown(() => kill9(backup));
      await ready(backup);
      const probe = spawn('ip', ['netns', 'exec', client, process.execPath, ...process.execArgv.filter((a) => a.includes('typescript')),
        join(import.meta.dirname, 'fixtures', 'client.ts'), VIP, String(PORT)], { stdio: ['ignore', 'pipe', 'ignore'] });
      t.teardown(() => probe.kill('SIGKILL'));
      const oks: number[] = [];
      probe.stdout.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) { const m = /"ok":(\d+)/.exec(line); if (m) oks.push(Number(m[1])); }
      });
      await waitForOrFail('client traffic through the VIP', () => oks.length > 20, 20000);
      // Kept: the window is under test (the backup must not hold the VIP while the master lives).
      await new Promise((r) => setTimeout(r, 1000));
      t.notOk(hasVip(n2, VIP), 'backup does not hold the VIP before the kill');
      // The master host dies: off the wire first (its listener and VIP would otherwise keep
      // answering), then its speaker is killed with -9 (no priority-0 advert).
      execFileSync('ip', ['-n', n1, 'link', 'set', 'eth0', 'down']);
      kill9(master);
      const killedAt = Date.now();
      t.teardown(() => { execFileSync('ip', ['-n', n1, 'link', 'set', 'eth0', 'up']); });
      await waitForOrFail('client traffic after the failover', () => oks.some((x) => x > killedAt), 10000, 10);
      const before = Math.max(...oks.filter((x) => x <= killedAt));
      const after = Math.min(...oks.filter((x) => x > killedAt));
      const gap = after - before;
      const mdi = masterDownIntervalMs({ version, advertIntervalCs: version === 2 ? 100 : 10, priority: 100, basePriority: 100,
        preempt: true, preemptDelayMs: 0, initialState: 'BACKUP', primaryIp: 0 }, version === 2 ? 100 : 10);
      const bound = mdi + (version === 2 ? 1000 : 100) + MARGIN_MS;
      t.ok(gap <= bound, `client gap ${gap} ms (bound ${bound.toFixed(0)}: master-down ${mdi.toFixed(0)} + one interval + ${MARGIN_MS})`);
      results.push(`v${version} ${masterKind}->${backupKind}: client gap ${gap} ms (off the wire to first reply ${after - killedAt} ms)`);
    });
  }
}
t.teardown(() => { for (const r of results) console.log(`# measured ${r}`); });
