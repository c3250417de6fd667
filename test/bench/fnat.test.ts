// bench/fnat.ts's invariants (not its speed): under 100,000 Full NAT connections the local
// ports in use equal the flows the table holds at every sample and both return to 0; the load
// is spread across the local addresses; exhaustion refuses connections (counted) and never hands
// out more ports than the pools hold; the FNAT/NAT step comparison forwards every packet and
// reports a median inside its min-max for both methods.
import t from 'tap';
import { PORTS_SCENARIOS, compareFnatWithNat, measurePortsVsConnections } from '../../bench/fnat.js';

t.test('steady load: ports in use = FNAT flows at every sample, back to 0', async (t) => {
  const r = measurePortsVsConnections(PORTS_SCENARIOS.steady);
  t.equal(r.newFlows, 100_000, '100,000 connections opened');
  t.equal(r.maxDifference, 0, 'ports in use equal the flows held at every one of the samples');
  t.ok(r.samples.length > 100, `sampled every simulated second (${r.samples.length} samples)`);
  t.ok(r.peakPortsInUse >= 29_000 && r.peakPortsInUse <= 31_000, `live connections settle near rate x timeout (${r.peakPortsInUse})`);
  t.equal(r.exhausted, 0, 'none refused');
  t.same(r.final, { flows: 0, portsInUse: 0 }, 'every port back once the connections expired');
  for (const s of r.samples) {
    if (Math.abs(s.perAddress[0] - s.perAddress[1]) > 1) { t.fail(`unbalanced at ${s.second}: ${s.perAddress}`); break; }
  }
  t.pass('round robin across the two local addresses at every sample (within one)');
});

t.test('burst: 100,000 live at once, past one address\'s pool, then all back', async (t) => {
  const r = measurePortsVsConnections(PORTS_SCENARIOS.burst);
  t.equal(r.peakPortsInUse, 100_000, '100,000 ports in use at the peak');
  t.equal(r.maxDifference, 0);
  t.equal(r.exhausted, 0);
  t.same(r.final, { flows: 0, portsInUse: 0 });
});

t.test('exhaustion: refused and counted, never more ports than the pools hold', async (t) => {
  const r = measurePortsVsConnections(PORTS_SCENARIOS.exhaustion);
  t.equal(r.peakPortsInUse, 2_000, 'two pools of 1,000 ports, full at the peak');
  t.ok(r.samples.every((s) => s.portsInUse <= 2_000), 'never above the pools');
  t.equal(r.maxDifference, 0);
  t.equal(r.exhausted + r.newFlows, 100_000, 'every connection either got a port or was counted as refused');
  t.ok(r.newFlows > 2_000, `ports freed by expiry are used again (${r.newFlows} connections carried)`);
  t.same(r.final, { flows: 0, portsInUse: 0 });
});

t.test('FNAT against NAT: interleaved trials report median within min-max', async (t) => {
  const r = compareFnatWithNat(1000, 64 * 200, 3);
  for (const m of [r.nat, r.fnat]) {
    for (const s of [m.nsPerPacket, m.cpuNsPerPacket, m.pps]) t.ok(s.min <= s.median && s.median <= s.max && Number.isFinite(s.max), JSON.stringify(s));
  }
  t.ok(r.cpuRatio > 0 && Number.isFinite(r.cpuRatio), `ratio reported (${r.cpuRatio.toFixed(2)}: not asserted, a shared machine)`);
});
