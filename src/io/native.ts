// Loads the ulvs_native addon and names what it exports.
// ULVS_NATIVE_PATH overrides where the .node lives (another checkout's build);
// ULVS_XDP_OBJECT overrides the XDP program, else it sits next to the .node.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type XdpModeRequest = 'auto' | 'native' | 'generic';

export interface NativePortStats {
  rxPackets: number;
  txPackets: number;
  txDropped: number;
  badDescriptors: number;
  otherMissing: number;
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
  setSteering(services: Uint32Array, replies: Uint32Array): void;
  fd(): number;
  stats(): NativePortStats;
  close(): void;
}

/** The descriptor contract's numbers as the C++ side defines them (native/src/backend.h). */
export interface NativeConstants {
  readonly DESC_WORDS: number;
  readonly DROP: number;
  readonly TX: number;
  readonly TX_OTHER: number;
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
  waitReadable(fds: Int32Array, count: number, timeoutMs: number): number;
  detachXdp(ifname: string): boolean;
  interfaceInfo(ifname: string): { ifindex: number; mac: Uint8Array };
  /** SO_PEERCRED of a connected unix socket: who connected (as of connect()). */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
}

/** The directory holding package.json, from src/io/ (tap) or dist/src/io/ (compiled). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`ulvs: no package.json above ${fileURLToPath(import.meta.url)}`);
}

export function nativeAddonPath(): string {
  return process.env.ULVS_NATIVE_PATH ?? join(repoRoot(), 'build', 'native', 'Release', 'ulvs_native.node');
}

export function xdpObjectPath(): string {
  return process.env.ULVS_XDP_OBJECT ?? join(dirname(nativeAddonPath()), 'ulvs_xdp.o');
}

let addon: NativeAddon | undefined;

/** The addon, loaded once per thread (it is context-aware). */
export function loadNative(): NativeAddon {
  if (!addon) {
    const path = nativeAddonPath();
    if (!existsSync(path)) {
      throw new Error(`ulvs native addon not found at ${path}: run \`npm run build:native\``);
    }
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  }
  return addon;
}
