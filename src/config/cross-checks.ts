/**
 * Mistakes no single key shows: names that point nowhere, an address or VRID used twice,
 * contradictory settings. Runs on the loaded value as written (paths as in the file), reading
 * it defensively so that it can run even when the schema found errors too: every mistake is
 * reported at once. One check per block: check-vrrp.ts, check-services.ts, check-overlaps.ts.
 */
import { checkAlerts } from './check-alerts.js';
import { checkFamilies } from './check-families.js';
import { checkFullNat } from './check-fnat.js';
import { checkTunnels } from './check-tunnels.js';
import { checkIpv6Services } from './check-ipv6-services.js';
import { checkLocalServers } from './check-local-servers.js';
import { checkBgp } from './check-bgp.js';
import { checkOverlaps } from './check-overlaps.js';
import { checkScriptUsers } from './check-script-users.js';
import { checkOperations } from './check-operations.js';
import { checkServerGroups, checkServices } from './check-services.js';
import { checkInstances, checkScripts, checkSyncDaemon, checkSyncGroups } from './check-vrrp.js';
import { Findings, gatherNames, has, obj, str, type CrossCheckEnv, type Finding, type Obj } from './cross-check-kit.js';

export { commandPath, type CrossCheckEnv, type Finding, type Severity } from './cross-check-kit.js';

/** NAT's inside interface is a second one; lvs_timeouts set in two places. */
export function checkDataplane(cfg: Obj, r: Findings): void {
  const globalDefs = obj(cfg.global_defs);
  const dataplane = obj(cfg.dataplane);
  if (dataplane && str(dataplane.inside) !== undefined && str(dataplane.inside) !== 'auto' && str(dataplane.inside) === (str(dataplane.interface) ?? 'eth0')) {
    r.error(['dataplane', 'inside'], 'dataplane.inside must differ from dataplane.interface', 'NAT needs a second interface toward the real servers');
  }
  // busy_poll true spins without end and false never spins: a spin time would be ignored.
  if (has(dataplane, 'busy_poll_spin_us') && dataplane?.busy_poll !== 'adaptive') {
    r.error(['dataplane', 'busy_poll_spin_us'], `dataplane.busy_poll_spin_us applies only to busy_poll: adaptive (busy_poll is ${JSON.stringify(dataplane?.busy_poll ?? false)})`,
      'set busy_poll: adaptive, or remove busy_poll_spin_us');
  }
  if (has(globalDefs, 'lvs_timeouts') && has(dataplane, 'lvs_timeouts')) {
    r.warn(['global_defs', 'lvs_timeouts'], 'lvs_timeouts is set in global_defs and in dataplane', 'dataplane.lvs_timeouts wins', true);
  }
}

export function crossCheck(root: unknown, env: CrossCheckEnv): Finding[] {
  const r = new Findings();
  const cfg = obj(root);
  if (!cfg) return r.list;
  const names = gatherNames(cfg);
  checkDataplane(cfg, r);
  checkScripts(cfg, r, env);
  checkInstances(cfg, names, r, env);
  checkSyncGroups(cfg, names, r, env);
  checkSyncDaemon(cfg, names, r);
  checkServerGroups(cfg, names, r, env);
  checkServices(cfg, names, r, env);
  checkOverlaps(cfg, r, env);
  checkLocalServers(cfg, r);
  checkScriptUsers(cfg, r, env);
  checkAlerts(cfg, r);
  checkOperations(cfg, r);
  checkFamilies(cfg, r);
  checkBgp(cfg, r);
  checkFullNat(cfg, r);
  checkTunnels(cfg, r);
  checkIpv6Services(cfg, r);
  return r.list;
}
