/**
 * The health checks as the director sees them: they run on the main thread (never on a
 * dataplane worker) and their verdicts become snapshot changes: a failed server leaves
 * scheduling (or gets weight 0 with inhibit_on_failure), the sorry server comes in when quorum
 * is lost. The snapshot compiler reads the verdicts through healthOf and sorryActive.
 */
import type pino from 'pino';
import type { UlvsConfig } from '../config/index.js';
import { HealthManager, type CheckerStatus, type HealthEvent, type MemberStatus, type QuorumEvent } from '../health/manager.js';
import { healthPlan } from '../health/plan.js';
import { numberToIp } from '../packet/addr.js';
import { serviceAddresses, type HealthState } from './compile.js';
import { withoutMissingMiscScripts } from './misc-scripts.js';

/**
 * Hears verdict moves (the alerts): `moved` lists the services where the real server went up or
 * down (not the first verdict, not a weight change); `initial` marks a service's first quorum.
 */
export interface VerdictListener {
  realServer(e: HealthEvent, moved: string[]): void;
  quorum(e: QuorumEvent, initial: boolean): void;
}

export class HealthVerdicts {
  private manager: HealthManager | null = null;
  /** "serviceId|ip:port" -> what the checks last said. */
  private readonly state = new Map<string, HealthState>();
  private readonly sorry = new Map<string, boolean>();
  private readonly quorumSeen = new Set<string>();

  /** `onChange`: a verdict changed what the snapshot holds; `listener` hears every event (alerts). */
  constructor(
    private readonly log: pino.Logger,
    private readonly onChange: () => void,
    private readonly listener?: VerdictListener,
  ) {}

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
    const plan = healthPlan(withoutMissingMiscScripts(config, this.log));
    // ha_suspend watches every address of the service: a group's VIPs too.
    config.virtual_servers.forEach((vs, i) => {
      if (vs.group) plan.services[i].vips = serviceAddresses(config, vs).map((a) => numberToIp(a.vip));
    });
    if (this.manager) {
      this.manager.setRunAs(plan.runAs);
      this.manager.reload(plan.checks, plan.services);
      return;
    }
    if (plan.checks.length === 0 && !plan.services.some((s) => s.sorry_server)) return;
    // The manager logs quorum changes, ha_suspend and log_all_failures; the changes are ours.
    this.manager = new HealthManager(plan.checks, { services: plan.services, runAs: plan.runAs, logger: this.log });
    this.manager.on('change', (e: HealthEvent) => {
      const moved = e.serviceIds.filter((id) => { const was = this.state.get(`${id}|${e.rsKey}`); return was !== undefined && was.up !== e.up; });
      for (const serviceId of e.serviceIds) this.state.set(`${serviceId}|${e.rsKey}`, { up: e.up, weight: e.weight });
      this.log.info({ realServer: e.rsKey, services: e.serviceIds, up: e.up, weight: e.weight, reason: e.reason },
        `real server ${e.rsKey} is ${e.up ? 'up' : 'down'}`);
      if (moved.length) this.listener?.realServer(e, moved);
      this.onChange();
    });
    this.manager.on('quorum', (e: QuorumEvent) => {
      this.listener?.quorum(e, !this.quorumSeen.has(e.serviceId));
      this.quorumSeen.add(e.serviceId);
      if (this.sorryActive(e.serviceId) === e.sorryServerActive) return;
      this.sorry.set(e.serviceId, e.sorryServerActive);
      this.log.info({ service: e.serviceId, quorumUp: e.quorumUp, liveWeight: e.liveWeight },
        e.sorryServerActive ? 'quorum lost: sorry server takes the traffic' : 'quorum back: sorry server leaves');
      this.onChange();
    });
    this.manager.start();
  }

  /** ha_suspend: which VIPs this director holds now (VRRP MASTER, or not VRRP-managed). */
  setVipPresence(present: (vip: string) => boolean): void {
    this.manager?.setVipPresence(present);
  }

  /** Checkers, real-server verdicts and quorum, for `ulvs status --json` (empty without checks). */
  status(): { checkers: CheckerStatus[]; realServers: MemberStatus[]; quorum: QuorumEvent[] } {
    return { checkers: this.manager?.checkerStatus() ?? [], realServers: this.manager?.status() ?? [], quorum: this.manager?.quorumStatus() ?? [] };
  }

  /** The director stops: omega services run their down notifiers. */
  async stop(): Promise<void> {
    await this.manager?.stop({ shutdown: true });
  }
}
