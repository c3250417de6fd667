// configs/grafana-ulvs.json queries only metrics /metrics really serves (a renamed metric
// would leave an empty panel nobody notices).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderMetrics } from '../../src/metrics/render.js';
import { parseMetrics } from '../support/prometheus.js';

t.test('every metric the dashboard queries is served', async (t) => {
  const dashboard = JSON.parse(readFileSync('configs/grafana-ulvs.json', 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const served = parseMetrics((await renderMetrics({
    services: [], stats: { sync_master: 1, sync_sent_records: 1, sync_received_records: 1 }, workers: [], vrrp: [], checkers: [],
  })).text);
  t.ok(dashboard.panels.length >= 10);
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      for (const name of target.expr.match(/ulvs_[a-z_]+/g) ?? []) t.ok(served.has(name), `${panel.title}: ${name}`);
    }
  }
});
