/**
 * Fuzz target: the whole per-batch pipeline (parse -> flow lookup or schedule -> rewrite ->
 * verdict) over synthetic frame memory, as src/dataplane/fixtures/pipeline-cases.ts builds it.
 * Input: byte 0 picks the service shape (DR/NAT/TUN, persistence, sloppy weights), then
 * batches of frames: [flags, count, then count x (len16, bytes)]. flags bit 0: inside side;
 * bit 1: the harness fixes the frame's IPv4 header and TCP/UDP checksums first (so mutations
 * get past the header check); bit 2: advance the clock a minute before the batch.
 */
import { createPersistenceTable6 } from '../../src/conntrack/persistence6.js';
import { DESC_WORDS, DROP, TX, TX_OTHER } from '../../src/io/port.js';
import { C_ICMP_SENT, C_PARSE_BASE, C_RX, C_TX, COUNTER_COUNT, C_SLOPPY_PICKUPS } from '../../src/dataplane/counters.js';
import { FIRST_DROP_RESULT } from '../../src/packet/parse.js';
import { DIRECTOR_MAC, INSIDE_MAC, RIG_FRAME_SIZE, RIG_HEADROOM, caseSnapshot } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { HopTable, RealServerMacs, RuntimeTables } from '../../src/dataplane/tables.js';
import { IcmpErrors } from '../../src/dataplane/icmp.js';
import { FragmentSteps } from '../../src/dataplane/fragments.js';
import { FullNatSteps } from '../../src/dataplane/fnat.js';
import { Ipv6Steps, hasIpv6Services } from '../../src/dataplane/ipv6-steps.js';
import { FragmentTable } from '../../src/conntrack/fragments.js';
import type { FrameSpan } from '../../src/packet/rewrite.js';
import { SyncOffers } from '../../src/dataplane/sync-offers.js';
import { STAT_FIELDS } from '../../src/dataplane/counters.js';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { parseMac } from '../../src/packet/addr.js';
import type { PacketPort } from '../../src/io/port.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN } from '../../src/dataplane/snapshot.js';
import { check, checkFlowTable, checkTransmitted, inputChecksumsValid } from '../frame-checks.js';
import { fixChecksums } from '../fix-checksums.js';

const SHAPES = [
  caseSnapshot({ forward: FORWARD_DR }),
  caseSnapshot({ forward: FORWARD_NAT }),
  caseSnapshot({ forward: FORWARD_TUN }),
  caseSnapshot({ forward: FORWARD_DR, persistenceTimeout: 300, persistenceMask: '255.255.255.0' }),
  caseSnapshot({ forward: FORWARD_NAT, weights: [0, 1, 3] }),
];
const MAX_BATCHES = 16;
const SLOTS = 16;
/** Small tables so eviction and a full table are reached within a few inputs. */
const FLOW_CAPACITY = 64;

/** A port over frame memory (as the rig in pipeline-cases.ts); made once, reused by every input. */
function memoryPort(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'fuzz0', mac: parseMac(mac), frames: new Uint8Array(RIG_FRAME_SIZE * SLOTS), frameSize: RIG_FRAME_SIZE,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}
const outside = memoryPort(DIRECTOR_MAC);
const inside = memoryPort(INSIDE_MAC);
const descs = new Uint32Array(SLOTS * DESC_WORDS);

/**
 * A dataplane in its initial state for each input (libFuzzer replays inputs alone, so no state
 * may leak between them). Building one costs ~100 ms (RealServerMacs makes 65,536 views), so
 * one per shape is kept and every field that holds state is replaced before each input; a
 * field Dataplane gains later fails the harness until it is reset here too.
 */
const STATE_FIELDS = ['flows', 'templates', 'counters', 'ipvs', 'hops', 'flowHop', 'sync', 'ipId', 'chosenTemplate', 'claimsRing', 'tables', 'icmp', 'fragments', 'fnat', 'v6',
  'prefetchMinFlows', 'prefetchPaid', 'prefetchSkipped', 'prefetchSink'];
/** hintedSlots, ipArg: scratch, written before it is read. */
const STATELESS_FIELDS = ['macs', 'parsed', 'span', 'outside', 'inside', 'hintedSlots', 'ipArg'];
const kept = new Map<number, Dataplane>();

function freshDataplane(byte: number): { dataplane: Dataplane; flows: FlowTable; counters: Float64Array; nat: boolean } {
  const shape = byte % SHAPES.length;
  const snapshot = SHAPES[shape];
  const nat = snapshot.services.some((s) => s.forward === FORWARD_NAT);
  const templates = new PersistenceTable({ capacity: 16 });
  const flows = new FlowTable({ capacity: FLOW_CAPACITY, templates });
  const counters = new Float64Array(COUNTER_COUNT);
  const ipvs = new Float64Array(STAT_FIELDS * 8);
  let dataplane = kept.get(shape);
  if (dataplane === undefined) {
    dataplane = new Dataplane(snapshot, flows, templates, counters, outside, nat ? inside : null, ipvs);
    // The batch pre-pass over these small tables too (it runs from 32k flows in a director).
    dataplane.prefetchMinFlows = 0;
    const fields = Object.keys(dataplane).sort();
    const known = [...STATE_FIELDS, ...STATELESS_FIELDS].sort();
    check(fields.join() === known.join(), `Dataplane fields changed (${fields.join()}): reset the new ones in fuzz/targets/pipeline.ts`);
    kept.set(shape, dataplane);
  } else {
    const hops = new HopTable();
    const flowHop = new Uint16Array(flows.slotCount);
    // The ICMP and fragment steps hold state (rate-limit buckets, the fragment table) and share
    // the dataplane's tables: rebuilt over the new ones, with its stateless macs and span.
    const { macs, span } = dataplane as unknown as { macs: RealServerMacs; span: FrameSpan };
    const sync = new SyncOffers(flows, templates);
    const icmp = new IcmpErrors(flows, counters, macs, hops, flowHop, span);
    const fragments = new FragmentSteps(new FragmentTable(), flows, counters, macs, hops, flowHop, span);
    const fnat = new FullNatSteps(snapshot, flows, counters, ipvs, hops, flowHop, sync, icmp, fragments);
    icmp.fullNat = fnat;
    fragments.fullNat = fnat;
    // The IPv6 path exists only for snapshots with an IPv6 service, built over these tables.
    const v6 = hasIpv6Services(snapshot) ? new Ipv6Steps(flows, counters, ipvs, macs, hops, icmp, createPersistenceTable6(templates.capacity)) : null;
    v6?.setSnapshot(snapshot);
    Object.assign(dataplane, {
      flows, templates, counters, ipvs, hops, flowHop,
      sync, ipId: 0, chosenTemplate: -1, claimsRing: null, tables: new RuntimeTables(snapshot),
      icmp, fragments, fnat, v6, prefetchMinFlows: 0, prefetchPaid: true, prefetchSkipped: 0, prefetchSink: 0,
    });
  }
  return { dataplane, flows, counters, nat };
}

function dropCount(c: Float64Array): number {
  let sum = 0;
  for (let i = C_PARSE_BASE + FIRST_DROP_RESULT; i < C_SLOPPY_PICKUPS; i++) sum += c[i];
  return sum;
}

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  const rig = freshDataplane(data[0]);
  let at = 1;
  let now = 10;
  for (let b = 0; b < MAX_BATCHES && at + 2 <= data.length; b++) {
    const flags = data[at];
    // Workers read the inside port only when a NAT service opened one.
    const side = (flags & 1) !== 0 && rig.nat ? 'inside' : 'outside';
    const count = data[at + 1] % (SLOTS + 1);
    at += 2;
    if ((flags & 4) !== 0) now += 60;
    const port = side === 'inside' ? inside : outside;
    const valid: boolean[] = [];
    let n = 0;
    for (; n < count && at + 2 <= data.length; n++) {
      const len = Math.min((data[at] << 8) | data[at + 1], data.length - at - 2, RIG_FRAME_SIZE - RIG_HEADROOM);
      const frame = Uint8Array.from(data.subarray(at + 2, at + 2 + len));
      at += 2 + len;
      if ((flags & 2) !== 0) fixChecksums(frame);
      valid.push(inputChecksumsValid(frame));
      const slot = n * RIG_FRAME_SIZE + RIG_HEADROOM;
      port.frames.set(frame, slot);
      descs[n * DESC_WORDS] = slot;
      descs[n * DESC_WORDS + 1] = frame.length;
      descs[n * DESC_WORDS + 2] = 0xdead;
    }
    const before = Float64Array.from(rig.counters);
    if (side === 'inside') rig.dataplane.processInside(descs, n, now);
    else rig.dataplane.processOutside(descs, n, now);
    const c = rig.counters;
    check(c[C_RX] - before[C_RX] === n, 'rx counter does not count the batch');
    let sent = 0;
    for (let i = 0; i < n; i++) {
      // Every received descriptor comes back exactly once, with one verdict, inside its own slot.
      const verdict = descs[i * DESC_WORDS + 2];
      check(verdict === TX || verdict === TX_OTHER || verdict === DROP, `descriptor ${i} has no verdict (${verdict})`);
      if (verdict === DROP) continue;
      sent++;
      const off = descs[i * DESC_WORDS];
      const len = descs[i * DESC_WORDS + 1];
      const slotStart = i * RIG_FRAME_SIZE;
      check(off >= slotStart && off + len <= slotStart + RIG_FRAME_SIZE, `descriptor ${i} left its frame slot`);
      check(side === 'outside' || verdict === TX_OTHER, 'a NAT reply was sent back to the inside');
      checkTransmitted(port.frames, off, len, valid[i]);
    }
    check(c[C_TX] - before[C_TX] === sent, 'tx counter differs from the frames sent');
    // A frame answered with an ICMP error (TTL expired, fragmentation needed) is both sent and
    // counted under the drop reason of the packet it replaced; icmp_sent counts those.
    const answered = c[C_ICMP_SENT] - before[C_ICMP_SENT];
    check(sent + dropCount(c) - dropCount(before) - answered === n, 'a frame was neither sent nor counted as a drop');
    checkFlowTable(rig.flows);
  }
}
