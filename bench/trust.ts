// Figures that can be trusted (issue 18, part 0). Every figure comes from at least MIN_TRIALS
// interleaved trials and is reported as its median with min and max; it is marked `unreliable`
// (never "meets goal") when its inputs are implausible. Pure except loadHistory/saveHistory.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** Fewer trials than this give a median that one disturbed run can move. */
export const MIN_TRIALS = 5;
/** A reference CPU per packet more than this factor from its history's median is a broken measurement. */
export const HISTORY_FACTOR = 2;
/** History needs this many entries before it judges anything. */
export const HISTORY_MIN_ENTRIES = 3;
/** Entries kept per history key (the newest). */
export const HISTORY_KEEP = 20;
/** A trial at a fixed rate must deliver this share of what it offered, or it was over a limit. */
export const DELIVERED_SHARE = 0.95;
/** ...and the sender must have offered this share of the rate asked for. */
export const OFFERED_SHARE = 0.9;

export interface Spread { median: number; min: number; max: number; n: number }

export const spreadSchema = z.object({ median: z.number(), min: z.number(), max: z.number(), n: z.number().int().nonnegative() });

/** Median (mean of the middle two for an even count), min and max. */
export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new RangeError('no samples');
  if (samples.some((x) => !Number.isFinite(x))) throw new RangeError(`a sample is not finite (${samples.join(', ')})`);
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

export interface Goal { op: '>=' | '<='; value: number }

/** What one figure's verdict is judged from. */
export interface TrustInput {
  /** The figure's value in each trial (a ratio per interleaved pair for ratios). */
  samples: readonly number[];
  unit: string;
  goal?: Goal;
  /** An added latency: a negative sample means the two sides were not measured alike. */
  latency?: boolean;
  /** The alternative's own absolute figure (e.g. the C reference's CPU µs/packet) and its history. */
  reference?: { label: string; value: number; history: readonly number[] };
  /** Fixed-rate trials: what was asked, and each trial's offered and delivered packets per second. */
  load?: { rate: number; trials: readonly { offeredPps: number; deliveredPps: number; label: string }[] };
}

export interface Verdict { spread: Spread; reliable: boolean; reasons: string[] }

/**
 * The effect a figure claims: its margin to the goal when it has one (the claim is "meets" or
 * "misses"), else its distance from parity for a ratio, else its own size.
 */
export function claimedEffect(median: number, unit: string, goal?: Goal): number {
  if (goal) return Math.abs(median - goal.value);
  return unit === 'ratio' ? Math.abs(median - 1) : Math.abs(median);
}

export function judge(input: TrustInput): Verdict {
  const reasons: string[] = [];
  const spread = spreadOf(input.samples);
  if (spread.n < MIN_TRIALS) reasons.push(`${spread.n} trials (at least ${MIN_TRIALS} needed)`);
  if (input.latency && spread.min < 0) reasons.push(`negative added latency (${round(spread.min)} ${input.unit}) in a trial`);
  const width = spread.max - spread.min;
  const effect = claimedEffect(spread.median, input.unit, input.goal);
  if (width > effect) {
    const what = input.goal ? `the margin to the goal (${round(effect)})` : `the effect claimed (${round(effect)})`;
    reasons.push(`spread ${round(width)} (${round(spread.min)}-${round(spread.max)}) wider than ${what}`);
  }
  if (input.reference) {
    const r = input.reference;
    if (!(r.value > 0)) reasons.push(`${r.label} measured ${r.value}`);
    else if (outsideHistory(r.value, r.history)) {
      reasons.push(`${r.label} ${round(r.value)} is far outside its history (median ${round(spreadOf(r.history).median)}, ${r.history.length} runs)`);
    }
  }
  for (const t of input.load?.trials ?? []) {
    const rate = input.load!.rate;
    if (t.offeredPps < OFFERED_SHARE * rate) reasons.push(`${t.label}: sender offered ${Math.round(t.offeredPps)} pps of ${rate} (sender-bound)`);
    else if (t.deliveredPps < DELIVERED_SHARE * t.offeredPps) {
      reasons.push(`${t.label}: delivered ${Math.round(t.deliveredPps)} of ${Math.round(t.offeredPps)} pps offered (over its limit)`);
    }
  }
  return { spread, reliable: reasons.length === 0, reasons };
}

/** Far from the history's median (by HISTORY_FACTOR either way); no verdict on a short history. */
export function outsideHistory(value: number, history: readonly number[]): boolean {
  if (history.length < HISTORY_MIN_ENTRIES) return false;
  const median = spreadOf(history).median;
  return value > median * HISTORY_FACTOR || value < median / HISTORY_FACTOR;
}

function round(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

// History of the alternatives' absolute figures (bench/results/history.json): a reference that
// measures 0.27 µs CPU/packet where it always measured 2-4 is a broken measurement.

export const historySchema = z.record(z.string(), z.array(z.object({ date: z.string(), value: z.number() })));
export type History = z.infer<typeof historySchema>;

/** Values of one key, oldest first. */
export function historyValues(history: History, key: string): number[] {
  return (history[key] ?? []).map((e) => e.value);
}

/** A new history with `value` appended to `key`, the newest HISTORY_KEEP kept. */
export function appendHistory(history: History, key: string, value: number, date: string): History {
  return { ...history, [key]: [...(history[key] ?? []), { date, value }].slice(-HISTORY_KEEP) };
}

export function loadHistory(path: string): History {
  if (!existsSync(path)) return {};
  return historySchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export function saveHistory(path: string, history: History): void {
  writeFileSync(path, JSON.stringify(history, null, 2) + '\n');
}
