/**
 * The announcements' life line: a TAP interface this process holds open (ulvs-bgp). The
 * routes ulvs writes go `via "ulvs-bgp"`, and bird's static protocol keeps a route only while
 * its interface is up, so when the process dies, even by kill -9, the kernel removes the
 * interface with the last file descriptor and bird withdraws every VIP at once: no route is
 * left drawing traffic to a dead director. Nothing reads or sends on it.
 */
import { loadNative, type NativePort } from '../io/native.js';

export const LIVENESS_INTERFACE = 'ulvs-bgp';

export interface Liveness { readonly name: string; close(): void }

/** Opens the interface; throws (errno code) when it cannot (another ulvs in this namespace holds it: EBUSY). */
export function openLiveness(name = LIVENESS_INTERFACE): Liveness {
  const port: NativePort = new (loadNative().NativePort)('tap', { tapName: name, frameCount: 64, frameSize: 2048 });
  let open = true;
  return { name, close: () => { if (open) { open = false; port.close(); } } };
}
