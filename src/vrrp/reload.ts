// The VRRP part of a reload as a pure diff: which instances stay untouched, which are updated
// in place (their state and timers survive), which stop and which start; which vrrp_scripts
// come and go; which VIPs an updated instance gains or loses. The speaker carries it out.

import type { VirtualIpaddressConfig, VrrpConfig, VrrpInstanceConfig } from './config.js';
import { heldAddressesOf, instanceFamily } from './settings.js';

export interface InstanceUpdate {
  name: string;
  /** Top-level keys of the instance (or `vrrp_mcast_group4`) whose value changed. */
  changed: string[];
  vipsAdded: VirtualIpaddressConfig[];
  vipsRemoved: VirtualIpaddressConfig[];
}

export interface VrrpReloadPlan {
  unchanged: string[];
  updated: InstanceUpdate[];
  /** Stop as on shutdown (priority-0 advert when MASTER, VIPs removed, notify_stop). */
  removed: string[];
  /** Start as at startup. */
  added: string[];
  scriptsAdded: string[];
  scriptsRemoved: string[];
  scriptsChanged: string[];
  /** Instances whose sync group (by name) is not the one they had. */
  syncGroupMoves: string[];
  /** Sync groups whose notify scripts or members changed, or that came or went. */
  syncGroupsChanged: string[];
}

/**
 * Keys that make a different virtual router rather than a changed one: another interface,
 * VRID or protocol version cannot be adopted by a running state machine, so the instance
 * stops (priority 0 when MASTER) and a new one starts.
 */
export const IDENTITY_KEYS = ['interface', 'virtual_router_id', 'version'] as const;

export function planVrrpReload(old: VrrpConfig, next: VrrpConfig): VrrpReloadPlan {
  const plan: VrrpReloadPlan = {
    unchanged: [], updated: [], removed: [], added: [],
    scriptsAdded: [], scriptsRemoved: [], scriptsChanged: [], syncGroupMoves: [], syncGroupsChanged: [],
  };
  const oldByName = new Map(old.vrrp_instances.map((i) => [i.name, i]));
  const nextByName = new Map(next.vrrp_instances.map((i) => [i.name, i]));
  const mcastChanged = (old.vrrp_mcast_group4 ?? null) !== (next.vrrp_mcast_group4 ?? null);
  const mcast6Changed = (old.vrrp_mcast_group6 ?? null) !== (next.vrrp_mcast_group6 ?? null);

  for (const o of old.vrrp_instances) {
    const n = nextByName.get(o.name);
    if (!n || IDENTITY_KEYS.some((k) => !same(identityValue(o, k), identityValue(n, k)))) plan.removed.push(o.name);
  }
  for (const n of next.vrrp_instances) {
    const o = oldByName.get(n.name);
    if (!o || plan.removed.includes(n.name)) { plan.added.push(n.name); continue; }
    const changed = changedKeys(o, n);
    // The global group only matters to instances that multicast to it.
    const multicasts = (n.unicast_peer ?? []).length === 0;
    if (mcastChanged && !n.mcast_dst_ip && multicasts) changed.push('vrrp_mcast_group4');
    if (mcast6Changed && multicasts && instanceFamily(n) === 6) changed.push('vrrp_mcast_group6');
    if (changed.length === 0) { plan.unchanged.push(n.name); continue; }
    plan.updated.push({ name: n.name, changed, ...vipDiff(heldAddressesOf(o), heldAddressesOf(n)) });
  }

  const oldScripts = old.vrrp_scripts ?? {};
  const nextScripts = next.vrrp_scripts ?? {};
  for (const name of Object.keys(oldScripts)) if (!(name in nextScripts)) plan.scriptsRemoved.push(name);
  for (const [name, cfg] of Object.entries(nextScripts)) {
    if (!(name in oldScripts)) plan.scriptsAdded.push(name);
    else if (!same(oldScripts[name], cfg)) plan.scriptsChanged.push(name);
  }

  const oldGroupOf = groupOf(old);
  const nextGroupOf = groupOf(next);
  for (const n of next.vrrp_instances) {
    if (plan.added.includes(n.name)) continue;
    if ((oldGroupOf.get(n.name) ?? null) !== (nextGroupOf.get(n.name) ?? null)) plan.syncGroupMoves.push(n.name);
  }
  const oldGroups = new Map((old.vrrp_sync_groups ?? []).map((g) => [g.name, g]));
  const nextGroups = new Map((next.vrrp_sync_groups ?? []).map((g) => [g.name, g]));
  for (const name of new Set([...oldGroups.keys(), ...nextGroups.keys()])) {
    if (!same(oldGroups.get(name), nextGroups.get(name))) plan.syncGroupsChanged.push(name);
  }
  return plan;
}

/** VIPs are the same entry when address, dev, label, brd, scope and peer match (a change re-adds it). */
export function vipKey(v: VirtualIpaddressConfig, defaultDev = ''): string {
  const address = v.address.includes('/') ? v.address : `${v.address}/32`;
  return `${address} ${v.dev ?? defaultDev} ${v.label ?? ''} ${v.brd ?? ''} ${v.scope ?? ''} ${v.peer ?? ''}`;
}

export function vipDiff(old: readonly VirtualIpaddressConfig[], next: readonly VirtualIpaddressConfig[]):
{ vipsAdded: VirtualIpaddressConfig[]; vipsRemoved: VirtualIpaddressConfig[] } {
  const oldKeys = new Set(old.map((v) => vipKey(v)));
  const nextKeys = new Set(next.map((v) => vipKey(v)));
  return {
    vipsAdded: next.filter((v) => !oldKeys.has(vipKey(v))),
    vipsRemoved: old.filter((v) => !nextKeys.has(vipKey(v))),
  };
}

function identityValue(i: VrrpInstanceConfig, key: (typeof IDENTITY_KEYS)[number]): unknown {
  return key === 'version' ? i.version ?? 2 : i[key];
}

function changedKeys(o: VrrpInstanceConfig, n: VrrpInstanceConfig): string[] {
  const keys = new Set([...Object.keys(o), ...Object.keys(n)]);
  const out: string[] = [];
  for (const k of keys) {
    if (!same((o as unknown as Record<string, unknown>)[k], (n as unknown as Record<string, unknown>)[k])) out.push(k);
  }
  return out.sort();
}

function groupOf(c: VrrpConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of c.vrrp_sync_groups ?? []) for (const m of g.group) out.set(m, g.name);
  return out;
}

/** Structural equality where an absent key equals `undefined` (configs come from JSON/YAML). */
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>)
        .filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return value;
  }) ?? 'undefined';
}
