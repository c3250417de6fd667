// What `ulvs status` shows of an instance, and the counters it keeps. Pure.
import { addressKeyText } from './address-key.js';
import { instanceFamily } from './settings.js';
import type { DropReason } from './codec.js';
import type { VrrpInstanceConfig } from './config.js';
import type { InstanceParams, InstanceRuntime, VrrpState } from './state.js';
import { effectivePriority, type TrackedState } from './tracking.js';

/** Counters per instance: every dropped advert by reason, and failed sends. */
/** `addr_list_mismatch`: taken, but its VIP list is not ours (keepalived's addr_list_err). */
export type VrrpCounter = DropReason | 'unknown_peer' | 'send_failed' | 'addr_list_mismatch';

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  /** 4 or 6: the family of the instance's VIPs and adverts. */
  family: 4 | 6;
  state: VrrpState;
  priority: number;
  configuredPriority: number;
  masterIp: string | null;
  vips: string[];
  lastTransition: { at: string; from: VrrpState; to: VrrpState; reason: string } | null;
  drops: Partial<Record<VrrpCounter, number>>;
  advertsSent: number;
  advertsReceived: number;
  /** Tracked scripts, interfaces and files with their state, and those that force FAULT. */
  tracked: TrackedState[];
  faultBy: string[];
}

/** The parts of a running instance its status is made of. */
export interface StatusSource {
  cfg: VrrpInstanceConfig;
  params: InstanceParams;
  runtime: InstanceRuntime;
  /** Wall clock (ms) of the last transition; the state machine counts monotonic time. */
  wallTransitionAt: number;
  drops: Partial<Record<VrrpCounter, number>>;
  advertsSent: number;
  advertsReceived: number;
  tracked?: readonly TrackedState[];
}

export function instanceStatus(inst: StatusSource): InstanceStatus {
  return {
    name: inst.cfg.name,
    interface: inst.cfg.interface,
    vrid: inst.cfg.virtual_router_id,
    version: inst.params.version,
    family: instanceFamily(inst.cfg),
    state: inst.runtime.state,
    priority: inst.params.priority,
    configuredPriority: inst.params.basePriority,
    masterIp: inst.runtime.masterIp === null ? null : addressKeyText(inst.runtime.masterIp),
    vips: inst.cfg.virtual_ipaddress.map((v) => v.address),
    lastTransition: inst.runtime.lastTransition === null ? null : {
      at: new Date(inst.wallTransitionAt).toISOString(),
      from: inst.runtime.lastTransition.from,
      to: inst.runtime.lastTransition.to,
      reason: inst.runtime.lastTransition.reason,
    },
    drops: { ...inst.drops },
    advertsSent: inst.advertsSent,
    advertsReceived: inst.advertsReceived,
    tracked: (inst.tracked ?? []).map((x) => ({ ...x })),
    faultBy: effectivePriority(inst.params.basePriority, inst.tracked ?? []).faultBy,
  };
}
