// Mid-flow pickup (IPVS's sloppy_tcp): a non-SYN segment of a connection this director never
// saw is scheduled as a new connection where the service allows it, over synthetic frames.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { lookupFlow } from '../conntrack/flow-calls.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { TCP_CLOSE, TCP_ESTABLISHED } from '../../src/conntrack/tcp-states.js';
import { loadConfigText } from '../../src/config/index.js';
import { IdRegistry, compileSnapshot } from '../../src/control/compile.js';
import { C_DROP_BASE, C_NEW_FLOWS, C_SLOPPY_PICKUPS, DataplaneDrop, allocateCounters, summarizeCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import {
  DETERMINISTIC_SCHEDULERS, TCP_OPENS_NEW, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP, TCP_OPENS_SLOPPY, TCP_OPENS_STRICT, picksUpMidFlow,
} from '../../src/dataplane/tcp-pickup.js';
import { DESC_WORDS, DROP, TX, TX_OTHER, type PacketPort } from '../../src/io/port.js';
import { formatMac, ipToNumber } from '../../src/packet/addr.js';
import { buildFrame } from '../../src/packet/build.js';
import { IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/packet/parse.js';
import { SCHEDULER_NAMES, type SchedulerName } from '../../src/schedulers/types.js';

const FRAME = 2048;
const CLIENT = '198.18.0.1';
const VIP = '198.18.0.100';
const CLIENT_MAC = '02:18:00:00:00:01';
const DIRECTOR_MAC = '02:18:00:00:00:02';
const INSIDE_MAC = '02:18:00:01:00:01';
const RS_MAC = (n: number): string => `02:18:00:00:00:${(n * 10).toString(16).padStart(2, '0')}`;
const TCP_PSH = 0x08;
const TCP_ECE_CWR = 0xc0;

function fakePort(mac: string): PacketPort {
  const frames = new Uint8Array(FRAME * 64);
  return {
    backend: 'afxdp', ifname: 'test0', mac: Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16))), frames, frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}

function snapshot(forward: 0 | 1, scheduler: SchedulerName, sloppyTcp: boolean | undefined): Snapshot {
  return {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: 80 }], protocol: 6, forward,
      scheduler, schedulerFlags: { mhPort: true }, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      ...(sloppyTcp === undefined ? {} : { sloppyTcp }),
      realServers: [1, 2, 3].map((n) => ({
        rsId: n, ip: ipToNumber(`198.18.${forward === FORWARD_NAT ? 1 : 0}.${n * 10}`), port: 80,
        weight: 1, available: true, mac: RS_MAC(n), uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
}

/** One director's dataplane over fake ports; send() runs a one-frame batch. */
function director(forward: 0 | 1, scheduler: SchedulerName, sloppyTcp: boolean | undefined) {
  const outside = fakePort(DIRECTOR_MAC);
  const inside = fakePort(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity: 4096, templates });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot(forward, scheduler, sloppyTcp), flows, templates, counters, outside, forward === FORWARD_NAT ? inside : null);
  const descs = new Uint32Array(64 * DESC_WORDS);
  const send = (frame: Uint8Array, fromInside = false): { verdict: number; out: Uint8Array } => {
    const port = fromInside ? inside : outside;
    port.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: port.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  const flowOf = (srcPort: number): number => lookupFlow(flows, IPPROTO_TCP, ipToNumber(CLIENT), srcPort, ipToNumber(VIP), 80, 10);
  return { flows, counters, send, flowOf };
}

const tcp = (srcPort: number, flags: number): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP }, tcp: { srcPort, dstPort: 80, flags },
});

t.test('which services pick up mid-flow: auto = the deterministic schedulers only', async (t) => {
  t.same([...DETERMINISTIC_SCHEDULERS].sort(), ['dh', 'mh', 'sh']);
  for (const name of SCHEDULER_NAMES) {
    t.equal(picksUpMidFlow('auto', name), name === 'mh' || name === 'sh' || name === 'dh', `auto, ${name}`);
    t.equal(picksUpMidFlow(true, name), true, `true, ${name}`);
    t.equal(picksUpMidFlow(false, name), false, `false, ${name}`);
  }
});

t.test('which segments open a connection (IPVS tcp_conn_schedule)', async (t) => {
  const cases: Array<[string, number, number, number]> = [
    // name, flags, without sloppy_tcp, with it
    ['bare SYN', TCP_SYN, TCP_OPENS_NEW, TCP_OPENS_NEW],
    ['ECN SYN', TCP_SYN | TCP_ECE_CWR, TCP_OPENS_NEW, TCP_OPENS_NEW],
    ['ACK', TCP_ACK, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP],
    ['data (PSH|ACK)', TCP_PSH | TCP_ACK, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP],
    ['FIN|ACK', TCP_FIN | TCP_ACK, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP],
    ['SYN|ACK', TCP_SYN | TCP_ACK, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP],
    ['no flags', 0, TCP_OPENS_NOTHING, TCP_OPENS_PICKUP],
    ['RST', TCP_RST, TCP_OPENS_NOTHING, TCP_OPENS_NOTHING],
    ['RST|ACK', TCP_RST | TCP_ACK, TCP_OPENS_NOTHING, TCP_OPENS_NOTHING],
    ['SYN|RST', TCP_SYN | TCP_RST, TCP_OPENS_NOTHING, TCP_OPENS_NOTHING],
  ];
  for (const [name, flags, strict, sloppy] of cases) {
    t.equal(TCP_OPENS_STRICT[flags], strict, `${name} without sloppy_tcp`);
    t.equal(TCP_OPENS_SLOPPY[flags], sloppy, `${name} with sloppy_tcp`);
  }
  let rstOpens = 0;
  for (let f = 0; f < 256; f++) if ((f & TCP_RST) !== 0 && TCP_OPENS_SLOPPY[f] !== TCP_OPENS_NOTHING) rstOpens++;
  t.equal(rstOpens, 0, 'no segment with RST ever opens a connection');
});

t.test('the backup picks what the master picked (mh): a mid-flow ACK lands on the same server', async (t) => {
  const master = director(FORWARD_DR, 'mh', true);
  const backup = director(FORWARD_DR, 'mh', true);
  const servers = new Set<string>();
  for (let port = 50000; port < 50030; port++) {
    const onMaster = formatMac(master.send(tcp(port, TCP_SYN)).out, 0);
    servers.add(onMaster);
    master.send(tcp(port, TCP_ACK));
    const taken = backup.send(tcp(port, TCP_PSH | TCP_ACK));
    t.equal(taken.verdict, TX, `port ${port}: forwarded`);
    t.equal(formatMac(taken.out, 0), onMaster, `port ${port}: to the master's server`);
    t.equal(backup.flows.state(backup.flowOf(port)), TCP_ESTABLISHED, 'the ACK makes the new entry ESTABLISHED (NONE + ack, as IPVS)');
  }
  t.equal(backup.counters[C_SLOPPY_PICKUPS], 30, 'counted as pickups');
  t.equal(backup.counters[C_NEW_FLOWS], 30, 'and as new connections');
  t.equal(master.counters[C_SLOPPY_PICKUPS], 0, 'SYN-opened connections are not pickups');
  const active = [1, 2, 3].reduce((n, id) => n + backup.flows.activeConns[id], 0);
  t.equal(active, 30, 'ActiveConn counts them');
  t.equal(servers.size, 3, 'mh-port spreads the connections, so a wrong pick would show');

  for (let i = 0; i < 3; i++) backup.send(tcp(50000, TCP_ACK));
  t.equal(backup.counters[C_SLOPPY_PICKUPS], 30, 'later segments hit the entry');
  t.equal(summarizeCounters([backup.counters]).sloppy_pickups, 30, 'ulvs stats names it sloppy_pickups');
});

t.test('a RST of an unknown connection never opens one', async (t) => {
  const d = director(FORWARD_DR, 'mh', true);
  t.equal(d.send(tcp(51000, TCP_RST)).verdict, DROP);
  t.equal(d.send(tcp(51001, TCP_RST | TCP_ACK)).verdict, DROP);
  t.equal(d.counters[C_DROP_BASE + DataplaneDrop.NO_FLOW], 2, 'counted as NO_FLOW');
  t.equal(d.counters[C_SLOPPY_PICKUPS], 0);
  t.equal(d.flows.stats.size, 0);
});

t.test('a FIN picked up gets the state its transition gives (NONE + fin: CLOSE)', async (t) => {
  const d = director(FORWARD_DR, 'sh', true);
  t.equal(d.send(tcp(52000, TCP_FIN | TCP_ACK)).verdict, TX);
  t.equal(d.flows.state(d.flowOf(52000)), TCP_CLOSE);
  t.equal(d.counters[C_SLOPPY_PICKUPS], 1);
});

t.test('without sloppy_tcp (false, or absent) a mid-flow segment is dropped as IPVS does', async (t) => {
  for (const setting of [false, undefined]) {
    const d = director(FORWARD_DR, 'mh', setting);
    t.equal(d.send(tcp(53000, TCP_ACK)).verdict, DROP, `sloppyTcp ${String(setting)}`);
    t.equal(d.counters[C_DROP_BASE + DataplaneDrop.NO_FLOW], 1);
    t.equal(d.counters[C_SLOPPY_PICKUPS], 0);
    t.equal(d.send(tcp(53001, TCP_SYN)).verdict, TX, 'a SYN still opens one');
  }
});

t.test('NAT: a picked-up connection is tracked both ways (the reply is rewritten)', async (t) => {
  const d = director(FORWARD_NAT, 'rr', true);
  const req = d.send(tcp(54000, TCP_ACK));
  t.equal(req.verdict, TX_OTHER);
  const rs = formatMac(req.out, 0);
  const n = [1, 2, 3].find((k) => RS_MAC(k) === rs)!;
  const reply = buildFrame({
    dstMac: INSIDE_MAC, srcMac: rs, ip: { src: `198.18.1.${n * 10}`, dst: CLIENT },
    tcp: { srcPort: 80, dstPort: 54000, flags: TCP_ACK },
  });
  t.equal(d.send(reply, true).verdict, TX_OTHER, 'the reply finds the picked-up connection');
  t.equal(d.counters[C_DROP_BASE + DataplaneDrop.REPLY_NO_FLOW], 0);
});

t.test('compiled per service from dataplane.sloppy_tcp and the scheduler', async (t) => {
  const ctx = { macOf: () => null, healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true, tunnelSource: 0 };
  const yaml = (setting: string): string => `dataplane: { interface: eth0${setting} }
virtual_servers:
  - { vip: 198.18.0.100, port: 80, protocol: TCP, lb_algo: mh, lb_kind: DR, real_servers: [ { ip: 198.18.0.10, port: 80 } ] }
  - { vip: 198.18.0.100, port: 81, protocol: TCP, lb_algo: wlc, lb_kind: DR, real_servers: [ { ip: 198.18.0.10, port: 81 } ] }
  - { vip: 198.18.0.100, port: 53, protocol: UDP, lb_algo: sh, lb_kind: DR, real_servers: [ { ip: 198.18.0.10, port: 53 } ] }
`;
  const compiled = (setting: string): boolean[] =>
    compileSnapshot(loadConfigText(yaml(setting)).config, new IdRegistry(), ctx, 1).services.map((s) => s.sloppyTcp === true);
  t.same(compiled(''), [true, false, false], 'default auto: mh yes, wlc no, UDP never');
  t.same(compiled(', sloppy_tcp: auto'), [true, false, false]);
  t.same(compiled(', sloppy_tcp: true'), [true, true, false], 'true: every TCP service');
  t.same(compiled(', sloppy_tcp: false'), [false, false, false], 'false: IPVS default');
});
