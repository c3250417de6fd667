// An instance's VIPs on the interface and their gratuitous ARPs. VIP work (ip addr add/del,
// GARP) runs in order, one job at a time, so a quick MASTER -> BACKUP -> MASTER cannot
// interleave an add with a remove.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';

import { ipToNumber, parseMac } from '../packet/addr.js';
import { openPacketSocket, type PacketSocket } from '../os/raw-sockets.js';
import { addVip, removeVip } from './addresses.js';
import type { VirtualIpaddressConfig, VrrpInstanceConfig } from './config.js';
import { buildGarp } from './garp.js';
import { buildUnsolicitedNa } from './na.js';
import { burstOrder, garpPlan, nextGarpAt } from './garp-plan.js';
import { vipKey } from './reload.js';
import { heldAddressesOf, stripPrefix } from './settings.js';

export interface VipLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Whether the interface forwards IPv6: then an NA carries the Router flag, as keepalived's do
 * (RFC 4861 4.4: R says the sender is a router; neighbours that see it cleared take it off their
 * default-router list). Read at each takeover, so a sysctl change in between counts.
 */
export function forwardsIpv6(dev: string, sysctlDir = '/proc/sys/net/ipv6/conf'): boolean {
  try {
    return readFileSync(`${sysctlDir}/${dev}/forwarding`, 'utf8').trim() === '1';
  } catch {
    return false; // no IPv6 on the device: it sends no NA either
  }
}

interface DeviceQueue { lastSentMs: number | null; frames: Uint8Array[]; timer: NodeJS.Timeout | null }

/**
 * One packet socket per device, shared by every instance that announces there. With
 * vrrp_garp_interval, GARPs on one device go at least that far apart, in the order queued;
 * IPv6 VIPs get unsolicited neighbour advertisements instead (na.ts), paced apart by
 * vrrp_gna_interval in a queue of their own, as keepalived paces the two.
 */
export class GarpSender {
  private readonly sockets = new Map<string, PacketSocket>();
  private readonly queues = new Map<string, DeviceQueue>();

  /** `intervalMs`: read at each send, so a reload changes it. */
  /** `intervalMs`, `naIntervalMs`: read at each send, so a reload changes them. */
  constructor(
    private readonly intervalMs: () => number = () => 0,
    private readonly log?: VipLogger,
    private readonly naIntervalMs: () => number = () => 0,
  ) {}

  /** Throws when the device has no socket or no MAC. */
  send(dev: string, addresses: readonly string[]): void {
    if (addresses.length === 0) return;
    let packet = this.sockets.get(dev);
    if (!packet) { packet = openPacketSocket(dev); this.sockets.set(dev, packet); }
    const mac = interfaceMac(dev);
    for (const family of [4, 6] as const) {
      const mine = addresses.filter((a) => a.includes(':') === (family === 6));
      if (mine.length === 0) continue;
      const key = family === 4 ? dev : `${dev}/na`;
      let queue = this.queues.get(key);
      if (!queue) { queue = { lastSentMs: null, frames: [], timer: null }; this.queues.set(key, queue); }
      const router = family === 6 && forwardsIpv6(dev);
      for (const address of mine) {
        const ip = stripPrefix(address);
        queue.frames.push(family === 4 ? buildGarp(mac, ipToNumber(ip)) : buildUnsolicitedNa(mac, ip, { router }));
      }
      if (queue.timer === null) this.drain(dev, packet, queue, family === 4 ? this.intervalMs : this.naIntervalMs);
    }
  }

  close(): void {
    for (const queue of this.queues.values()) if (queue.timer) clearTimeout(queue.timer);
    this.queues.clear();
    for (const packet of this.sockets.values()) packet.close();
    this.sockets.clear();
  }

  private drain(dev: string, packet: PacketSocket, queue: DeviceQueue, intervalMs: () => number): void {
    queue.timer = null;
    const interval = intervalMs();
    while (queue.frames.length > 0) {
      const now = performance.now();
      const at = nextGarpAt(now, queue.lastSentMs, interval);
      if (at > now) {
        queue.timer = setTimeout(() => this.drain(dev, packet, queue, intervalMs), at - now);
        queue.timer.unref();
        return;
      }
      const frame = queue.frames.shift()!;
      try {
        packet.send(frame);
      } catch (err) {
        this.log?.warn({ dev, err: String(err) }, 'gratuitous ARP / neighbour advertisement failed');
      }
      queue.lastSentMs = now;
    }
  }
}



export class InstanceVips {
  /** True from the moment the VIPs are on until forwarding for them is to stop. */
  holds = false;
  /** The VIPs actually on the interface (a reload may change the config while MASTER). */
  held: VirtualIpaddressConfig[] = [];
  private garpTimers: NodeJS.Timeout[] = [];
  private queue: Promise<void> = Promise.resolve();

  /**
   * `cfg` and `isMaster` are read when the queued work runs, not when it is queued.
   * `onChange`: the held set changed (the speaker republishes ownership).
   */
  constructor(
    private readonly cfg: () => VrrpInstanceConfig,
    private readonly isMaster: () => boolean,
    private readonly garp: GarpSender,
    private readonly log: VipLogger,
    private readonly onChange: () => void | Promise<void>,
  ) {}

  /** Resolves when the work queued so far is done. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Puts the configured VIPs on (if still MASTER when the work runs). */
  add(): void {
    this.enqueue(async () => {
      if (!this.isMaster()) return;
      const all = heldAddressesOf(this.cfg());
      const cfg = this.cfg();
      // Forwarding first (the workers have the new steering when onChange resolves), then the
      // address, then (announce) the GARPs: a client packet that reaches this director finds the
      // dataplane taking it, never a kernel holding the VIP that would answer it with a RST.
      this.held = all;
      this.holds = true;
      await this.onChange();
      for (const vip of all) await addVip(vip, cfg.interface);
    });
  }

  remove(): void {
    this.enqueue(async () => {
      this.stopGarps();
      if (!this.holds) return;
      // The address goes before forwarding stops: a mid-flow packet that still reaches this
      // director is forwarded, not answered with a RST by a kernel holding the VIP.
      for (const vip of this.held) await removeVip(vip, this.cfg().interface);
      this.holds = false;
      this.held = [];
      await this.onChange();
    });
  }

  /** keepalived: a burst of garp_master_repeat now, another after garp_master_delay, then refreshes. */
  announce(): void {
    this.enqueue(async () => {
      if (this.holds) this.scheduleGarps(() => this.held, true);
    });
  }

  /** While MASTER (after a reload): the interface gets exactly the configured VIPs; new ones are announced. */
  reconcile(): void {
    this.enqueue(async () => {
      if (!this.holds) return;
      const cfg = this.cfg();
      const dev = cfg.interface;
      const all = heldAddressesOf(cfg);
      const wanted = new Set(all.map((v) => vipKey(v, dev)));
      const gone = this.held.filter((v) => !wanted.has(vipKey(v, dev)));
      if (gone.length > 0) {
        // The address goes before forwarding stops, as remove() does.
        for (const vip of gone) await removeVip(vip, dev);
        this.held = this.held.filter((v) => wanted.has(vipKey(v, dev)));
        await this.onChange();
      }
      const heldKeys = new Set(this.held.map((v) => vipKey(v, dev)));
      const fresh = all.filter((v) => !heldKeys.has(vipKey(v, dev)));
      if (fresh.length === 0 || !this.holds) return;
      this.held = [...this.held, ...fresh];
      await this.onChange();
      for (const vip of fresh) await addVip(vip, dev);
      this.scheduleGarps(() => fresh.filter((v) => this.held.includes(v)), false);
    });
  }

  stopGarps(): void {
    for (const t of this.garpTimers) clearTimeout(t);
    this.garpTimers = [];
  }

  /** The one GARP schedule (garp-plan.ts): bursts now and after garp_master_delay, refreshes if asked. */
  private scheduleGarps(vips: () => readonly VirtualIpaddressConfig[], withRefresh: boolean): void {
    const plan = garpPlan(this.cfg(), withRefresh);
    const later = (ms: number, fn: () => void): void => {
      const t = setTimeout(fn, ms);
      t.unref();
      this.garpTimers.push(t);
    };
    for (const burst of plan.bursts) {
      if (burst.atMs === 0) this.sendBurst(burst.rounds, vips());
      else later(burst.atMs, () => this.sendBurst(burst.rounds, vips()));
    }
    const { refresh } = plan;
    if (refresh) {
      later(refresh.firstAtMs, () => {
        this.sendBurst(refresh.rounds, vips());
        const every = setInterval(() => this.sendBurst(refresh.rounds, vips()), refresh.everyMs);
        every.unref();
        this.garpTimers.push(every);
      });
    }
  }

  /** `rounds` passes over the addresses, per device in keepalived's order. */
  private sendBurst(rounds: number, vips: readonly VirtualIpaddressConfig[]): void {
    if (!this.holds) return;
    const cfg = this.cfg();
    const byDev = new Map<string, string[]>();
    for (const vip of burstOrder(rounds, vips)) {
      const dev = vip.dev ?? cfg.interface;
      byDev.set(dev, [...(byDev.get(dev) ?? []), vip.address]);
    }
    for (const [dev, addresses] of byDev) {
      try {
        this.garp.send(dev, addresses);
      } catch (err) {
        this.log.warn({ instance: cfg.name, dev, err: String(err) }, 'gratuitous ARP failed');
      }
    }
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => {
      this.log.error({ instance: this.cfg().name, err: String(err) }, 'vrrp address change failed');
    });
  }
}

function interfaceMac(ifname: string): Uint8Array {
  const entry = (networkInterfaces()[ifname] ?? [])[0];
  if (!entry) throw new Error(`interface ${ifname} has no address to read its MAC from`);
  return parseMac(entry.mac);
}
