// Loads the ulvs_native addon and names what it exports.
// ULVS_NATIVE_PATH overrides where the .node lives (another checkout's build);
// ULVS_XDP_OBJECT overrides the XDP program, else it sits next to the .node.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkoutRoot, extractedAssets, isEmbedded, missingSharedLibrary } from '../appliance/embedded.js';

export type XdpModeRequest = 'auto' | 'native' | 'generic';

export interface NativePortStats {
  rxPackets: number;
  txPackets: number;
  txDropped: number;
  badDescriptors: number;
  otherMissing: number;
  /** LOCAL frames the director's own stack took / did not (native/src/local_delivery.h). */
  localDelivered: number;
  localDropped: number;
}

export interface NativePort {
  readonly frames: ArrayBuffer;
  readonly frameSize: number;
  readonly xdpMode?: 'native' | 'generic';
  readonly zeroCopy?: boolean;
  readonly xdpFallbackReason?: string;
  receive(descs: Uint32Array, max: number): number;
  transmit(descs: Uint32Array, count: number, other?: NativePort): void;
  /** Triples [ip, port, protocol number], host order. AF_XDP only. */
  setSteering(services: Uint32Array, replies: Uint32Array, services6?: Uint32Array, replies6?: Uint32Array): void;
  fd(): number;
  stats(): NativePortStats;
  /** AF_XDP only: SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET; '' = taken, else the errno's name. */
  setBusyPoll(usecs: number, budget: number): BusyPollAnswer<string>;
  /** AF_XDP only: the same options read back with getsockopt (-1: unknown to the kernel). */
  busyPoll(): BusyPollAnswer<number>;
  close(): void;
}

export interface BusyPollAnswer<T> { preferBusyPoll: T; busyPoll: T; budget: T }

/** The descriptor contract's numbers as the C++ side defines them (native/src/backend.h). */
export interface NativeConstants {
  readonly DESC_WORDS: number;
  readonly DROP: number;
  readonly TX: number;
  readonly TX_OTHER: number;
  readonly LOCAL: number;
  readonly HEADROOM: number;
}

export interface NativeAddon {
  readonly constants: NativeConstants;
  NativePort: {
    new (kind: 'afxdp', options: {
      ifname: string; queue: number; frameCount: number; frameSize: number;
      objectPath: string; xdpMode: XdpModeRequest;
    }): NativePort;
    new (kind: 'tap', options: { tapName: string; frameCount: number; frameSize: number }): NativePort;
  };
  /** Spins `spinUs` first (recvfrom on the fds of kickMask, poll with no timeout), then poll(timeoutMs). */
  waitReadable(fds: Int32Array, count: number, timeoutMs: number, spinUs?: number, kickMask?: number): number;
  detachXdp(ifname: string): boolean;
  interfaceInfo(ifname: string): { ifindex: number; mac: Uint8Array };
  /** SO_PEERCRED of a connected unix socket: who connected (as of connect()). */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  /** One datagram to the service manager's $NOTIFY_SOCKET (sd_notify(3)). */
  sdNotify(socketPath: string, message: string): void;
  /** glibc's mallinfo2(): native memory V8 does not count (src/os/memory.ts). */
  mallocStats(): MallocStats;
  /** malloc_trim(0): free pages of every arena back to the kernel; true when some were. */
  mallocTrim(): boolean;
  /**
   * Zeroed memory of at least `bytes` (rounded up to 2 MiB), 2 MiB aligned and advised as
   * transparent huge pages (hugePages: whether madvise took it); unmapped when collected.
   */
  allocateTableMemory(bytes: number): { buffer: ArrayBuffer; hugePages: boolean };
}

/** glibc's mallinfo2(), in bytes (native/src/malloc_stats.cc). */
export interface MallocStats {
  /** From the kernel with brk and per-thread arena heaps (mmapped chunks not included). */
  arenaBytes: number;
  /** Large chunks mmapped on their own. */
  mmapBytes: number;
  inUseBytes: number;
  /** Free chunks the arenas keep (resident once touched, until trimmed). */
  freeBytes: number;
  /** The main arena's free top, what a plain trim gives back. */
  topReleasableBytes: number;
}

/** The directory holding package.json, from src/io/ (tap) or dist/src/io/ (compiled). */
export function repoRoot(): string {
  return checkoutRoot(import.meta.url);
}

// In the single executable the addon and the XDP object are assets, written out on first use.
export function nativeAddonPath(): string {
  if (process.env.ULVS_NATIVE_PATH) return process.env.ULVS_NATIVE_PATH;
  if (isEmbedded()) return extractedAssets(dlopenOnce).addon;
  return join(repoRoot(), 'build', 'native', 'Release', 'ulvs_native.node');
}

export function xdpObjectPath(): string {
  if (process.env.ULVS_XDP_OBJECT) return process.env.ULVS_XDP_OBJECT;
  if (isEmbedded() && !process.env.ULVS_NATIVE_PATH) return extractedAssets(dlopenOnce).xdpObject;
  return join(dirname(nativeAddonPath()), 'ulvs_xdp.o');
}

function dlopenOnce(path: string): void {
  // process.dlopen, not require: the single executable's require knows built-in modules only.
  const module = { exports: {} as NativeAddon };
  process.dlopen(module, path);
  addon ??= module.exports;
}

let addon: NativeAddon | undefined;

/** The addon, loaded once per thread (it is context-aware). */
export function loadNative(): NativeAddon {
  if (!addon) {
    const path = nativeAddonPath();
    if (!addon && !existsSync(path)) {
      throw new Error(`ulvs native addon not found at ${path}: run \`npm run build:native\``);
    }
    try {
      if (!addon) dlopenOnce(path);
    } catch (err) {
      throw new Error(missingSharedLibrary(err as Error) ?? (err as Error).message);
    }
  }
  return addon as NativeAddon;
}
