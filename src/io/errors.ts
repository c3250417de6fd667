// Turns packet I/O errors into one line a user can act on.
import { DIRECTOR_CAPABILITIES, capabilityMessage } from '../appliance/capabilities.js';
interface CodedError {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
}

const XDP_SYSCALLS = new Set(['bpf_xdp_attach', 'bpf_object__load', 'bpf_object__open_file', 'xsk_socket__create', 'xsk_umem__create', 'bpf_map_update_elem']);

export function describeIoError(err: unknown, ifname: string): string {
  const e = (err ?? {}) as CodedError;
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === 'ENODEV' || (code === 'ENOENT' && syscall === 'if_nametoindex')) {
    return `interface ${ifname} does not exist: check dataplane.interface`;
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
