// `npm run bench [-- --quick] [-- --only NAME]`: builds the lab under its own prefix, runs the
// experiments (each in its own try/catch), writes bench/results/latest.{json,md} and one SVG per
// figure, and leaves nothing behind (namespaces, processes, XDP programs), Ctrl-C included.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { BENCH_PREFIX, selectExperiments, setUpLab, tearDownLab, type RunContext } from './experiments.js';
import type { BenchLab } from './lab.js';
import { leftoverNamespaces } from './lab.js';
import { failed, renderMarkdown, renderSvg, resultSchema, type BenchResult, type Figure } from './report.js';
import { killAll, machineInfo, REPO } from './sys.js';
import { appendHistory, loadHistory, MIN_TRIALS, saveHistory, type History } from './trust.js';

const RESULTS_DIR = join(REPO, 'bench/results');
const HISTORY_FILE = join(RESULTS_DIR, 'history.json');

interface Options { quick: boolean; only?: string[]; prefix: string }

function parseOptions(argv: string[]): Options {
  const program = new Command('bench')
    .option('--quick', 'short runs (a few minutes in all)', false)
    .option('--only <names...>', 'only these experiments or figures')
    .option('--prefix <prefix>', 'namespace prefix of the bench lab', BENCH_PREFIX)
    .parse(argv);
  const o = program.opts<{ quick: boolean; only?: string[]; prefix: string }>();
  return { quick: o.quick, only: o.only?.flatMap((s) => s.split(',')), prefix: o.prefix };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv);
  const experiments = selectExperiments(options.only);
  const started = Date.now();
  const progress = (message: string): void => {
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  };
  let current: BenchLab | null = null;
  // On Ctrl-C/SIGTERM: stop everything now, tear the lab down, write no results (a run cut
  // short is not a result), exit 130.
  let interrupted: Promise<void> | null = null;
  const cleanUp = async (): Promise<void> => {
    killAll();
    await tearDownLab(options.prefix);
    current = null;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      progress(`${signal}: cleaning up`);
      interrupted = cleanUp().catch(() => undefined).finally(() => {
        const left = leftoverNamespaces(options.prefix);
        progress(left.length ? `WARNING: namespaces left behind: ${left.join(', ')}` : 'interrupted; nothing left behind');
        process.exit(130);
      });
    });
  }

  const ctx: RunContext = {
    quick: options.quick,
    seconds: options.quick ? 3 : 10,
    // Quick runs are shorter trials, never fewer: a figure needs MIN_TRIALS (trust.ts).
    rounds: MIN_TRIALS,
    history: loadHistory(HISTORY_FILE),
    progress,
    lab: async (nat) => {
      if (current && current.nat === nat) return current;
      progress(`building the ${nat ? 'NAT' : 'DR'} lab (prefix ${options.prefix})`);
      current = await setUpLab(options.prefix, nat);
      return current;
    },
  };

  const figures: Record<string, Figure> = {};
  try {
    for (const experiment of experiments) {
      if (interrupted) break;
      progress(`experiment ${experiment.name}: ${experiment.figures.join(', ')}`);
      const t0 = Date.now();
      try {
        const got = await experiment.run(ctx);
        Object.assign(figures, got);
        for (const key of experiment.figures) if (!(key in got)) figures[key] = failed(experiment.name, key, 'not produced by its experiment');
        for (const [key, f] of Object.entries(got)) {
          const spread = f.spread ? ` (${f.spread.min.toPrecision(4)}-${f.spread.max.toPrecision(4)}, ${f.spread.n} trials)` : '';
          progress(`  ${key} = ${f.status === 'ok' ? `${f.value?.toPrecision(4)} ${f.unit}${spread}` : `${f.status}: ${f.reason}`}`);
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        progress(`  ${experiment.name} FAILED: ${reason.split('\n')[0]}`);
        for (const key of experiment.figures) figures[key] = failed(experiment.name, key, reason);
        killAll();
      }
      progress(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    if (!interrupted) {
      progress('tearing the lab down');
      await cleanUp();
    }
  }
  if (interrupted) {
    await interrupted;
    return 130;
  }
  const left = leftoverNamespaces(options.prefix);
  if (left.length) progress(`WARNING: namespaces left behind: ${left.join(', ')}`);

  const result: BenchResult = resultSchema.parse({
    version: 1,
    date: new Date(started).toISOString(),
    quick: options.quick,
    durationSeconds: (Date.now() - started) / 1000,
    machine: machineInfo(),
    figures,
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, 'latest.md'), renderMarkdown(result));
  saveHistory(HISTORY_FILE, withNewHistory(ctx.history, result));
  for (const [key, figure] of Object.entries(result.figures)) writeFileSync(join(RESULTS_DIR, `${key}.svg`), renderSvg(key, figure));
  progress(`wrote ${join(RESULTS_DIR, 'latest.json')}, latest.md and ${Object.keys(result.figures).length} SVG charts`);
  if (!options.only) {
    updateReadmePerformance(renderMarkdown(result));
    progress('updated the performance section of README.md');
  }
  process.stdout.write(renderMarkdown(result));
  return Object.values(figures).some((f) => f.status === 'failed') ? 1 : 0;
}

/** The alternatives' plausible absolute figures of this run (figure.details.history) joined to their history. */
function withNewHistory(history: History, result: BenchResult): History {
  let next = history;
  for (const f of Object.values(result.figures)) {
    const entries = (f.details?.history ?? {}) as Record<string, number>;
    for (const [key, value] of Object.entries(entries)) next = appendHistory(next, key, value, result.date);
  }
  return next;
}

function buildTools(): void {
  execFileSync('bash', [join(REPO, 'bench/build.sh')], { stdio: 'inherit' });
}

buildTools();
main().then((code) => process.exit(code), (error: unknown) => {
  killAll();
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});

/** The README's performance section is always a real run's table, between these markers. */
function updateReadmePerformance(markdown: string): void {
  const readme = join(RESULTS_DIR, '..', '..', 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return;
  const body = markdown.replace(/^# .*\n/, '').replace(/\]\((?!https?:)/g, '](bench/results/');
  writeFileSync(readme, `${text.slice(0, i + begin.length)}\n${body.trim()}\n${text.slice(j)}`);
}
