// Full NAT (DPVS's FNAT) rewrites, in place over a parsed TCP/UDP frame: both addresses and both
// ports change, so the real server sees the director's local address as the source and replies
// to it, whatever its routes (no gateway through the director, unlike NAT).
//  - toward the real server: client:cport -> VIP:vport becomes laddr:lport -> rs:rsport;
//  - the reply:              rs:rsport -> laddr:lport becomes VIP:vport -> client:cport.
// Each is the NAT destination rewrite plus the NAT source rewrite (rewrite.ts: incremental IP
// and TCP/UDP checksums per RFC 1624; a UDP checksum of 0, "none", stays 0). MACs and TTL are
// the caller's, as for NAT.
import type { ParsedFrame } from './parse.js';
import { RewriteResult, rewriteForNat, rewriteNatReply } from './rewrite.js';

// The addresses come through memory (ips), as for rewriteForNat: never boxed per packet.

/** Request: source -> ips[0]:localPort (the local address), destination -> ips[1]:rsPort. parsed follows. */
export function rewriteForFullNat(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, ips: Uint32Array, localPort: number, rsPort: number,
): RewriteResult {
  const r = rewriteForNat(u8, dv, parsed, ips, 1, rsPort);
  if (r !== RewriteResult.OK) return r;
  return rewriteNatReply(u8, dv, parsed, ips, 0, localPort);
}

/** Reply: source -> ips[0]:vport (the VIP), destination -> ips[1]:clientPort (the client). parsed follows. */
export function rewriteFullNatReply(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, ips: Uint32Array, vport: number, clientPort: number,
): RewriteResult {
  const r = rewriteNatReply(u8, dv, parsed, ips, 0, vport);
  if (r !== RewriteResult.OK) return r;
  return rewriteForNat(u8, dv, parsed, ips, 1, clientPort);
}
