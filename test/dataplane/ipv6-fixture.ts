// The IPv6 dataplane tests' fixture: a Dataplane over two in-memory ports (outside, inside),
// IPv6 services of wrr real servers, and send(), which runs one frame through it and returns
// the verdict and the frame as it left. Used by ipv6.test.ts and ipv6-fragments.test.ts.
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { allocateCounters, allocateIpvsCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, type PacketPort } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { ipv6Words, parseIpv6 } from '../../src/packet/addr6.js';
import { foldIpv6 } from '../../src/schedulers/hash.js';

export const DIRECTOR_MAC = '02:18:00:00:00:02';
export const INSIDE_MAC = '02:18:00:01:00:02';
export const CLIENT_MAC = '02:18:00:00:00:01';
export const rsMac = (n: number): string => `02:18:00:00:00:${(n * 16).toString(16).padStart(2, '0')}`;

function port(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'vd0', mac: parseMac(mac), frames: new Uint8Array(2048 * 4), frameSize: 2048,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

/** `service`: the protocol and VIP port ([2001:2::100]); real servers are PREFIX10, PREFIX20, ... on port 8080. */
export function v6Service(id: number, forward: typeof FORWARD_DR | typeof FORWARD_NAT, weights: number[], prefix: string,
  service: { protocol: number; vport: number }): SnapshotService {
  return {
    id, family: 6, addresses: [{ vip: 0, vport: service.vport, vip6: '2001:2::100' }], protocol: service.protocol, forward,
    scheduler: 'wrr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
    realServers: weights.map((weight, i) => {
      const ip6 = `${prefix}${((i + 1) * 16).toString(16)}`;
      return { rsId: id + i + 1, ip: foldIpv6(...ipv6Words(parseIpv6(ip6))), ip6, port: 8080, weight, available: true,
        mac: rsMac(i + 1), uthreshold: 0, lthreshold: 0 };
    }),
  };
}

export function setup(services: SnapshotService[]) {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services };
  const outside = port(DIRECTOR_MAC);
  const inside = port(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot, flows, templates, counters, outside, inside, allocateIpvsCounters());
  const descs = new Uint32Array(DESC_WORDS);
  const send = (frame: Uint8Array, fromInside = false): { verdict: number; out: Uint8Array } => {
    const p = fromInside ? inside : outside;
    p.frames.fill(0, 256, 2048);
    p.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: p.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  return { dp, send, counters, flows };
}
