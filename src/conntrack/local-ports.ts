// Full NAT's source ports (DPVS's sa_pool): each local address has a pool of ports, a connection
// takes one (address, port) for its life and gives it back when the flow table frees the flow
// (expiry, sweep, eviction, replacement: FlowTable's release hook). The pair names the
// connection on the real server's side, so replies are looked up by it: flowAt(address, port).
//
// Typed arrays only, sized once (no allocation per connection):
//  - a FIFO ring of free ports per address: a port given back is reused last, so the real
//    server's TIME_WAIT for (laddr, lport, rs, rsport) has the whole pool's turn to end before
//    the same pair is used again (a LIFO stack would hand it out at once);
//  - owner: (address, port) -> flow + 1, 0 = free;
//  - per flow: its address index + 1 (0 = no port) and its port.
// A group's connections are spread across its addresses round robin; when the address whose turn
// it is has no free port the next one is tried, and only when all are empty is the connection
// refused (the caller drops the packet and counts it; existing connections keep their ports).
//
// Ports are per address, not per (address, real server) as the kernel's 4-tuple would allow:
// a pool of P ports on A addresses carries A * P connections whatever the real servers, which is
// simple to bound and to explain (DPVS's sa_pool does the same per lcore).

/** DPVS's default range: below 1024 are the well-known ports. */
export const DEFAULT_PORT_MIN = 1024;
export const DEFAULT_PORT_MAX = 65535;

export interface LocalAddressSpec {
  /** Host-order IPv4. */
  ip: number;
  /** Inclusive port range of this address's pool (default 1024-65535). */
  portMin?: number;
  portMax?: number;
}

export interface LocalPortsOptions {
  /** The local addresses (index = address index). */
  addresses: readonly LocalAddressSpec[];
  /** Each group's address indices. */
  groups: readonly (readonly number[])[];
  /** Flow indices are 0 .. slotCount - 1 (FlowTable.slotCount). */
  slotCount: number;
}

export class LocalPorts {
  readonly addresses: Uint32Array;
  private readonly portMin: Int32Array;
  private readonly poolSize: Int32Array;
  private readonly base: Int32Array;       // where address a's ring and owner rows start
  private readonly ring: Uint16Array;      // free ports of address a at base[a]..: port - portMin[a]
  private readonly head: Int32Array;
  private readonly free: Int32Array;       // free ports per address
  private readonly owner: Int32Array;      // base[a] + (port - portMin[a]) -> flow + 1
  private readonly flowAddress: Uint16Array; // address index + 1, 0 = none
  private readonly flowPort: Uint16Array;
  private readonly groupMembers: Int32Array[];
  private readonly groupCursor: Int32Array;
  /** Connections refused because every address of their group was out of ports. */
  exhausted = 0;

  constructor(opts: LocalPortsOptions) {
    const n = opts.addresses.length;
    if (n > 0xfffe) throw new RangeError('at most 65534 local addresses');
    this.addresses = new Uint32Array(n);
    this.portMin = new Int32Array(n);
    this.poolSize = new Int32Array(n);
    this.base = new Int32Array(n);
    let total = 0;
    opts.addresses.forEach((a, i) => {
      const min = a.portMin ?? DEFAULT_PORT_MIN, max = a.portMax ?? DEFAULT_PORT_MAX;
      if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
        throw new RangeError(`local port range must be 1..65535 with min <= max, got ${min}-${max}`);
      }
      this.addresses[i] = a.ip >>> 0;
      this.portMin[i] = min;
      this.poolSize[i] = max - min + 1;
      this.base[i] = total;
      total += max - min + 1;
    });
    this.ring = new Uint16Array(total);
    this.head = new Int32Array(n);
    this.free = Int32Array.from(this.poolSize);
    this.owner = new Int32Array(total);
    for (let a = 0; a < n; a++) for (let i = 0; i < this.poolSize[a]; i++) this.ring[this.base[a] + i] = i;
    this.flowAddress = new Uint16Array(opts.slotCount);
    this.flowPort = new Uint16Array(opts.slotCount);
    this.groupMembers = opts.groups.map((g) => {
      for (const a of g) if (!(a >= 0 && a < n)) throw new RangeError(`group member ${a} is no address index`);
      return Int32Array.from(g);
    });
    this.groupCursor = new Int32Array(this.groupMembers.length);
  }

  /** Whether one of the group's addresses has a free port (a new connection would get one). */
  hasFree(group: number): boolean {
    const members = this.groupMembers[group];
    for (let i = 0; i < members.length; i++) if (this.free[members[i]] !== 0) return true;
    return false;
  }

  /**
   * Gives `flow` a port of one of `group`'s addresses (round robin, skipping empty pools).
   * Returns the address index, or -1 when every pool of the group is empty (counted).
   * Per packet (a new connection): no allocation.
   */
  allocate(flow: number, group: number): number {
    const members = this.groupMembers[group];
    const count = members.length;
    let cursor = this.groupCursor[group];
    for (let tried = 0; tried < count; tried++) {
      const a = members[cursor];
      cursor = cursor + 1 === count ? 0 : cursor + 1;
      if (this.free[a] === 0) continue;
      const size = this.poolSize[a], base = this.base[a];
      const h = this.head[a];
      const offset = this.ring[base + h];
      this.head[a] = h + 1 === size ? 0 : h + 1;
      this.free[a]--;
      this.owner[base + offset] = flow + 1;
      this.flowAddress[flow] = a + 1;
      this.flowPort[flow] = this.portMin[a] + offset;
      this.groupCursor[group] = cursor;
      return a;
    }
    this.groupCursor[group] = cursor;
    this.exhausted++;
    return -1;
  }

  /** The flow's port back to its pool (the flow table freed it). No-op for a flow without one. */
  release(flow: number): void {
    const a1 = this.flowAddress[flow];
    if (a1 === 0) return;
    const a = a1 - 1, size = this.poolSize[a], base = this.base[a];
    const offset = this.flowPort[flow] - this.portMin[a];
    this.flowAddress[flow] = 0;
    if (this.owner[base + offset] !== flow + 1) return;
    this.owner[base + offset] = 0;
    let tail = this.head[a] + this.free[a];
    if (tail >= size) tail -= size;
    this.ring[base + tail] = offset;
    this.free[a]++;
  }

  /**
   * Address index of an IPv4 (host order, as a uint32 or as `ip | 0`), or -1. A short linear
   * scan: groups are small. The hot path passes `ip | 0`: a small integer V8 never boxes.
   */
  addressIndex(ip: number): number {
    const list = this.addresses;
    const ip32 = ip | 0;
    for (let a = 0; a < list.length; a++) if ((list[a] | 0) === ip32) return a;
    return -1;
  }

  /** The flow holding (address index, port), or -1 (port outside the pool, or free). */
  flowAt(address: number, port: number): number {
    const offset = port - this.portMin[address];
    if (offset < 0 || offset >= this.poolSize[address]) return -1;
    return this.owner[this.base[address] + offset] - 1;
  }

  /** Address index of a flow's port, or -1. */
  addressOf(flow: number): number { return this.flowAddress[flow] - 1; }
  portOf(flow: number): number { return this.flowPort[flow]; }
  ipOf(flow: number): number { return this.addresses[this.flowAddress[flow] - 1]; }

  /** Ports in use on an address (control path: listings, benches). */
  inUse(address: number): number { return this.poolSize[address] - this.free[address]; }
  totalInUse(): number {
    let n = 0;
    for (let a = 0; a < this.addresses.length; a++) n += this.inUse(a);
    return n;
  }

  /** Bytes of every typed array held. */
  memoryBytes(): number {
    return this.ring.byteLength + this.head.byteLength + this.free.byteLength + this.owner.byteLength +
      this.flowAddress.byteLength + this.flowPort.byteLength + this.base.byteLength * 3;
  }
}
