// Issue 19, bad input: a BGP daemon that is not installed or not running is one clear line in
// `ulvs bgp status` (and the log), never a crash, and the director keeps forwarding. Lab prefix
// bgpx-: lab-dir1 runs lab-dr.yaml with a bgp_announce block whose daemon is absent.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { ulvsIn, type RunningDirector } from './director.js';
import { CONFIGS, checkTraffic, start, stopAll, stopAndCheck } from '../e2e-samples/support.js';

const prefix = 'bgpx-';
const VIP = '198.18.0.100';

t.test('an absent BGP daemon: one status line, forwarding continues', async (t) => {
  const running = new Set<RunningDirector>();
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-bgpx-'));
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); rmSync(dir, { recursive: true, force: true }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const base = readFileSync(join(CONFIGS, 'lab-dr.yaml'), 'utf8');
  const cases = [
    { state: 'not installed', block: `  birdc: bgpx-no-such-birdc\n` },
    { state: 'not running', block: `  bird_socket: ${join(dir, 'none.ctl')}\n` },
  ];
  for (const c of cases) {
    const file = join(dir, `${c.state.replace(' ', '-')}.yaml`);
    writeFileSync(file, `${base}\nbgp_announce:\n  vips: [${VIP}]\n  include_file: ${join(dir, 'vips.conf')}\n` +
      `  disable_file: ${join(dir, 'disabled')}\n  interval: 0.2\n  command_timeout: 2\n${c.block}`);
    const d = await start(dir1, file, running);
    let status = '';
    for (let i = 0; i < 100 && !status.includes(`daemon bird2 ${c.state}`); i++) {
      status = (await ulvsIn(dir1, ['bgp', 'status'])).stdout;
      if (!status.includes(`daemon bird2 ${c.state}`)) await new Promise((r) => setTimeout(r, 200));
    }
    t.match(status, `daemon bird2 ${c.state}`, `${c.state}: ulvs bgp status says so in one line`);
    t.equal(status.split('\n').filter((l) => l.includes(c.state)).length, 1, `${c.state}: one line, not one per try`);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 70, shares: { rs1: 10, rs2: 30, rs3: 30 } });
    t.equal(d.process.exitCode, null, `${c.state}: the director is still running`);
    await stopAndCheck(t, d, dir1, [VIP]);
    running.clear();
  }
});
