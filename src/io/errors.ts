// Turns packet I/O errors into one line a user can act on.
import { DIRECTOR_CAPABILITIES, capabilityMessage } from '../appliance/capabilities.js';
interface CodedError {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
}

const XDP_SYSCALLS = new Set(['bpf_xdp_attach', 'bpf_object__load', 'bpf_object__open_file', 'xsk_socket__create', 'xsk_umem__create', 'bpf_map_update_elem']);

/** `io: auto`: AF_XDP failed and then TAP failed too (code and syscall are TAP's). */
export class FallbackFailed extends Error {
  readonly code: unknown;
  readonly syscall: unknown;
  constructor(readonly afxdpError: unknown, readonly tapError: unknown) {
    super(String((tapError as CodedError | undefined)?.message ?? tapError));
    this.code = (tapError as CodedError | undefined)?.code;
    this.syscall = (tapError as CodedError | undefined)?.syscall;
  }
}

export function describeIoError(err: unknown, ifname: string): string {
  if (err instanceof FallbackFailed) {
    return `${describeIoError(err.afxdpError, ifname)}; the TAP fallback failed too: ${describeIoError(err.tapError, ifname)}`;
  }
  const e = (err ?? {}) as CodedError;
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === 'ENODEV' || (code === 'ENOENT' && syscall === 'if_nametoindex')) {
    return `interface ${ifname} does not exist: check dataplane.interface`;
  }
  if ((code === 'EPERM' || code === 'EACCES') && syscall === 'open') {
    // TAP's /dev/net/tun: a device cgroup (systemd's DevicePolicy=/DeviceAllow=) or file mode.
    return `opening /dev/net/tun for TAP on ${ifname} was refused (${code}): this user needs read-write access to it (udev normally makes it 0666) and, in a systemd unit, DevicePolicy= must allow it`;
  }
  if (code === 'EPERM' || code === 'EACCES') {
    return capabilityMessage(`taking packets from ${ifname} with AF_XDP (${syscall || code})`, DIRECTOR_CAPABILITIES);
  }
  if (code === 'EBUSY' && /another XDP program/.test(message)) {
    return `another XDP program is attached to ${ifname} (${message}): detach it (ip link set dev ${ifname} xdp off) or try dataplane.io: tap`;
  }
  if (XDP_SYSCALLS.has(syscall)) {
    return `XDP attach failed on ${ifname} (${message}): try dataplane.io: tap`;
  }
  if (syscall === 'tc') return `steering with tc failed on ${ifname} (${message})`;
  return `packet I/O on ${ifname} failed: ${message}`;
}
