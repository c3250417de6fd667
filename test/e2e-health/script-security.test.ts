// Script users and enable_script_security through the real runners: a config loaded from
// YAML, the health plan and HealthManager running a real MISC_CHECK, the VRRP speaker's
// TrackScripts running a real vrrp_script; the scripts write what `id` says to a file. Then a
// script writable by an unprivileged user is refused (it never runs) while enable_script_security
// is on, with keepalived's message, at load (warning) and at each run (check down, script failed).
import t, { type Test } from 'tap';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { healthPlan } from '../../src/health/plan.js';
import { HealthManager, type HealthEvent } from '../../src/health/manager.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { TrackScripts } from '../../src/vrrp/track-scripts.js';
import { waitFor } from '../../src/lab/index.js';

const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

// World-readable scripts, a sticky world-writable place for their output.
const root = mkdtempSync(join(tmpdir(), 'al-scripts-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
chmodSync(root, 0o755);
const out = join(root, 'out');
mkdirSync(out);
chmodSync(out, 0o1777);

function script(name: string, body: string, mode = 0o755, owner = 0): string {
  const p = join(root, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, mode);
  chownSync(p, owner, owner);
  return p;
}

const ids = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n');

function config(globals: string, misc: string, miscUser: string, vrrpScript: string, vrrpUser: string): string {
  return `global_defs: { ${globals} }
vrrp_scripts:
  chk: { script: "${vrrpScript}", interval: 1${vrrpUser ? `, user: "${vrrpUser}"` : ''} }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    delay_loop: 1
    real_servers:
      - { ip: 198.18.0.10, port: 80, misc_check: { misc_path: "${misc}"${miscUser ? `, user: "${miscUser}"` : ''}, warmup: 0 } }
`;
}

async function runBoth(t: Test, yaml: string): Promise<{ events: HealthEvent[]; verdicts: boolean[]; warnings: string[]; runtime: string[] }> {
  const loaded = loadConfigText(yaml, 'scripts.yaml');
  const plan = healthPlan(loaded.config);
  const events: HealthEvent[] = [];
  const manager = new HealthManager(plan.checks, { services: plan.services, runAs: plan.runAs });
  manager.on('change', (e: HealthEvent) => events.push(e));
  manager.start();
  t.teardown(() => manager.stop());
  const verdicts: boolean[] = [];
  const vrrp = vrrpConfigFrom(loaded.config);
  const warned: string[] = [];
  const scripts = new TrackScripts((_n, up) => verdicts.push(up), { warn: (o) => warned.push(JSON.stringify(o)) });
  scripts.define('chk', vrrp.vrrp_scripts!.chk);
  scripts.startAll();
  t.teardown(() => scripts.stop());
  return { events, verdicts, warnings: loaded.warnings.map((w) => `${w.line}: ${w.message}`), runtime: warned };
}

t.test('MISC_CHECK and vrrp_script run as their user and group; script_user is the default', async (t) => {
  const miscOut = join(out, 'misc.ids');
  const vrrpOut = join(out, 'vrrp.ids');
  const misc = script('misc.sh', `{ id -u; id -g; id -G; } > ${miscOut}.tmp; mv ${miscOut}.tmp ${miscOut}; exit 0`);
  const vrrp = script('vrrp.sh', `{ id -u; id -g; } > ${vrrpOut}.tmp; mv ${vrrpOut}.tmp ${vrrpOut}; exit 0`);
  await runBoth(t, config('', misc, 'nobody nogroup', vrrp, 'nobody'));
  t.ok(await waitFor(() => existsSync(miscOut) && ids(miscOut).length === 3, 20_000), 'MISC_CHECK ran');
  t.same(ids(miscOut), ['65534', '65534', '65534'], 'MISC_CHECK as nobody:nogroup, no supplementary group of root');
  t.ok(await waitFor(() => existsSync(vrrpOut) && ids(vrrpOut).length === 2, 20_000), 'vrrp_script ran');
  t.same(ids(vrrpOut), ['65534', '65534'], 'vrrp_script as nobody (the user\'s own group)');

  // One output file per script: both run every second, and a shared file could be caught truncated.
  const defMiscOut = join(out, 'default-misc.ids');
  const defVrrpOut = join(out, 'default-vrrp.ids');
  const defMisc = script('default-misc.sh', `{ id -u; id -g; } > ${defMiscOut}.tmp; mv ${defMiscOut}.tmp ${defMiscOut}; exit 0`);
  const defVrrp = script('default-vrrp.sh', `{ id -u; id -g; } > ${defVrrpOut}.tmp; mv ${defVrrpOut}.tmp ${defVrrpOut}; exit 0`);
  await runBoth(t, config('script_user: "nobody nogroup"', defMisc, '', defVrrp, ''));
  t.ok(await waitFor(() => existsSync(defMiscOut) && existsSync(defVrrpOut), 20_000), 'scripts without a user ran');
  t.same([ids(defMiscOut), ids(defVrrpOut)], [['65534', '65534'], ['65534', '65534']], 'global_defs.script_user is their user (MISC_CHECK and vrrp_script)');
});

t.test('enable_script_security refuses a script a non-root user can change, as keepalived does', async (t) => {
  const ranOut = join(out, 'insecure.ran');
  // Owned by nobody: anyone running as nobody could rewrite what root then runs.
  const insecure = script('insecure.sh', `touch ${ranOut}; exit 0`, 0o755, 65534);
  const r = await runBoth(t, config('enable_script_security: true', insecure, '', insecure, ''));
  t.match(r.warnings, [
    /^3: Unsafe permissions found for script '.*insecure\.sh' - disabling\./,
    /^10: Unsafe permissions found for script '.*insecure\.sh' - disabling\./,
  ], 'config load warns at the vrrp_script and the misc_path, in keepalived\'s words');
  t.ok(await waitFor(() => r.events.some((e) => !e.up), 20_000), 'the MISC_CHECK counts as failed');
  t.match(r.events.find((e) => !e.up)?.reason, /script refused: Unsafe permissions found for script/, 'with the reason');
  t.ok(await waitFor(() => r.runtime.length > 0, 20_000), 'the vrrp_script is refused');
  t.match(r.runtime, [/"script":"chk".*Unsafe permissions found for script/], 'logged once, with keepalived\'s message');
  t.ok(await waitFor(() => r.verdicts.includes(false), 5000), 'counted as failed: the tracked script goes down');
  t.notOk(existsSync(ranOut), 'the insecure script never ran');

  // The same script run as nobody is not root's risk: keepalived checks only root's scripts.
  const asNobody = await runBoth(t, config('enable_script_security: true', insecure, 'nobody', insecure, 'nobody'));
  t.same(asNobody.warnings, [], 'no warning for scripts that run as nobody');
  t.same(asNobody.runtime, [], 'nor a refusal');
  t.ok(await waitFor(() => existsSync(ranOut), 20_000), 'and it runs');
});
