// PacketPort -> its NativePort, so transmit(..., other) can hand the native
// object to the addon without exposing it on the public interface.
import type { NativePort } from './native.js';
import type { PacketPort } from './port.js';

const natives = new WeakMap<PacketPort, NativePort>();

export function registerNative(port: PacketPort, native: NativePort): void {
  natives.set(port, native);
}

export function nativeOf(port: PacketPort): NativePort | undefined {
  return natives.get(port);
}
