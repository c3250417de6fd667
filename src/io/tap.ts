// TAP port: tc steers the rules into a tap device; frames the dataplane writes
// to the tap are redirected out of the real interface.
import { loadNative, type NativePort } from './native.js';
import { validateSteeringRules, type PacketPort, type PacketPortStats, type SteeringRule } from './port.js';
import { nativeOf, registerNative } from './registry.js';

/**
 * The tc calls a TapPort that runs its own tc makes (`tc.ts`'s functions, handed in by
 * open.ts's openPort). This file does not import tc.ts: a dataplane worker opens its tap
 * without them (open-core.ts), so no child process module is in the worker's module graph.
 */
export interface TapTc {
  installTapPlumbing(ifname: string, tapName: string): boolean;
  removeTapPlumbing(ifname: string, ownsQdisc: boolean): void;
  replaceSteering(ifname: string, tapName: string, pref: number, rules: SteeringRule[]): void;
  readonly TC_PREFS: readonly [number, number];
}

export interface TapOptions {
  ifname: string;
  frameCount?: number;
  frameSize?: number;
}

// process.exit() skips close(): remove tc steering anyway (the tap itself goes
// with its fd), or service traffic would be redirected to a missing tap.
const openTapPorts = new Set<TapPort>();
let exitHookInstalled = false;
function closeTapPortsAtExit(): void {
  for (const port of openTapPorts) port.close();
}

export class TapPort implements PacketPort {
  readonly backend = 'tap' as const;
  readonly ifname: string;
  readonly tapName: string;
  readonly mac: Uint8Array;
  readonly frames: Uint8Array;
  readonly frameSize: number;
  fallbackReason?: string;
  readonly #native: NativePort;
  readonly #ownsQdisc: boolean;
  /** null: tc is the caller's (the director's main thread, src/control/tap-steering.ts). */
  readonly #tc: TapTc | null;
  #pref: number;
  #closed = false;

  /**
   * `tc`: run tc from this port (its plumbing at open, setSteering, removal at close), or null
   * when the caller does: then setSteering throws and close leaves tc alone.
   */
  constructor(options: TapOptions, tc: TapTc | null) {
    const addon = loadNative();
    this.ifname = options.ifname;
    const info = addon.interfaceInfo(options.ifname);
    this.mac = info.mac;
    // A ulvs XDP program left by a killed AF_XDP run would still see packets
    // first; it passes them all, but it does not belong there.
    try { addon.detachXdp(options.ifname); } catch { /* nothing to detach */ }
    // Unique per namespace and within IFNAMSIZ (15).
    this.tapName = `ulvst${info.ifindex}`;
    this.#native = new addon.NativePort('tap', {
      tapName: this.tapName,
      frameCount: options.frameCount ?? 1024,
      frameSize: options.frameSize ?? 2048,
    });
    this.#tc = tc;
    this.#pref = tc?.TC_PREFS[1] ?? 0;
    this.#ownsQdisc = false;
    if (tc) {
      try {
        this.#ownsQdisc = tc.installTapPlumbing(this.ifname, this.tapName);
      } catch (err) {
        this.#native.close();
        tc.removeTapPlumbing(this.ifname, false);
        throw err;
      }
    }
    registerNative(this, this.#native);
    this.frames = new Uint8Array(this.#native.frames);
    this.frameSize = this.#native.frameSize;
    openTapPorts.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', closeTapPortsAtExit);
    }
  }

  receive(descs: Uint32Array, max: number): number {
    return this.#native.receive(descs, max);
  }

  transmit(descs: Uint32Array, count: number, other?: PacketPort): void {
    this.#native.transmit(descs, count, other === undefined ? undefined : nativeOf(other));
  }

  setSteering(rules: SteeringRule[]): void {
    validateSteeringRules(rules);
    if (this.#closed) throw Object.assign(new Error('setSteering: port is closed'), { code: 'EBADF', syscall: 'setSteering' });
    const tc = this.#tc;
    if (!tc) throw Object.assign(new Error('setSteering: tc is run by the caller (tc: caller)'), { code: 'EINVAL', syscall: 'setSteering' });
    this.#pref = this.#pref === tc.TC_PREFS[0] ? tc.TC_PREFS[1] : tc.TC_PREFS[0];
    tc.replaceSteering(this.ifname, this.tapName, this.#pref, rules);
  }

  readableFd(): number {
    return this.#native.fd();
  }

  stats(): PacketPortStats {
    return this.#native.stats();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openTapPorts.delete(this);
    this.#tc?.removeTapPlumbing(this.ifname, this.#ownsQdisc);
    this.#native.close(); // closing the fd deletes the tap (and its qdisc)
  }
}
