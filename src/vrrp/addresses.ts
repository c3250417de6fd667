// The one place VRRP puts a VIP on an interface or takes it off (crash-restart work changes
// how, here only).
import { run } from '../os/run.js';
import type { VirtualIpaddressConfig } from './config.js';

/** `ip addr add`; an address already there counts as added. */
export async function addVip(vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  await ipAddr('add', vip, defaultDev);
}

/** `ip addr del`; an address already gone counts as removed. */
export async function removeVip(vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  await ipAddr('del', vip, defaultDev);
}

async function ipAddr(op: 'add' | 'del', vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  const address = vip.address.includes('/') ? vip.address : `${vip.address}/32`;
  const args = ['addr', op, address, 'dev', vip.dev ?? defaultDev];
  if (op === 'add' && vip.label) args.push('label', vip.label);
  try {
    await run('ip', args);
  } catch (err) {
    // Already there (add) or already gone (del): the goal holds.
    if (!/File exists|Cannot assign requested address|ENOENT|No such/.test((err as Error).message)) throw err;
  }
}
