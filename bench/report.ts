// The bench's result: its schema, the ratio arithmetic, and the Markdown/SVG renderings.
// Pure (no I/O) so that the tests can drive it from a fixture result.
import { z } from 'zod';
import { judge, spreadSchema, type TrustInput } from './trust.js';

/** `unreliable`: measured, but its inputs are implausible (trust.ts): never "meets goal". */
export const FIGURE_STATUSES = ['ok', 'unreliable', 'failed', 'pending'] as const;

const barSchema = z.object({ label: z.string(), value: z.number(), unit: z.string() });
export type Bar = z.infer<typeof barSchema>;

export const figureSchema = z.object({
  status: z.enum(FIGURE_STATUSES),
  /** The headline number (a ratio when unit is 'ratio'); present when status is 'ok' or 'unreliable'. */
  value: z.number().optional(),
  unit: z.string().optional(),
  /** The project's target for this figure. */
  goal: z.object({ op: z.enum(['>=', '<=']), value: z.number() }).optional(),
  /** Why it failed, is pending or is unreliable. */
  reason: z.string().optional(),
  /** The trials behind the value (the value is their median). */
  spread: spreadSchema.optional(),
  /** The absolute numbers behind the figure, one bar each in the chart. */
  bars: z.array(barSchema).default([]),
  /** Which measurement produced it (several figures share one). */
  experiment: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
}).refine((f) => f.status !== 'ok' || typeof f.value === 'number', { message: 'an ok figure needs a value' })
  .refine((f) => f.status === 'ok' || typeof f.reason === 'string', { message: 'a failed or pending figure needs a reason' });
export type Figure = z.infer<typeof figureSchema>;

export const machineSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  kernel: z.string(),
  node: z.string(),
  hostname: z.string(),
});
export type MachineInfo = z.infer<typeof machineSchema>;

export const resultSchema = z.object({
  version: z.literal(1),
  date: z.string(),
  quick: z.boolean(),
  durationSeconds: z.number(),
  machine: machineSchema,
  figures: z.record(z.string(), figureSchema),
});
export type BenchResult = z.infer<typeof resultSchema>;

/** Every key the result must hold (issue 7), in report order. */
export const FIGURE_KEYS = [
  'dr_pps_afxdp', 'dr_pps_tap', 'dr_pps_vs_reference', 'nat_pps_vs_reference', 'dr_cpu_per_packet_vs_reference',
  'dataplane_ns_per_packet_1k', 'dataplane_ns_per_packet_1m', 'nat_pps_vs_kernel',
  'http_rps_vs_haproxy', 'http_rps_vs_direct', 'http_p99_ms', 'http_cpu_s_per_10k_requests',
  'added_latency_p50_us', 'added_latency_p99_us', 'cpu_per_packet_1m_vs_1k', 'bytes_per_flow',
  'failover_gap_ms', 'check_detect_ms', 'sync_established_to_backup_p99_ms', 'restart_after_kill9_ms',
] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];

/** Targets from the project's goals (issue 7; issue 18 tightened CPU, ns and bytes per flow). */
export const GOALS: Partial<Record<FigureKey, { op: '>=' | '<='; value: number }>> = {
  dr_pps_vs_reference: { op: '>=', value: 0.8 },
  dr_cpu_per_packet_vs_reference: { op: '<=', value: 1.2 },
  dataplane_ns_per_packet_1m: { op: '<=', value: 100 },
  nat_pps_vs_kernel: { op: '>=', value: 1.0 },
  http_rps_vs_haproxy: { op: '>=', value: 1.3 },
  added_latency_p99_us: { op: '<=', value: 50 },
  cpu_per_packet_1m_vs_1k: { op: '<=', value: 1.5 },
  bytes_per_flow: { op: '<=', value: 40 },
  sync_established_to_backup_p99_ms: { op: '<=', value: 100 },
  restart_after_kill9_ms: { op: '<=', value: 2000 },
};

/**
 * ulvs / alternative. A ratio over a zero or non-finite denominator has no meaning: it throws,
 * and the figure is recorded as failed with that reason rather than as Infinity.
 */
export function ratio(ulvs: number, alternative: number): number {
  if (!Number.isFinite(ulvs) || !Number.isFinite(alternative)) throw new RangeError(`ratio of non-finite numbers (${ulvs} / ${alternative})`);
  if (alternative <= 0) throw new RangeError(`ratio over a non-positive alternative (${ulvs} / ${alternative})`);
  if (ulvs < 0) throw new RangeError(`negative measurement (${ulvs})`);
  return ulvs / alternative;
}

/** CPU added per delivered packet, in µs: (busy during the run - busy of the baseline) / packets. */
export function addedCpuPerPacketUs(busySeconds: number, baselineBusySeconds: number, delivered: number): number {
  if (delivered <= 0) throw new RangeError('no packet was delivered');
  return (Math.max(0, busySeconds - baselineBusySeconds) / delivered) * 1e6;
}

export function meetsGoal(figure: Figure): boolean | null {
  if (figure.status !== 'ok' || !figure.goal || figure.value === undefined) return null;
  return figure.goal.op === '>=' ? figure.value >= figure.goal.value : figure.value <= figure.goal.value;
}

export function ok(experiment: string, value: number, unit: string, bars: Bar[], key: FigureKey | string, details?: Record<string, unknown>): Figure {
  return { status: 'ok', value, unit, bars, experiment, goal: GOALS[key as FigureKey], details };
}

/**
 * A figure from interleaved trials: the median of `input.samples`, with their spread, `ok`
 * when trust.ts's judge finds the inputs plausible and `unreliable` (with the reasons) when not.
 */
export function trusted(experiment: string, key: FigureKey | string, input: TrustInput, bars: Bar[], details?: Record<string, unknown>): Figure {
  const goal = GOALS[key as FigureKey];
  const verdict = judge({ ...input, goal });
  const figure: Figure = { ...ok(experiment, verdict.spread.median, input.unit, bars, key, details), spread: verdict.spread };
  return verdict.reliable ? figure : { ...figure, status: 'unreliable', reason: verdict.reasons.join('; ') };
}

export function failed(experiment: string, key: string, reason: string): Figure {
  return { status: 'failed', reason, bars: [], experiment, goal: GOALS[key as FigureKey] };
}

export function pending(experiment: string, key: string, reason: string): Figure {
  return { status: 'pending', reason, bars: [], experiment, goal: GOALS[key as FigureKey] };
}

/** Numbers as people read them: 3 significant digits, thousands grouped. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs === 0) return '0';
  return Number(value.toPrecision(3)).toString();
}

function escapeMarkdown(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine;
  const lines = [
    `# ulvs benchmark${result.quick ? ' (quick run)' : ''}`,
    '',
    `Run ${result.date} on ${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}, Node ${m.node} (${formatNumber(result.durationSeconds)} s).`,
    'Ratios are ulvs / alternative measured in the same run: the median of the per-trial ratios of interleaved trials.',
    '`unreliable`: the inputs were implausible (a negative added latency, a reference far outside its history,',
    'a spread wider than the effect claimed, a trial that missed its offered load); its value meets no goal.',
    '',
    '| figure | value | spread (min-max, trials) | goal | status | absolute numbers |',
    '|---|---|---|---|---|---|',
  ];
  for (const key of orderedKeys(result)) {
    const f = result.figures[key];
    const measured = (f.status === 'ok' || f.status === 'unreliable') && f.value !== undefined;
    const value = measured ? `${formatNumber(f.value!)}${f.unit && f.unit !== 'ratio' ? ` ${f.unit}` : ''}` : '–';
    const spread = f.spread ? `${formatNumber(f.spread.min)}-${formatNumber(f.spread.max)}, ${f.spread.n}` : '';
    const goal = f.goal ? `${f.goal.op} ${formatNumber(f.goal.value)}` : '';
    const met = meetsGoal(f);
    const status = f.status === 'ok' ? (met === null ? 'ok' : met ? 'ok, meets goal' : 'ok, misses goal') : `${f.status}: ${f.reason ?? ''}`;
    const bars = f.bars.map((b) => `${b.label} ${formatNumber(b.value)} ${b.unit}`).join('; ');
    lines.push(`| \`${key}\` | ${value} | ${spread} | ${goal} | ${escapeMarkdown(status)} | ${escapeMarkdown(bars)} |`);
  }
  return lines.join('\n') + '\n';
}

function orderedKeys(result: BenchResult): string[] {
  const known = FIGURE_KEYS.filter((k) => k in result.figures) as string[];
  return [...known, ...Object.keys(result.figures).filter((k) => !known.includes(k))];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A horizontal bar chart of a figure's absolute numbers (hand-written SVG, no dependencies).
 * Bars with different units are scaled per unit so that each group fills the width.
 */
export function renderSvg(key: string, figure: Figure): string {
  const width = 640, left = 190, right = 90, top = 48, barHeight = 24, gap = 10;
  const bars = figure.bars;
  const height = top + Math.max(1, bars.length) * (barHeight + gap) + 16;
  const maxByUnit = new Map<string, number>();
  for (const b of bars) maxByUnit.set(b.unit, Math.max(maxByUnit.get(b.unit) ?? 0, b.value));
  const number = figure.value !== undefined
    ? `${formatNumber(figure.value)}${figure.unit && figure.unit !== 'ratio' ? ` ${figure.unit}` : ''}${figure.spread
      ? ` (${formatNumber(figure.spread.min)}-${formatNumber(figure.spread.max)}, ${figure.spread.n} trials)` : ''}`
    : '';
  const headline = figure.status === 'ok' ? number
    : figure.status === 'unreliable' ? `unreliable: ${number}; ${figure.reason ?? ''}` : `${figure.status}: ${figure.reason ?? ''}`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(key)}</text>`,
    `<text x="10" y="38" fill="#444">${escapeXml(headline)}${figure.goal ? escapeXml(` (goal ${figure.goal.op} ${formatNumber(figure.goal.value)})`) : ''}</text>`,
  ];
  bars.forEach((b, i) => {
    const y = top + i * (barHeight + gap);
    const max = maxByUnit.get(b.unit) ?? 0;
    const w = max > 0 ? Math.max(1, ((width - left - right) * b.value) / max) : 0;
    const fill = /ulvs/i.test(b.label) ? '#2b6cb0' : '#a0aec0';
    out.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${fill}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 16}">${escapeXml(`${formatNumber(b.value)} ${b.unit}`)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
