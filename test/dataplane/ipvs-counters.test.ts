// The dataplane's per-service and per-real-server rows (IPVS's ip_vs_stats): connections and
// packets/bytes in on every forwarded request, out on NAT replies only, bytes as IP lengths.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import {
  S_CONNS, S_IN_BYTES, S_IN_PKTS, S_OUT_BYTES, S_OUT_PKTS, STAT_FIELDS, allocateCounters, allocateIpvsCounters, summarizeCounters,
} from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, DROP, TX, TX_OTHER, type PacketPort } from '../../src/io/port.js';
import { ipToNumber, parseMac } from '../../src/packet/addr.js';
import { buildFrame } from '../../src/packet/build.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';

const SERVICE_ID = 100;
const DIRECTOR_MAC = '02:18:00:00:00:02';
const INSIDE_MAC = '02:18:00:01:00:01';
const rsMac = (n: number): string => `02:18:00:00:00:${(n * 10).toString(16).padStart(2, '0')}`;

function port(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'mt0', mac: parseMac(mac), frames: new Uint8Array(2048 * 4), frameSize: 2048,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}

function setup(forward: typeof FORWARD_DR | typeof FORWARD_NAT) {
  const snapshot: Snapshot = {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu: 1500,
    services: [{
      id: SERVICE_ID, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], protocol: 6, forward,
      scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: [1, 2].map((n) => ({
        rsId: n, ip: ipToNumber(`198.18.${forward === FORWARD_NAT ? 1 : 0}.${n * 10}`), port: 80,
        weight: 1, available: true, mac: rsMac(n), uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
  const outside = port(DIRECTOR_MAC);
  const inside = port(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const ipvs = allocateIpvsCounters();
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot, flows, templates, counters, outside, forward === FORWARD_NAT ? inside : null, ipvs);
  const descs = new Uint32Array(4 * DESC_WORDS);
  const send = (frame: Uint8Array, fromInside = false): number => {
    const p = fromInside ? inside : outside;
    p.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return descs[2];
  };
  const row = (id: number) => {
    const b = id * STAT_FIELDS;
    return { conns: ipvs[b + S_CONNS], inPkts: ipvs[b + S_IN_PKTS], outPkts: ipvs[b + S_OUT_PKTS], inBytes: ipvs[b + S_IN_BYTES], outBytes: ipvs[b + S_OUT_BYTES] };
  };
  return { send, row, counters };
}

const request = (srcPort: number, flags: number, payload = 0): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: '02:18:00:00:00:01', ip: { src: '198.18.0.1', dst: '198.18.0.100' },
  tcp: { srcPort, dstPort: 80, flags }, payload: new Uint8Array(payload),
});

t.test('DR: conns and in-packets per service and server, bytes as IP lengths, no out', async (t) => {
  const { send, row, counters } = setup(FORWARD_DR);
  t.equal(send(request(40000, TCP_SYN)), TX, JSON.stringify(summarizeCounters([counters])));
  t.equal(send(request(40000, TCP_ACK, 100)), TX);
  t.equal(send(request(40001, TCP_SYN)), TX);
  t.same(row(SERVICE_ID), { conns: 2, inPkts: 3, outPkts: 0, inBytes: 40 + 140 + 40, outBytes: 0 });
  t.same(row(1), { conns: 1, inPkts: 2, outPkts: 0, inBytes: 180, outBytes: 0 }, 'rr: the first connection on rs1');
  t.same(row(2), { conns: 1, inPkts: 1, outPkts: 0, inBytes: 40, outBytes: 0 });
  t.equal(send(request(40002, TCP_ACK)), DROP, 'an ACK of no connection');
  t.equal(row(SERVICE_ID).inPkts, 3, 'a dropped packet with no connection is not counted (as IPVS)');
});

t.test('NAT: the replies count out on the flow\'s service and server', async (t) => {
  const { send, row } = setup(FORWARD_NAT);
  t.equal(send(request(41000, TCP_SYN)), TX_OTHER);
  const reply = buildFrame({
    dstMac: INSIDE_MAC, srcMac: rsMac(1), ip: { src: '198.18.1.10', dst: '198.18.0.1' },
    tcp: { srcPort: 80, dstPort: 41000, flags: TCP_SYN | TCP_ACK }, payload: new Uint8Array(10),
  });
  t.equal(send(reply, true), TX_OTHER);
  t.equal(send(reply, true), TX_OTHER);
  t.same(row(SERVICE_ID), { conns: 1, inPkts: 1, outPkts: 2, inBytes: 40, outBytes: 100 });
  t.same(row(1), { conns: 1, inPkts: 1, outPkts: 2, inBytes: 40, outBytes: 100 });
  t.same(row(2), { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 });
});
