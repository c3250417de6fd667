// TAP steering from the director's main thread (issue 18 part 4): the worker opens the tap, the
// main thread runs tc (src/control/tap-steering.ts). Forwarding works; a reload that changes no
// steering rule runs no tc (the filters keep their preference, which every change alternates);
// one that adds a service replaces them; a restarted worker's new tap is plumbed again.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { labDrConfig, ulvsIn } from './director.js';
import { waitFor } from '../../src/lab/index.js';
import { faultLab, loadFrom, must } from '../e2e-faults/support.js';
import { steeringFilterLines } from '../../src/io/tc.js';
import { ipToNumber } from '../../src/packet/addr.js';
import type { SteeringRule } from '../../src/io/port.js';

const VIP = ipToNumber('198.18.0.100');
/** u32 filters tc holds for these rules (a service: itself and its ICMP errors; a whole address: its fragments). */
const filtersFor = (rules: SteeringRule[]): number => rules.reduce((n, r) => n + steeringFilterLines('eth0', 'tap', 4242, r).length, 0);
const service = (port: number): SteeringRule => ({ kind: 'service', ip: VIP, port, protocol: 'tcp' });
/** The VIP's fragments, whatever the port (one rule per VIP and protocol). */
const wholeVip: SteeringRule = { kind: 'service', ip: VIP, port: 0, protocol: 'tcp' };

/** Our steering filters on dir1's eth0: their preferences and how many u32 matches redirect. */
async function steering(dir1: string): Promise<{ prefs: number[]; redirects: number }> {
  const out = await must(dir1, ['tc', 'filter', 'show', 'dev', 'eth0', 'parent', 'ffff:']);
  const prefs = [...new Set([...out.matchAll(/pref (\d+)/g)].map((m) => Number(m[1])))].filter((p) => p === 4242 || p === 4243);
  return { prefs, redirects: (out.match(/mirred \(Egress Redirect to device ulvst\d+\)/g) ?? []).length };
}

t.test('TAP: tc from the main thread, only when the rules change, again for a restarted worker', async (t) => {
  const yaml = labDrConfig({ lbAlgo: 'rr' }).replace('io: auto', 'io: tap');
  const f = await faultLab(t, 'pfts-', { io: 'tap', yaml, env: { ULVS_TEST_FAULTS: '1' } });
  t.match(f.director.log(), /packets taken with tap/, 'the director runs on TAP');
  const warm = await loadFrom(f.client, f.url, 1500);
  t.equal(warm.failed, 0, `forwards over TAP (${warm.ok} requests)`);
  t.same(Object.keys(warm.servers).sort(), ['rs1', 'rs2', 'rs3']);
  const first = await steering(f.dir1);
  t.equal(first.prefs.length, 1, `one preference of filters in place (${first.prefs})`);
  const one = filtersFor([service(80), wholeVip]);
  t.equal(first.redirects, one, `the VIP:80 service, its ICMP errors and the VIP's fragments: ${one} filters`);

  // A weight change moves no steering rule: no tc runs, the preference stays.
  const reweighted = labDrConfig({ lbAlgo: 'rr', weights: [[10, 3], [20, 1], [30, 1]] }).replace('io: auto', 'io: tap');
  const configPath = /-c (\S+)/.exec(f.director.process.spawnargs.join(' '))?.[1];
  t.ok(configPath, 'the director\'s config file');
  writeFileSync(configPath!, reweighted);
  const r1 = await ulvsIn(f.dir1, ['reload']);
  t.equal(r1.code, 0, `reload (weights) ${r1.stderr}`);
  t.same(await steering(f.dir1), first, 'same filters, same preference: tc did not run');

  // A second service: the rules differ, the filters are replaced (the other preference).
  writeFileSync(configPath!, `${reweighted}  - vip: 198.18.0.100
    port: 8080
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 8080, weight: 1 }
`);
  const r2 = await ulvsIn(f.dir1, ['reload']);
  t.equal(r2.code, 0, `reload (a service added) ${r2.stderr}`);
  const two = filtersFor([service(80), service(8080), wholeVip]);
  const second = await waitFor(async () => { const s = await steering(f.dir1); return s.redirects === two && s; }, 10_000, 100);
  t.ok(second, `the second service's filters too: ${two}`);
  if (second) t.not(second.prefs[0], first.prefs[0], `replaced under the other preference (${first.prefs} -> ${second.prefs})`);

  // A crashed worker's tap goes with it; the new worker's tap is plumbed and steered again.
  f.director.process.kill('SIGUSR2');
  const restarted = await waitFor(() => /dataplane worker 0 restarted/.test(f.director.log()), 30_000, 100);
  t.ok(restarted, 'the worker is restarted');
  const after = await waitFor(async () => { const l = await loadFrom(f.client, f.url, 1000); return l.failed === 0 && l; }, 20_000, 100);
  t.ok(after, 'forwarding over the new tap');
  t.notMatch(f.director.log(), /TAP steering on eth0 not changed/, 'no tc failure logged');
});
