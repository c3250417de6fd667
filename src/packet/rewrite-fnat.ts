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

/** Request: source -> localIp:localPort, destination -> rsIp:rsPort. parsed follows. */
export function rewriteForFullNat(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame,
  localIp: number, localPort: number, rsIp: number, rsPort: number,
): RewriteResult {
  const r = rewriteForNat(u8, dv, parsed, rsIp, rsPort);
  if (r !== RewriteResult.OK) return r;
  return rewriteNatReply(u8, dv, parsed, localIp, localPort);
}

/** Reply: source -> vip:vport, destination -> clientIp:clientPort. parsed follows. */
export function rewriteFullNatReply(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame,
  vip: number, vport: number, clientIp: number, clientPort: number,
): RewriteResult {
  const r = rewriteNatReply(u8, dv, parsed, vip, vport);
  if (r !== RewriteResult.OK) return r;
  return rewriteForNat(u8, dv, parsed, clientIp, clientPort);
}
