/**
 * The health checks as the director sees them: they run on the main thread (never on a
 * dataplane worker) and their verdicts become snapshot changes: a failed server leaves
 * scheduling (or gets weight 0 with inhibit_on_failure), the sorry server comes in when quorum
 * is lost. The snapshot compiler reads the verdicts through healthOf and sorryActive.
 */
import type pino from 'pino';
import type { UlvsConfig } from '../config/index.js';
import { HealthManager, type HealthEvent, type QuorumEvent } from '../health/manager.js';
import { healthPlan } from '../health/plan.js';
import type { HealthState } from './compile.js';

export class HealthVerdicts {
  private manager: HealthManager | null = null;
  /** "serviceId|ip:port" -> what the checks last said. */
  private readonly state = new Map<string, HealthState>();
  private readonly sorry = new Map<string, boolean>();

  /** `onChange`: a verdict changed what the snapshot holds. */
  constructor(private readonly log: pino.Logger, private readonly onChange: () => void) {}

  healthOf(serviceId: string, rsKey: string): HealthState | undefined {
    return this.state.get(`${serviceId}|${rsKey}`);
  }

  /** Every verdict the checks gave (the metrics' ulvs_checker_up). */
  verdicts(): { service: string; realServer: string; up: boolean }[] {
    return [...this.state].map(([key, h]) => {
      const bar = key.lastIndexOf('|');
      return { service: key.slice(0, bar), realServer: key.slice(bar + 1), up: h.up };
    });
  }

  sorryActive(serviceId: string): boolean {
    return this.sorry.get(serviceId) ?? false;
  }

  /** Runs the config's checks: the first ones may come with a reload, later ones are diffed in. */
  apply(config: UlvsConfig): void {
    const plan = healthPlan(config);
    if (this.manager) {
      this.manager.reload(plan.checks, plan.services);
      return;
    }
    if (plan.checks.length === 0 && !plan.services.some((s) => s.sorry_server)) return;
    this.manager = new HealthManager(plan.checks, { services: plan.services });
    this.manager.on('change', (e: HealthEvent) => {
      for (const serviceId of e.serviceIds) this.state.set(`${serviceId}|${e.rsKey}`, { up: e.up, weight: e.weight });
      this.log.info({ realServer: e.rsKey, services: e.serviceIds, up: e.up, weight: e.weight, reason: e.reason },
        `real server ${e.rsKey} is ${e.up ? 'up' : 'down'}`);
      this.onChange();
    });
    this.manager.on('quorum', (e: QuorumEvent) => {
      if (this.sorryActive(e.serviceId) === e.sorryServerActive) return;
      this.sorry.set(e.serviceId, e.sorryServerActive);
      this.log.info({ service: e.serviceId, quorumUp: e.quorumUp, liveWeight: e.liveWeight },
        e.sorryServerActive ? 'quorum lost: sorry server takes the traffic' : 'quorum back: sorry server leaves');
      this.onChange();
    });
    this.manager.start();
  }

  async stop(): Promise<void> {
    await this.manager?.stop();
  }
}
