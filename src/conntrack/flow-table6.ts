// The IPv6 connection table: a FlowTable whose address words hold Ipv6Addresses handles
// (addresses6.ts), so IPv6 flows have IPv4's states, timeouts, eviction, NAT reply index and
// sync hooks, and IPv4 records keep their 32 bytes. Per packet: one address lookup (the
// client, read from frame memory) then the tuple lookup; VIPs and real servers are handles
// pinned by the control path. Bytes per IPv6 flow: memory().
import { FlowTable, type FlowTableOptions } from './flow-table.js';
import { Ipv6Addresses, MAX_IPV6_ADDRESSES } from './addresses6.js';
import { formatIpv6 } from '../packet/addr6.js';

/** Room for the config's pinned addresses (VIPs, real servers) beside one client per flow. */
export const PINNED_IPV6_ADDRESSES = 1 << 16;

export interface FlowEntry6 {
  proto: number; state: string; expiresIn: number;
  client: string; clientPort: number; vip: string; vport: number; rs: string; rsPort: number;
  service: number; rsId: number;
}

export class FlowTable6 extends FlowTable {
  readonly addresses: Ipv6Addresses;
  private readonly pinned = new Map<string, number>();

  constructor(opts: FlowTableOptions) {
    super(opts);
    this.addresses = new Ipv6Addresses(Math.min(MAX_IPV6_ADDRESSES, opts.capacity + PINNED_IPV6_ADDRESSES), opts.seed);
    this.clientAddresses = this.addresses;
  }

  /** Control path: the handle of a config address (VIP, real server), held for the table's life. */
  pin(bytes: Uint8Array): number {
    const key = formatIpv6(bytes);
    const known = this.pinned.get(key);
    if (known !== undefined) return known;
    const handle = this.addresses.internBytes(bytes);
    if (handle < 0) throw new RangeError('IPv6 address table full: too many configured addresses');
    this.pinned.set(key, handle);
    return handle;
  }

  /** Client (16 bytes at dv[clientAt..)) -> VIP handle; flow or -1. */
  lookup6(proto: number, dv: DataView, clientAt: number, clientPort: number, vip: number, vport: number, now: number): number {
    const client = this.addresses.findAt(dv, clientAt);
    if (client < 0) return -1;
    const t = this.tuple;
    t[0] = proto; t[1] = client; t[2] = clientPort; t[3] = vip; t[4] = vport;
    return this.lookupTuple(now);
  }

  /** NAT66 reply: real server (source at dv[rsAt..)) -> client (destination at dv[clientAt..)). */
  lookupReply6(proto: number, dv: DataView, rsAt: number, rsPort: number, clientAt: number, clientPort: number, now: number): number {
    const rs = this.addresses.findAt(dv, rsAt);
    if (rs < 0) return -1;
    const client = this.addresses.findAt(dv, clientAt);
    if (client < 0) return -1;
    const t = this.tuple;
    t[0] = proto; t[1] = client; t[2] = clientPort; t[5] = rs; t[6] = rsPort;
    return this.lookupReplyTuple(now);
  }

  /**
   * A new flow; its client address is interned (one reference, released when the flow is
   * freed). -1 only when the address table is full, which one client per flow never fills.
   */
  insert6(
    service: number, rsId: number, proto: number, dv: DataView, clientAt: number, clientPort: number,
    vip: number, vport: number, rs: number, rsPort: number, now: number, trackReply: boolean,
  ): number {
    const client = this.addresses.internAt(dv, clientAt);
    if (client < 0) return -1;
    const t = this.tuple;
    t[0] = proto; t[1] = client; t[2] = clientPort; t[3] = vip; t[4] = vport; t[5] = rs; t[6] = rsPort;
    return this.insertTuple(service, rsId, now, trackReply);
  }

  /**
   * Control path (connection sync): a flow another director had, its addresses as bytes. The
   * client is interned before insertTuple frees a flow on the same tuple (that flow's reference
   * goes, this one's stays); VIP and real server are pinned. FlowTable.importTuple for the rest.
   */
  importBytes(
    service: number, rsId: number, proto: number, state: number, timeout: number, now: number, trackReply: boolean, counted: boolean,
    client: Uint8Array, clientPort: number, vip: Uint8Array, vport: number, rs: Uint8Array, rsPort: number,
  ): number {
    const clientHandle = this.addresses.internBytes(client);
    if (clientHandle < 0) return -1;
    const t = this.tuple;
    t[0] = proto; t[1] = clientHandle; t[2] = clientPort; t[3] = this.pin(vip); t[4] = vport; t[5] = this.pin(rs); t[6] = rsPort;
    return this.importTuple(service, rsId, state, timeout, now, trackReply, counted);
  }

  /** Control path: the flow of (proto, client, clientPort, vip, vport) given as bytes, or -1. */
  lookupBytes(proto: number, client: Uint8Array, clientPort: number, vip: Uint8Array, vport: number, now: number): number {
    const vipHandle = this.addresses.findAt(new DataView(vip.buffer, vip.byteOffset, 16), 0);
    if (vipHandle < 0) return -1;
    return this.lookup6(proto, new DataView(client.buffer, client.byteOffset, 16), 0, clientPort, vipHandle, vport, now);
  }

  /** Bytes of the table and its address table, and that per flow at capacity. */
  override memory(): { totalBytes: number; bytesPerFlow: number } {
    const base = super.memory();
    const totalBytes = base.totalBytes + this.addresses.byteLength();
    return { totalBytes, bytesPerFlow: totalBytes / this.capacity };
  }

  /** Every live flow with its addresses as text (`ulvs conns`). Allocates. */
  snapshot6(now: number, limit = Infinity): FlowEntry6[] {
    const out: FlowEntry6[] = [];
    const text = (h: number): string => formatIpv6(this.addresses.bytesOf(h));
    this.forEach(now, (e) => {
      if (out.length >= limit) return;
      out.push({
        proto: e.proto, state: e.state, expiresIn: e.expiresIn,
        client: text(e.clientIp), clientPort: e.clientPort, vip: text(e.vip), vport: e.vport,
        rs: text(e.rsIp), rsPort: e.rsPort, service: e.service, rsId: e.rsId,
      });
    });
    return out;
  }
}
