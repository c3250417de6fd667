// An instance's VIPs on the interface and their gratuitous ARPs. VIP work (ip addr add/del,
// GARP) runs in order, one job at a time, so a quick MASTER -> BACKUP -> MASTER cannot
// interleave an add with a remove.
import { networkInterfaces } from 'node:os';

import { ipToNumber, parseMac } from '../packet/addr.js';
import { openPacketSocket, type PacketSocket } from '../os/raw-sockets.js';
import { addVip, removeVip } from './addresses.js';
import type { VirtualIpaddressConfig, VrrpInstanceConfig } from './config.js';
import { buildGarp } from './garp.js';
import { vipKey } from './reload.js';
import { stripPrefix } from './settings.js';

export interface VipLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** One packet socket per device, shared by every instance that announces there. */
export class GarpSender {
  private readonly sockets = new Map<string, PacketSocket>();

  /** Throws when the device has no socket or no MAC. */
  send(dev: string, address: string, count: number): void {
    let packet = this.sockets.get(dev);
    if (!packet) { packet = openPacketSocket(dev); this.sockets.set(dev, packet); }
    const frame = buildGarp(interfaceMac(dev), ipToNumber(stripPrefix(address)));
    for (let i = 0; i < count; i++) packet.send(frame);
  }

  close(): void {
    for (const packet of this.sockets.values()) packet.close();
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
      const cfg = this.cfg();
      // Forwarding first (the workers have the new steering when onChange resolves), then the
      // address, then (announce) the GARPs: a client packet that reaches this director finds the
      // dataplane taking it, never a kernel holding the VIP that would answer it with a RST.
      this.held = [...cfg.virtual_ipaddress];
      this.holds = true;
      await this.onChange();
      for (const vip of cfg.virtual_ipaddress) await addVip(vip, cfg.interface);
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
      const wanted = new Set(cfg.virtual_ipaddress.map((v) => vipKey(v, dev)));
      const gone = this.held.filter((v) => !wanted.has(vipKey(v, dev)));
      if (gone.length > 0) {
        // The address goes before forwarding stops, as remove() does.
        for (const vip of gone) await removeVip(vip, dev);
        this.held = this.held.filter((v) => wanted.has(vipKey(v, dev)));
        await this.onChange();
      }
      const heldKeys = new Set(this.held.map((v) => vipKey(v, dev)));
      const fresh = cfg.virtual_ipaddress.filter((v) => !heldKeys.has(vipKey(v, dev)));
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

  /** The one GARP schedule: a burst now, one after garp_master_delay, refreshes if asked. */
  private scheduleGarps(vips: () => readonly VirtualIpaddressConfig[], withRefresh: boolean): void {
    const cfg = this.cfg();
    const repeat = cfg.garp_master_repeat ?? 5;
    const delay = cfg.garp_master_delay ?? 5;
    const refresh = withRefresh ? cfg.garp_master_refresh ?? 0 : 0;
    this.sendBurst(repeat, vips());
    if (delay > 0) {
      const t = setTimeout(() => this.sendBurst(repeat, vips()), delay * 1000);
      t.unref();
      this.garpTimers.push(t);
    }
    if (refresh > 0) {
      const t = setInterval(() => this.sendBurst(1, vips()), refresh * 1000);
      t.unref();
      this.garpTimers.push(t);
    }
  }

  private sendBurst(count: number, vips: readonly VirtualIpaddressConfig[]): void {
    if (!this.holds) return;
    const cfg = this.cfg();
    for (const vip of vips) {
      try {
        this.garp.send(vip.dev ?? cfg.interface, vip.address, count);
      } catch (err) {
        this.log.warn({ instance: cfg.name, vip: vip.address, err: String(err) }, 'gratuitous ARP failed');
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
