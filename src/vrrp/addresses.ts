// The one place VRRP puts a VIP on an interface or takes it off. The process's address ledger
// knows which VIPs ulvs added (and records them for a restart after a crash): an address that
// was already there is used and never removed (src/os/address-ledger.ts).
import { addressLedger } from '../os/address-ledger.js';
import type { VirtualIpaddressConfig } from './config.js';

/** `ip addr add`; an address already there counts as added (and stays after we stop). */
export async function addVip(vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  await addressLedger.add({ ...vip, dev: vip.dev ?? defaultDev });
}

/** `ip addr del` of an address ulvs added; one it did not add is left alone. */
export async function removeVip(vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  await addressLedger.remove({ ...vip, dev: vip.dev ?? defaultDev });
}
