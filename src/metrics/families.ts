/**
 * Metric families with many series (one per real server: 10,000 in a large table) handed to
 * prom-client's Registry as ready values. prom-client's Counter/Gauge hash every label set on
 * each inc()/set() and its writer formats and escapes every label of every line; at 10,000
 * real servers that was 80,000 series and seconds per scrape. Here each series' labels are one
 * object kept across scrapes (LabelCache) and passed as prom-client's `sharedLabels`, which its
 * writer formats once per object (a WeakMap cache) and reuses: a scrape only fills in numbers.
 * The text is still prom-client's (Registry.metrics), not ours.
 */
import type { Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;
interface Value { value: number; labels: Labels; sharedLabels: Labels }
const NO_LABELS: Labels = Object.freeze({});

/** The same label object for the same series from one scrape to the next. */
export class LabelCache {
  private current = new Map<string, Labels>();
  private previous = new Map<string, Labels>();

  /** The labels of the series `key` names, made by `make` the first time. */
  get(key: string, make: () => Labels): Labels {
    let labels = this.current.get(key);
    if (labels) return labels;
    labels = this.previous.get(key) ?? Object.freeze(make());
    this.current.set(key, labels);
    return labels;
  }

  /** End of a scrape: series not seen in it are forgotten (a server removed). */
  sweep(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/** One family in prom-client's collector shape (what Registry.metrics() calls get() on). */
export class ValuesFamily {
  readonly aggregator = 'sum';
  private readonly values: Value[] = [];

  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge', registry: Registry) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  add(labels: Labels, value: number): void {
    this.values.push({ value, labels: NO_LABELS, sharedLabels: labels });
  }

  get(): { name: string; help: string; type: string; values: Value[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values, aggregator: this.aggregator };
  }
}
