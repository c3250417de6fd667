// AF_XDP port: ulvs's XDP program steers rules into one AF_XDP socket per queue.
import { loadNative, xdpObjectPath, type BusyPollAnswer, type NativePort, type XdpModeRequest } from './native.js';
import { ipv6Words, parseIpv6 } from '../packet/addr6.js';
import { protocolNumber, validateSteeringRules, type PacketPort, type PacketPortStats, type SteeringRule } from './port.js';
import { nativeOf, registerNative } from './registry.js';

export interface AfxdpOptions {
  ifname: string;
  queue?: number;
  frameCount?: number;
  frameSize?: number;
  xdpMode?: XdpModeRequest;
}

export class AfxdpPort implements PacketPort {
  readonly backend = 'afxdp' as const;
  readonly ifname: string;
  readonly mac: Uint8Array;
  readonly frames: Uint8Array;
  readonly frameSize: number;
  readonly xdpMode: 'native' | 'generic';
  readonly zeroCopy: boolean;
  readonly fallbackReason?: string;
  readonly #native: NativePort;

  constructor(options: AfxdpOptions) {
    const addon = loadNative();
    this.ifname = options.ifname;
    this.mac = addon.interfaceInfo(options.ifname).mac;
    this.#native = new addon.NativePort('afxdp', {
      ifname: options.ifname,
      queue: options.queue ?? 0,
      frameCount: options.frameCount ?? 4096,
      frameSize: options.frameSize ?? 2048,
      objectPath: xdpObjectPath(),
      xdpMode: options.xdpMode ?? 'auto',
    });
    registerNative(this, this.#native);
    this.frames = new Uint8Array(this.#native.frames);
    this.frameSize = this.#native.frameSize;
    this.xdpMode = this.#native.xdpMode ?? 'generic';
    this.zeroCopy = this.#native.zeroCopy ?? false;
    if (this.xdpMode === 'generic' && this.#native.xdpFallbackReason) this.fallbackReason = this.#native.xdpFallbackReason;
  }

  receive(descs: Uint32Array, max: number): number {
    return this.#native.receive(descs, max);
  }

  transmit(descs: Uint32Array, count: number, other?: PacketPort): void {
    this.#native.transmit(descs, count, other === undefined ? undefined : nativeOf(other));
  }

  setSteering(rules: SteeringRule[]): void {
    validateSteeringRules(rules);
    const services: number[] = [];
    const replies: number[] = [];
    const services6: number[] = [];
    const replies6: number[] = [];
    for (const r of rules) {
      if (r.ip6 !== undefined) (r.kind === 'service' ? services6 : replies6).push(...ipv6Words(parseIpv6(r.ip6)), r.port, protocolNumber(r.protocol));
      else (r.kind === 'service' ? services : replies).push(r.ip >>> 0, r.port, protocolNumber(r.protocol));
    }
    this.#native.setSteering(Uint32Array.from(services), Uint32Array.from(replies), Uint32Array.from(services6), Uint32Array.from(replies6));
  }

  /**
   * Asks the kernel to busy-poll this socket's queue from our syscalls (dataplane.busy_poll):
   * SO_PREFER_BUSY_POLL, SO_BUSY_POLL `usecs`, SO_BUSY_POLL_BUDGET `budget`. Returns, per
   * option, '' when taken or the errno's name when refused.
   */
  setBusyPoll(usecs: number, budget: number): BusyPollAnswer<string> {
    return this.#native.setBusyPoll(usecs, budget);
  }

  /** The busy-poll options as the kernel holds them (getsockopt; -1 where it does not know one). */
  busyPoll(): BusyPollAnswer<number> {
    return this.#native.busyPoll();
  }

  readableFd(): number {
    return this.#native.fd();
  }

  stats(): PacketPortStats {
    return this.#native.stats();
  }

  close(): void {
    this.#native.close();
  }
}
