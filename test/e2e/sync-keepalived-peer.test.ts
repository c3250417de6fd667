// ulvs as BACKUP behind a keepalived MASTER: keepalived's sync daemon needs kernel IPVS (absent
// on this kernel), so no sync message ever comes, and ulvs must say so in `ulvs status`, not
// stay silent (keepalived #1819: sync that silently does not run). keepalived 2.2.7 configured
// with lvs_sync_daemon here does not even run: its VRRP child dies at start and respawns in a
// loop (seen), so the peer runs without that line; it would send nothing either way.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, destroyLab, keepalivedConf, keepalivedLaunch, labDirectorConfig, signalKeepalived, sleep, waitForOrFail } from '../../src/lab/index.js';
import { startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';
import { stateOf, statsOf } from './failover-harness.js';

const prefix = 'sy5-';

t.test('behind a keepalived MASTER, ulvs is sync BACKUP and says that no master sends', { timeout: 180_000 }, async (t) => {
  let ulvs: RunningDirector | null = null;
  const lab = await createLab({ prefix });
  const launch = keepalivedLaunch(mkdtempSync(join(tmpdir(), 'ulvs-skp-')), 'ka', keepalivedConf({
    state: 'MASTER', priority: 150, version: 2, advertInt: 1,
  }));
  const keepalived = spawn('ip', ['netns', 'exec', lab.nodes.dir1.name, ...launch.argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let kaLog = '';
  keepalived.stderr.on('data', (d: Buffer) => { kaLog += d.toString(); });
  keepalived.stdout.on('data', (d: Buffer) => { kaLog += d.toString(); });
  t.teardown(async () => {
    await ulvs?.stop();
    signalKeepalived(launch, 'SIGTERM');
    keepalived.kill('SIGTERM');
    await destroyLab({ prefix });
  });
  t.teardown(() => { if (!t.passing()) t.comment(`keepalived:\n${kaLog}\nulvs:\n${ulvs?.log() ?? ''}`); });
  ulvs = await startDirector(lab.nodes.dir2.name, writeConfig(labDirectorConfig({
    globalDefs: ['lvs_sync_daemon: { interface: eth0, instance: VI_1 }'],
    vrrp: [{ state: 'BACKUP', virtualRouterId: 51, priority: 100, advertInt: 1, authPass: '1111' }],
    services: [{ realServers: [{ ip: '198.18.0.10' }] }],
  })));
  await waitForOrFail('keepalived to be heard as MASTER', async () =>
    stateOf(ulvs!) === 'BACKUP' && /master 198\.18\.0\.2/.test((await ulvsIn(lab.nodes.dir2.name, ['status'])).stdout), 30_000, 250);
  // The observation window is the point: several adverts' worth of time in which a master with
  // a running sync daemon would have sent its table (ulvs asked for it at start).
  await sleep(3000);
  const status = (await ulvsIn(lab.nodes.dir2.name, ['status'])).stdout;
  t.match(status, /^sync {2}BACKUP {2}\(lvs_sync_daemon eth0 VI_1 id 0\)$/m, 'the sync role follows VRRP: BACKUP');
  t.match(status, /peer - {2}no sync message from another director yet \(a keepalived peer sends none without kernel IPVS\)/, 'and it says nothing came');
  const stats = await statsOf(lab.nodes.dir2.name);
  t.equal(stats.sync_received, 0, 'nothing received');
  t.equal(stats.sync_master, 0);
  t.ok(stats.sync_sent >= 1, 'ulvs asked for the table (an empty v1 message; a kernel master would ignore it)');
});
