// The per-batch step over synthetic frames in memory: verdicts, rewrites, connection tracking
// and scheduling, with no kernel involved (the same code runs over AF_XDP and TAP).
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { C_DROP_BASE, C_PARSE_BASE, DataplaneDrop, allocateCounters } from '../../src/dataplane/counters.js';
import { PIPELINE_CASES, rigFor } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, DROP, TX, TX_OTHER, type PacketPort } from '../../src/io/port.js';
import { formatMac, ipToNumber, numberToIp } from '../../src/packet/addr.js';
import { buildFrame } from '../../src/packet/build.js';
import { ParseResult, ParsedFrame, TCP_ACK, TCP_FIN, TCP_SYN, parseFrame } from '../../src/packet/parse.js';

const FRAME = 2048;
const CLIENT_MAC = '02:18:00:00:00:01';
const DIRECTOR_MAC = '02:18:00:00:00:02';
const INSIDE_MAC = '02:18:00:01:00:01';
const RS_MAC = (n: number): string => `02:18:00:00:00:${(n * 10).toString(16).padStart(2, '0')}`;

/** A port whose frame memory the test fills: enough of PacketPort for the pipeline. */
function fakePort(mac: string): PacketPort {
  const frames = new Uint8Array(FRAME * 64);
  return {
    backend: 'afxdp', ifname: 'test0', mac: Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16))), frames, frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}

function snapshot(forward: 0 | 1, scheduler: 'rr' | 'wrr', weights: number[]): Snapshot {
  return {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], protocol: 6, forward,
      scheduler, schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: weights.map((weight, i) => ({
        rsId: i + 1, ip: ipToNumber(`198.18.${forward === FORWARD_NAT ? 1 : 0}.${(i + 1) * 10}`), port: forward === FORWARD_NAT ? 8080 : 80,
        weight, available: true, mac: RS_MAC(i + 1), uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
}

function setup(forward: 0 | 1, scheduler: 'rr' | 'wrr', weights: number[]) {
  const outside = fakePort(DIRECTOR_MAC);
  const inside = fakePort(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot(forward, scheduler, weights), flows, templates, counters, outside, forward === FORWARD_NAT ? inside : null);
  const descs = new Uint32Array(64 * DESC_WORDS);
  /** Puts one frame in slot 0 (after headroom), runs the batch, returns the verdict and the frame out. */
  const send = (frame: Uint8Array, fromInside = false): { verdict: number; out: Uint8Array } => {
    const port = fromInside ? inside : outside;
    port.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: port.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  return { dp, flows, counters, send };
}

const tcp = (srcPort: number, flags: number, dst = '198.18.0.100', dport = 80): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: '198.18.0.1', dst }, tcp: { srcPort, dstPort: dport, flags },
});

function parsed(frame: Uint8Array): ParsedFrame {
  const p = new ParsedFrame();
  t.equal(parseFrame(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length, p), ParseResult.OK);
  return p;
}

t.test('DR: wrr 1:3:3 shares 70 new connections 10/30/30 and rewrites only MACs and TTL', async (t) => {
  const { send } = setup(FORWARD_DR, 'wrr', [1, 3, 3]);
  const shares: Record<string, number> = {};
  for (let port = 40000; port < 40070; port++) {
    const input = tcp(port, TCP_SYN);
    const { verdict, out } = send(input);
    t.equal(verdict, TX);
    const dst = formatMac(out, 0);
    shares[dst] = (shares[dst] ?? 0) + 1;
    t.equal(formatMac(out, 6), DIRECTOR_MAC);
    // Everything past the MACs is the client's packet but for TTL - 1 (and its checksum).
    const a = parsed(input), b = parsed(out);
    t.equal(b.ttl, a.ttl - 1);
    t.same([b.srcIp, b.dstIp, b.srcPort, b.dstPort], [a.srcIp, a.dstIp, a.srcPort, a.dstPort]);
  }
  t.same(shares, { [RS_MAC(1)]: 10, [RS_MAC(2)]: 30, [RS_MAC(3)]: 30 });
});

t.test('a connection keeps its server; a non-SYN without a connection is dropped and counted', async (t) => {
  const { send, counters, flows } = setup(FORWARD_DR, 'rr', [1, 1, 1]);
  const first = formatMac(send(tcp(41000, TCP_SYN)).out, 0);
  for (let i = 0; i < 5; i++) t.equal(formatMac(send(tcp(41000, TCP_ACK)).out, 0), first, 'same server for the whole connection');
  t.not(formatMac(send(tcp(41001, TCP_SYN)).out, 0), first, 'the next connection goes to the next server (rr)');
  t.equal(send(tcp(42000, TCP_ACK)).verdict, DROP);
  t.equal(counters[C_DROP_BASE + DataplaneDrop.NO_FLOW], 1, 'counted as NO_FLOW');
  t.equal(flows.stats.size, 2);
});

t.test('a SYN on the tuple of a closed connection is scheduled afresh (IPVS conn_reuse_mode)', async (t) => {
  const { send } = setup(FORWARD_DR, 'rr', [1, 1, 1]);
  const first = formatMac(send(tcp(43000, TCP_SYN)).out, 0);
  send(tcp(43000, TCP_ACK));
  send(tcp(43000, TCP_FIN | TCP_ACK));
  const again = formatMac(send(tcp(43000, TCP_SYN)).out, 0);
  t.not(again, first, 'the reused tuple is a new connection: rr moves it on');
});

t.test('garbage and unknown traffic are dropped and counted, never thrown', async (t) => {
  const { send, counters } = setup(FORWARD_DR, 'rr', [1, 1, 1]);
  const bad = tcp(44000, TCP_SYN);
  bad[14 + 10] ^= 0xff; // break the IPv4 header checksum
  t.equal(send(bad).verdict, DROP);
  t.equal(counters[C_PARSE_BASE + ParseResult.BAD_IP_CHECKSUM], 1);
  t.equal(send(tcp(44001, TCP_SYN, '198.18.0.101')).verdict, DROP, 'no service for another VIP');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.NO_SERVICE], 1);
  t.equal(send(new Uint8Array(10)).verdict, DROP, 'a runt');
  t.equal(counters[C_PARSE_BASE + ParseResult.TRUNCATED_ETHERNET], 1);
});

t.test('NAT: request to the real server, reply back from the VIP, checksums valid', async (t) => {
  const { send } = setup(FORWARD_NAT, 'rr', [1, 1, 1]);
  const req = send(tcp(45000, TCP_SYN));
  t.equal(req.verdict, TX_OTHER, 'out through the inside interface');
  const p = parsed(req.out);
  t.equal(numberToIp(p.dstIp), '198.18.1.10');
  t.equal(p.dstPort, 8080);
  t.equal(formatMac(req.out, 0), RS_MAC(1));
  t.equal(formatMac(req.out, 6), INSIDE_MAC);
  const reply = buildFrame({
    dstMac: INSIDE_MAC, srcMac: RS_MAC(1), ip: { src: '198.18.1.10', dst: '198.18.0.1' },
    tcp: { srcPort: 8080, dstPort: 45000, flags: TCP_SYN | TCP_ACK },
  });
  const back = send(reply, true);
  t.equal(back.verdict, TX_OTHER, 'out through the outside interface');
  const r = parsed(back.out);
  t.equal(numberToIp(r.srcIp), '198.18.0.100');
  t.equal(r.srcPort, 80);
  t.equal(formatMac(back.out, 0), CLIENT_MAC, 'to the hop the request came from');
  const stray = buildFrame({
    dstMac: INSIDE_MAC, srcMac: RS_MAC(2), ip: { src: '198.18.1.20', dst: '198.18.0.1' }, tcp: { srcPort: 8080, dstPort: 45999, flags: TCP_ACK },
  });
  t.equal(send(stray, true).verdict, DROP, 'a reply that matches no connection is dropped');
});

// The fixture table: the same cases drive bench/dataplane-step.ts.
const IPV4_TTL_AT = 14 + 8;
t.test('pipeline cases: verdict and output frame, byte for byte', async (t) => {
  for (const c of PIPELINE_CASES) {
    t.test(c.description, async (t) => {
      const rig = rigFor(c);
      const { verdict, out } = rig.send(c.input);
      t.equal(verdict, c.verdict, 'verdict');
      if (c.output) t.same([...out], [...c.output], 'output frame');
      if (c.output && !c.answered) {
        t.equal(out[IPV4_TTL_AT], c.input.frame[IPV4_TTL_AT] - 1, 'the (outer) TTL is the client\'s minus one');
      }
      if (c.drop !== undefined) t.equal(rig.counters[C_DROP_BASE + c.drop], 1, 'counted as its drop reason');
    });
  }
});
