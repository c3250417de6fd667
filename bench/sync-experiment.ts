// The bench framework's view of issue 11's figures: connection sync on the wire (sync-lab.js)
// and a director's restart after kill -9 (restart.js), each in its own lab (prefixes syb-, syr-).
import type { Experiment } from './experiments.js';
import { failed, ok, type Figure } from './report.js';
import { runBenchScript } from './sys.js';

interface Spread { median: number; min: number; max: number }

export const syncExperiment: Experiment = {
  name: 'sync',
  figures: ['sync_established_to_backup_p99_ms', 'restart_after_kill9_ms'],
  lab: null,
  async run(ctx) {
    let sync: Figure;
    try {
      ctx.progress('connection sync in the lab (bench/sync-lab.js, its own lab)');
      const r = await runBenchScript('sync-lab.js', ['--conns', ctx.quick ? '150' : '300', '--seconds', ctx.quick ? '4' : '8']);
      const lat = r.latency as { ack_to_applied_on_backup_ms: { p50: number; p99: number }; ack_to_wire_ms: { p50: number; p99: number } };
      sync = ok(this.name, lat.ack_to_applied_on_backup_ms.p99, 'ms', [
        { label: 'ACK -> on the wire p50', value: lat.ack_to_wire_ms.p50, unit: 'ms' },
        { label: 'ACK -> on the wire p99', value: lat.ack_to_wire_ms.p99, unit: 'ms' },
        { label: 'ACK -> applied on backup p50', value: lat.ack_to_applied_on_backup_ms.p50, unit: 'ms' },
        { label: 'ACK -> applied on backup p99', value: lat.ack_to_applied_on_backup_ms.p99, unit: 'ms' },
      ], 'sync_established_to_backup_p99_ms', r);
    } catch (err) {
      sync = failed(this.name, 'sync_established_to_backup_p99_ms', (err as Error).message);
    }
    let restart: Figure;
    try {
      ctx.progress('restart after kill -9 (bench/restart.js, its own lab)');
      const r = await runBenchScript('restart.js', ['--trials', ctx.quick ? '2' : '3']);
      const clean = r.clean_start_ms as Spread, again = r.restart_after_kill9_ms as Spread;
      restart = ok(this.name, again.median, 'ms', [
        { label: 'clean start (median)', value: clean.median, unit: 'ms' },
        { label: 'restart after kill -9 (median)', value: again.median, unit: 'ms' },
        { label: 'restart after kill -9 (max)', value: again.max, unit: 'ms' },
      ], 'restart_after_kill9_ms', r);
    } catch (err) {
      restart = failed(this.name, 'restart_after_kill9_ms', (err as Error).message);
    }
    return { sync_established_to_backup_p99_ms: sync, restart_after_kill9_ms: restart };
  },
};
