// Mixed Local forwarding in the per-batch step: a service with a remote real server and one on
// the director itself. Connections scheduled to the local one get the LOCAL verdict with the
// frame untouched (the addon sends its IPv4 packet to the director's own stack, to VIP:port);
// the others are forwarded as usual. The wire side is test/e2e/local-mixed.test.ts.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { allocateCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, LOCAL, TX, type PacketPort } from '../../src/io/port.js';
import { formatMac, ipToNumber } from '../../src/packet/addr.js';
import { buildFrame } from '../../src/packet/build.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';

const FRAME = 2048;
const DIRECTOR_MAC = '02:18:00:00:00:02';
const RS_MAC = '02:18:00:00:00:0a';

function fakePort(): PacketPort {
  return {
    backend: 'afxdp', ifname: 'test0', mac: Uint8Array.from(DIRECTOR_MAC.split(':').map((x) => parseInt(x, 16))),
    frames: new Uint8Array(FRAME * 8), frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

const snapshot: Snapshot = {
  version: 1, tunnelSource: 0, mtu: 1500,
  services: [{
    id: 1, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], protocol: 6, forward: FORWARD_DR,
    scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
    realServers: [
      { rsId: 1, ip: ipToNumber('198.18.0.10'), port: 80, weight: 1, available: true, mac: RS_MAC, uthreshold: 0, lthreshold: 0 },
      // The director itself: no next hop, so no MAC; it must not be dropped as NO_NEIGHBOUR.
      { rsId: 2, ip: ipToNumber('127.0.0.1'), port: 80, weight: 1, available: true, mac: null, uthreshold: 0, lthreshold: 0, local: true },
    ],
  }],
};

t.test('a mixed service: connections to the local server go to the own stack untouched, the rest are forwarded', async (t) => {
  const port = fakePort();
  const templates = new PersistenceTable({ capacity: 64 });
  const dp = new Dataplane(snapshot, new FlowTable({ capacity: 256, templates }), templates, allocateCounters(), port, null);
  const descs = new Uint32Array(8 * DESC_WORDS);
  const send = (srcPort: number, flags: number) => {
    const frame = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: '02:18:00:00:00:01', ip: { src: '198.18.0.1', dst: '198.18.0.100' }, tcp: { srcPort, dstPort: 80, flags } });
    port.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], frame, out: port.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  const verdicts: number[] = [];
  for (let p = 40000; p < 40006; p++) {
    const r = send(p, TCP_SYN);
    verdicts.push(r.verdict);
    if (r.verdict === LOCAL) {
      t.same(r.out, r.frame, 'LOCAL: not a byte changed (no TTL, no MAC rewrite)');
      t.equal(send(p, TCP_ACK).verdict, LOCAL, 'the connection stays on the director');
    } else {
      t.equal(formatMac(r.out, 0), RS_MAC, 'forwarded to the remote server');
      t.equal(send(p, TCP_ACK).verdict, TX, 'and stays there');
    }
  }
  t.same(verdicts, [TX, LOCAL, TX, LOCAL, TX, LOCAL], 'rr shares the connections between the remote and the local server');
});
