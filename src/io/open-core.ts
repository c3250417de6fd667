// Opening ports without tc: what a dataplane worker imports (open.ts adds tc for everyone else).
// Nothing here reaches node:child_process: test/dataplane/worker-no-child-process.test.ts
// walks the worker's module graph to hold that.
import { AfxdpPort } from './afxdp.js';
import { FallbackFailed, describeIoError } from './errors.js';
import { loadNative, type XdpModeRequest } from './native.js';
import type { PacketPort } from './port.js';
import { TapPort, type TapTc } from './tap.js';

export interface OpenPortOptions {
  ifname: string;
  queue?: number;
  backend: 'afxdp' | 'tap' | 'auto';
  frameCount?: number;
  frameSize?: number;
  /** AF_XDP attach mode: 'auto' tries native (driver) mode, then generic. */
  xdpMode?: XdpModeRequest;
  /**
   * TAP: who runs tc. 'port' (the default of open.ts's openPort): the port itself;
   * 'caller': the director's main thread (src/control/tap-steering.ts).
   */
  tc?: 'port' | 'caller';
}

/** Opens a port; a TAP port runs `tc` (null: its caller does). 'auto' = AF_XDP if it attaches, else TAP with `fallbackReason` set. */
export function openPortWith(options: OpenPortOptions, tc: TapTc | null): PacketPort {
  if (options.backend === 'tap') return new TapPort(options, tc);
  if (options.backend === 'afxdp') return new AfxdpPort(options);
  try {
    return new AfxdpPort(options);
  } catch (err) {
    // A missing interface is not fixed by another backend.
    if ((err as { code?: string }).code === 'ENODEV') throw err;
    let port: TapPort;
    try {
      port = new TapPort(options, tc);
    } catch (tapError) {
      // Both failed: the user needs to hear about both, not only the fallback's error.
      throw new FallbackFailed(err, tapError);
    }
    port.fallbackReason = describeIoError(err, options.ifname);
    return port;
  }
}

const MAX_PORTS = 32;
const pollFds = new Int32Array(MAX_PORTS);

/** Sleeps in poll() until a port is readable or `timeoutMs` passes (-1: forever).
 * Returns a bitmask: bit i set when ports[i] has packets. With `spinUs` > 0 it spins that long
 * first (dataplane.busy_poll), with a non-blocking recvfrom() on each AF_XDP port per round:
 * the syscall in which the kernel busy-polls the queue and kicks a fill ring that needs it. */
export function waitReadable(ports: PacketPort[], timeoutMs: number, spinUs = 0): number {
  if (ports.length > MAX_PORTS) throw new RangeError(`waitReadable: at most ${MAX_PORTS} ports`);
  let kickMask = 0;
  for (let i = 0; i < ports.length; i++) {
    pollFds[i] = ports[i].readableFd();
    if (ports[i].backend === 'afxdp') kickMask |= 1 << i;
  }
  return loadNative().waitReadable(pollFds, ports.length, timeoutMs, spinUs, kickMask);
}

/** Removes a ulvs XDP program left on `ifname` (cleanup scripts). */
export function detachXdp(ifname: string): boolean {
  return loadNative().detachXdp(ifname);
}
