/**
 * Usable real servers per VIP, read from the snapshot the workers forward by: a real server
 * counts when a check has not taken it out and its weight is above 0; a sorry server never
 * counts (it stands in when the real ones are gone). A VIP this director does not hold (VRRP
 * BACKUP) has no services in the snapshot and so counts 0.
 */
import type { UlvsConfig } from '../config/index.js';
import type { Snapshot } from '../dataplane/snapshot.js';
import { ipToNumber, numberToIp } from '../packet/addr.js';
import { serviceKey, type IdRegistry } from '../control/compile.js';
import { usableByVip } from './decision.js';

export function usableFromSnapshot(snapshot: Snapshot, config: UlvsConfig, ids: IdRegistry): Map<string, number> {
  const sorry = new Map<number, { ip: number; port: number }>();
  for (const vs of config.virtual_servers) {
    if (vs.sorry_server) sorry.set(ids.idOf(serviceKey(vs)), { ip: ipToNumber(vs.sorry_server.ip), port: vs.sorry_server.port });
  }
  return usableByVip(snapshot.services.map((s) => {
    const stand = sorry.get(s.id);
    const usable = s.realServers.filter((r) => r.available && r.weight > 0 && !(stand && r.ip === stand.ip && r.port === stand.port)).length;
    return { vips: s.addresses.map((a) => numberToIp(a.vip)), usable };
  }));
}
