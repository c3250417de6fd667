// The dataplane step with a Full NAT service, over synthetic frames (PipelineRig): the request
// leaves as laddr:lport -> rs:rsport, the reply to that port leaves as VIP:80 -> client, byte for
// byte against frames built whole; pools run dry cleanly and refill when flows expire.
import t from 'tap';
import { PipelineRig, caseSnapshot, CLIENT_MAC, DIRECTOR_MAC, RS_MAC, RIG_NOW } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { DROP, LOCAL, TX } from '../../src/io/port.js';
import { buildFrame } from '../../src/packet/build.js';
import { ipToNumber } from '../../src/packet/addr.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { C_DROP_BASE, DataplaneDrop } from '../../src/dataplane/counters.js';
import { FORWARD_FNAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { steeringFor } from '../../src/dataplane/steering.js';

const CLIENT = '198.18.0.1', VIP = '198.18.0.100', LADDR = '198.18.0.200', RS1 = '198.18.0.10';

function fnatSnapshot(portMin: number, portMax: number): Snapshot {
  const s = caseSnapshot({ forward: FORWARD_FNAT, weights: [1] });
  s.services[0].localGroup = 0;
  s.localAddresses = [{ ip: ipToNumber(LADDR), portMin, portMax, outside: true }];
  s.localGroups = [[0]];
  return s;
}

const syn = (srcPort: number, flags = TCP_SYN) => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, ttl: 64 }, tcp: { srcPort, dstPort: 80, flags },
});
const fromRs = (dstPort: number, dst = LADDR) => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: RS_MAC(1), ip: { src: RS1, dst, ttl: 64 }, tcp: { srcPort: 80, dstPort, flags: TCP_SYN | TCP_ACK, ack: 1 }, payload: 'ok',
});
const hex = (u8: Uint8Array) => Buffer.from(u8).toString('hex');

t.test('request and reply rewritten both ways; real server sees the local address', async (t) => {
  const rig = new PipelineRig(fnatSnapshot(5000, 5009));
  const req = rig.send({ side: 'outside', frame: syn(40000) });
  t.equal(req.verdict, TX, 'one-armed: out the interface the local address is on');
  t.equal(hex(req.out), hex(buildFrame({
    dstMac: RS_MAC(1), srcMac: DIRECTOR_MAC, ip: { src: LADDR, dst: RS1, ttl: 63 }, tcp: { srcPort: 5000, dstPort: 80, flags: TCP_SYN },
  })), 'laddr:5000 -> rs:80, TTL - 1, checksums as built whole');
  const rep = rig.send({ side: 'outside', frame: fromRs(5000) });
  t.equal(rep.verdict, TX);
  t.equal(hex(rep.out), hex(buildFrame({
    dstMac: CLIENT_MAC, srcMac: DIRECTOR_MAC, ip: { src: VIP, dst: CLIENT, ttl: 63 }, tcp: { srcPort: 80, dstPort: 40000, flags: TCP_SYN | TCP_ACK, ack: 1 }, payload: 'ok',
  })), 'VIP:80 -> client:40000');
  t.equal(rig.send({ side: 'outside', frame: fromRs(5001) }).verdict, LOCAL, 'a port no connection holds goes to the kernel (director\'s own traffic)');
  const wrongRs = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: RS_MAC(1), ip: { src: '198.18.0.99', dst: LADDR }, tcp: { srcPort: 80, dstPort: 5000, flags: TCP_ACK } });
  t.equal(rig.send({ side: 'outside', frame: wrongRs }).verdict, DROP, 'the port is held by a connection to another server: dropped');
  t.equal(rig.counters[C_DROP_BASE + DataplaneDrop.REPLY_NO_FLOW], 1);
});

t.test('exhaustion: new connections dropped and counted, existing ones untouched, ports back after expiry', async (t) => {
  const rig = new PipelineRig(fnatSnapshot(6000, 6001));
  t.equal(rig.send({ side: 'outside', frame: syn(41000) }).verdict, TX);
  t.equal(rig.send({ side: 'outside', frame: syn(41001) }).verdict, TX);
  t.equal(rig.send({ side: 'outside', frame: syn(41002) }).verdict, DROP, 'third connection: no port left');
  t.equal(rig.counters[C_DROP_BASE + DataplaneDrop.LOCAL_PORTS_EXHAUSTED], 1, 'counted');
  t.equal(rig.dataplane.fnat.ports!.exhausted, 1);
  const again = rig.send({ side: 'outside', frame: syn(41001, TCP_ACK) });
  t.equal(again.verdict, TX, 'an existing connection still forwards');
  t.equal(rig.send({ side: 'outside', frame: fromRs(6001) }).verdict, TX, 'and its replies');
  rig.flows.expireSome(RIG_NOW + 100_000, rig.flows.slotCount);
  t.equal(rig.dataplane.fnat.ports!.totalInUse(), 0, 'the sweep gave both ports back');
  t.equal(rig.send({ side: 'outside', frame: syn(41002) }).verdict, TX, 'a new connection gets one');
});

t.test('steering: replies from the real servers on the local address\'s interface', async (t) => {
  const s = fnatSnapshot(1024, 65535);
  t.same(steeringFor(s).outside.map((r) => `${r.kind} ${r.ip} ${r.port}`).sort(),
    [`reply ${ipToNumber(RS1)} 80`, `service ${ipToNumber(VIP)} 80`].sort());
  s.localAddresses![0].outside = false;
  t.same(steeringFor(s).inside.map((r) => `${r.kind} ${r.ip} ${r.port}`), [`reply ${ipToNumber(RS1)} 80`]);
});
