// IPv6 DR against IPv4 DR in the lab, the same run (issue 16's figure: goal within 10 %). One
// dual-stack director (AF_XDP, rr over rs1..rs3, UDP 9000 on 198.18.0.100 and on
// [2001:2::100]) stays up for the whole run; trials interleave the families, the order
// alternating per round so neither always runs first:
//   pps: the C sender as fast as it goes from the client (1,000 flows, 64-byte IPv4 frames
//        against 80-byte IPv6 ones, the same 18-byte payload), delivered packets counted by
//        the C sinks at the real servers; and the sender straight to the sinks per family, so
//        a sender-bound figure is seen as one;
//   cpu: the same offered load for both families (100 kpps, below the sender's limit), the
//        director's own process tree CPU (threads included) per delivered packet.
// Each figure is the median of the per-round ratios (IPv6 / IPv4) with min-max and trust.ts's
// verdict (a spread wider than the effect, a missed offered load -> unreliable).
// Run: npm run build && bash bench/build.sh && node dist/bench/dr6-lab.js [--rounds 5] [--seconds 4] [--json FILE]
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { LAB_IPV6 } from '../src/lab/index.js';
import { processCpuPerPacketUs, setUpLab, startDirectorFromYaml, tearDownLab, traffic, UDP_PORT, VIP, type BenchLab, type TrafficResult } from './lab.js';
import { judge, spreadOf } from './trust.js';
import { machineInfo, type Proc } from './sys.js';

const PREFIX = 'b6-';
const FLOWS = 1000;
const FIXED_RATE = 100_000;

function directorYaml(lab: BenchLab): string {
  const rs = (['rs1', 'rs2', 'rs3'] as const).map((n) => lab.nodes[n]);
  const service = (vip: string, ip: (n: (typeof rs)[number]) => string): string => [
    `  - { vip: '${vip}', port: ${UDP_PORT}, protocol: UDP, lb_algo: rr, lb_kind: DR,`,
    `      real_servers: [${rs.map((n) => `{ ip: '${ip(n)}', port: ${UDP_PORT} }`).join(', ')}] }`].join('\n');
  return [
    'global_defs: { router_id: bench6-dir1 }',
    'dataplane: { interface: eth0, io: afxdp }',
    'static_ipaddress:',
    `  - { address: ${VIP}/32, dev: eth0 }`,
    `  - { address: '${LAB_IPV6.vip}/128', dev: eth0 }`,
    'virtual_servers:',
    service(VIP, (n) => n.ip),
    service(LAB_IPV6.vip, (n) => n.ip6),
  ].join('\n') + '\n';
}

/** A longer wait than the default 30 s: director starts under load have taken longer (the e2e tests allow 90 s). */
const startDirector = (lab: BenchLab): Promise<Proc> => startDirectorFromYaml(lab, directorYaml(lab), 120_000);

const round2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const opts = new Command().option('--rounds <n>', 'interleaved rounds', '5').option('--seconds <s>', 'seconds per traffic run', '4')
    .option('--json <file>', 'write the results here').parse().opts<{ rounds: string; seconds: string; json?: string }>();
  const rounds = Number(opts.rounds);
  const seconds = Number(opts.seconds);
  await tearDownLab(PREFIX);
  const lab = await setUpLab(PREFIX, false);
  const n = lab.nodes;
  const runs: Record<'direct4' | 'direct6' | 'pps4' | 'pps6' | 'cpu4' | 'cpu6', TrafficResult[]> = { direct4: [], direct6: [], pps4: [], pps6: [], cpu4: [], cpu6: [] };
  let director: Proc | null = null;
  try {
    const sinks = [n.rs1.mac, n.rs2.mac, n.rs3.mac];
    for (let round = 0; round < rounds; round++) {
      for (const family of round % 2 === 0 ? [4, 6] as const : [6, 4] as const) {
        process.stderr.write(`round ${round + 1}/${rounds}: IPv${family} straight to the sinks\n`);
        runs[`direct${family}`].push(await traffic(lab, { dstMacs: sinks, flows: FLOWS, rate: 0, seconds, family }));
      }
    }
    director = await startDirector(lab);
    const watched = { dstMacs: [n.dir1.mac], flows: FLOWS, seconds, watchPid: director.pid };
    // Warm-up: both families' flows and next hops (NDP for IPv6) are in place before trial 1.
    for (const family of [4, 6] as const) await traffic(lab, { ...watched, rate: FIXED_RATE, seconds: 1, family });
    for (let round = 0; round < rounds; round++) {
      for (const family of round % 2 === 0 ? [4, 6] as const : [6, 4] as const) {
        process.stderr.write(`round ${round + 1}/${rounds}: IPv${family} via the director, as fast as the sender goes, then at ${FIXED_RATE / 1000} kpps\n`);
        runs[`pps${family}`].push(await traffic(lab, { ...watched, rate: 0, family }));
        runs[`cpu${family}`].push(await traffic(lab, { ...watched, rate: FIXED_RATE, family }));
      }
    }
  } finally {
    await director?.stop();
    await tearDownLab(PREFIX);
  }
  const pps = (k: keyof typeof runs) => runs[k].map((r) => r.pps);
  const ppsRatio = pps('pps6').map((v, i) => v / pps('pps4')[i]);
  const cpuRatio = runs.cpu6.map((r, i) => processCpuPerPacketUs(r) / processCpuPerPacketUs(runs.cpu4[i]));
  const load = { rate: FIXED_RATE, trials: [...runs.cpu4, ...runs.cpu6].map((r, i) => ({ label: `trial ${i + 1}`, offeredPps: r.sent / r.seconds, deliveredPps: r.pps })) };
  const ppsVerdict = judge({ samples: ppsRatio, unit: 'ratio', goal: { op: '>=', value: 0.9 } });
  const cpuVerdict = judge({ samples: cpuRatio, unit: 'ratio', goal: { op: '<=', value: 1.1 }, load });
  // Sender-bound when the director delivers what the sender reaches straight to the sinks.
  const senderBound = (family: 4 | 6) => spreadOf(pps(`pps${family}`)).median >= 0.9 * spreadOf(pps(`direct${family}`)).median;
  const result = {
    bench: 'dr6-lab', at: new Date().toISOString(), machine: machineInfo(), rounds, secondsPerRun: seconds, flows: FLOWS,
    dr6_pps_vs_dr4: { ...ppsVerdict, goal: '>= 0.9', status: ppsVerdict.reliable ? 'ok' : 'unreliable',
      senderBound: { ipv4: senderBound(4), ipv6: senderBound(6) } },
    dr6_cpu_per_packet_vs_dr4: { ...cpuVerdict, goal: '<= 1.1', status: cpuVerdict.reliable ? 'ok' : 'unreliable' },
    ppsOfEveryRound: Object.fromEntries((['direct4', 'direct6', 'pps4', 'pps6'] as const).map((k) => [k, pps(k).map(Math.round)])),
    cpuUsPerPacketOfEveryRound: { ipv4: runs.cpu4.map((r) => round2(processCpuPerPacketUs(r))), ipv6: runs.cpu6.map((r) => round2(processCpuPerPacketUs(r))) },
    offeredAtFixedRate: { ipv4: runs.cpu4.map((r) => Math.round(r.sent / r.seconds)), ipv6: runs.cpu6.map((r) => Math.round(r.sent / r.seconds)) },
    deliveredAtFixedRate: { ipv4: runs.cpu4.map((r) => Math.round(r.pps)), ipv6: runs.cpu6.map((r) => Math.round(r.pps)) },
  };
  const text = JSON.stringify(result, null, 2);
  if (opts.json) writeFileSync(opts.json, text + '\n');
  process.stdout.write(text + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`dr6-lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
