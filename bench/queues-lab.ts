// One queue against two (issue 18 part 6): two labs side by side, the directors' veths with one
// RX/TX queue in one (prefix bq1-) and two in the other (bq2-), a DR director (AF_XDP, UDP 9000
// over rs1..rs3, one worker per RX queue) in each, in interleaved rounds (the order alternating
// per round so neither always runs first):
//   pps: the C sender as fast as it goes (1,000 flows), delivered packets counted at the sinks;
//   cpu: 100 kpps offered, the director's process tree CPU (both workers' threads) per packet;
//   spread: how RSS split the received packets over the queues (`ulvs stats` queueN_rx).
// This machine has 2 cores and the sender and sinks run on them too: two workers compete with
// the traffic's own processes, which the figure shows rather than hides.
// (Its first version ran queues 1 on the two-queue veths and found the director delivering 52 %
// of 100 kpps: AF_XDP leaves the other queue's packets to the kernel. Such a count is refused at
// start now, src/control/queues.ts.)
// Each figure is the median of the per-round ratios (2 queues / 1 queue) with min-max and
// trust.ts's verdict.
// Run: npm run build && bash bench/build.sh && node dist/bench/queues-lab.js [--rounds 5] [--seconds 3] [--json FILE]
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { createLab, destroyLab, labNodes } from '../src/lab/index.js';
import { directorConfig, processCpuPerPacketUs, startDirectorFromYaml, traffic, type BenchLab, type TrafficResult } from './lab.js';
import { judge } from './trust.js';
import { machineInfo, runIn, ULVS, type Proc } from './sys.js';

const PREFIXES = { 1: 'bq1-', 2: 'bq2-' } as const;
const FLOWS = 1000;
const FIXED_RATE = 100_000;

/** A longer wait than the default 30 s: director starts under load have taken longer (the e2e tests allow 90 s). */
const startDirector = (lab: BenchLab, queues: 1 | 2): Promise<Proc> =>
  startDirectorFromYaml(lab, directorConfig(lab, { io: 'afxdp', queues }), 120_000);

interface Trial { pps: TrafficResult; cpu: TrafficResult; queueRx: number[] }

async function trial(lab: BenchLab, queues: 1 | 2, seconds: number): Promise<Trial> {
  const director = await startDirector(lab, queues);
  try {
    const watched = { dstMacs: [lab.nodes.dir1.mac], flows: FLOWS, seconds, watchPid: director.pid };
    // Warm-up: flows and next hops in place before the measured runs.
    await traffic(lab, { ...watched, rate: FIXED_RATE, seconds: 1 });
    const pps = await traffic(lab, { ...watched, rate: 0 });
    const cpu = await traffic(lab, { ...watched, rate: FIXED_RATE });
    const stats = JSON.parse(await runIn(lab.nodes.dir1.name, [process.execPath, ULVS, 'stats', '--json'])) as Record<string, number>;
    const queueRx = queues === 1 ? [stats.rx] : [stats.queue0_rx ?? 0, stats.queue1_rx ?? 0];
    return { pps, cpu, queueRx };
  } finally {
    await director.stop();
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const opts = new Command().option('--rounds <n>', 'interleaved rounds', '5').option('--seconds <s>', 'seconds per traffic run', '3')
    .option('--json <file>', 'write the results here').parse().opts<{ rounds: string; seconds: string; json?: string }>();
  const rounds = Number(opts.rounds);
  const seconds = Number(opts.seconds);
  const labs = {} as Record<1 | 2, BenchLab>;
  const trials: Record<1 | 2, Trial[]> = { 1: [], 2: [] };
  try {
    for (const queues of [1, 2] as const) {
      const prefix = PREFIXES[queues];
      await destroyLab({ prefix });
      await createLab({ prefix, servers: false, directorQueues: queues });
      labs[queues] = { prefix, nat: false, nodes: labNodes(prefix) };
    }
    for (let round = 0; round < rounds; round++) {
      for (const queues of round % 2 === 0 ? [1, 2] as const : [2, 1] as const) {
        process.stderr.write(`round ${round + 1}/${rounds}: queues ${queues}\n`);
        trials[queues].push(await trial(labs[queues], queues, seconds));
      }
    }
  } finally {
    for (const prefix of Object.values(PREFIXES)) await destroyLab({ prefix });
  }
  const pps = (q: 1 | 2) => trials[q].map((t) => t.pps.pps);
  const cpu = (q: 1 | 2) => trials[q].map((t) => processCpuPerPacketUs(t.cpu));
  const load = { rate: FIXED_RATE, trials: [...trials[1], ...trials[2]].map((t, i) => ({ label: `trial ${i + 1}`, offeredPps: t.cpu.sent / t.cpu.seconds, deliveredPps: t.cpu.pps })) };
  const ppsVerdict = judge({ samples: pps(2).map((v, i) => v / pps(1)[i]), unit: 'ratio' });
  const cpuVerdict = judge({ samples: cpu(2).map((v, i) => v / cpu(1)[i]), unit: 'ratio', load });
  const result = {
    bench: 'queues-lab', at: new Date().toISOString(), machine: machineInfo(), rounds, secondsPerRun: seconds, flows: FLOWS,
    dr_pps_2q_vs_1q: { ...ppsVerdict, status: ppsVerdict.reliable ? 'ok' : 'unreliable' },
    dr_cpu_per_packet_2q_vs_1q: { ...cpuVerdict, status: cpuVerdict.reliable ? 'ok' : 'unreliable' },
    ppsOfEveryRound: { queues1: pps(1).map(Math.round), queues2: pps(2).map(Math.round) },
    cpuUsPerPacketOfEveryRound: { queues1: cpu(1).map(round2), queues2: cpu(2).map(round2) },
    deliveredAtFixedRate: { queues1: trials[1].map((t) => Math.round(t.cpu.pps)), queues2: trials[2].map((t) => Math.round(t.cpu.pps)) },
    queueRxOfEveryRound: { queues2: trials[2].map((t) => t.queueRx) },
  };
  const text = JSON.stringify(result, null, 2);
  if (opts.json) writeFileSync(opts.json, text + '\n');
  process.stdout.write(text + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`queues-lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
