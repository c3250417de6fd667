// Model-based test: random command sequences against the FlowTable and a slow Map-based oracle
// that keeps every rule (replacement, eviction order, expiry, counters) in plain objects.
// Small capacities so eviction and index wraparound happen constantly.
import t from 'tap';
import fc from 'fast-check';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { lookupFlow, lookupReplyFlow, insertFlow } from './flow-calls.js';
import { nextTcpState, TCP_STATE_NAMES } from '../../src/conntrack/tcp-states.js';

const TCP = 6, UDP = 17;
// Written out again here (not imported) so the oracle does not share the table's numbers.
const ORACLE_TIMEOUTS: Record<string, number> = {
  NONE: 2, ESTABLISHED: 900, SYN_SENT: 120, SYN_RECV: 60, FIN_WAIT: 120, TIME_WAIT: 120,
  CLOSE: 10, CLOSE_WAIT: 60, LAST_ACK: 30, LISTEN: 120, SYNACK: 120, UDP: 300,
};
const ACTIVE_STATES = new Set(['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'SYNACK']);

interface OracleFlow {
  proto: number; c: number; cp: number; v: number; vp: number;
  service: number; rs: number; rsIp: number; rsPort: number; trackReply: boolean;
  state: number; noOutput: boolean; seen: boolean; assured: boolean;
  expires: number; insertSeq: number; classSeq: number;
}

class Oracle {
  flows = new Map<string, OracleFlow>();
  timeouts = { ...ORACLE_TIMEOUTS };
  seq = 0;
  evictions = 0; expired = 0;
  constructor(readonly capacity: number) {}
  static key(proto: number, c: number, cp: number, v: number, vp: number): string { return `${proto}/${c}:${cp}/${v}:${vp}`; }
  isProtected(f: OracleFlow): boolean { return f.proto === TCP ? f.state === 1 : f.assured; }
  live(f: OracleFlow, now: number): boolean { return f.expires > now; }
  lookup(proto: number, c: number, cp: number, v: number, vp: number, now: number): OracleFlow | undefined {
    const f = this.flows.get(Oracle.key(proto, c, cp, v, vp));
    return f && this.live(f, now) ? f : undefined;
  }
  lookupReply(proto: number, rsIp: number, rsPort: number, c: number, cp: number, now: number): OracleFlow | undefined {
    let best: OracleFlow | undefined;
    for (const f of this.flows.values()) {
      if (f.trackReply && f.proto === proto && f.rsIp === rsIp && f.rsPort === rsPort && f.c === c && f.cp === cp &&
          this.live(f, now) && (best === undefined || f.insertSeq < best.insertSeq)) best = f;
    }
    return best;
  }
  insert(f: Omit<OracleFlow, 'state' | 'noOutput' | 'seen' | 'assured' | 'expires' | 'insertSeq' | 'classSeq'>, now: number): void {
    const key = Oracle.key(f.proto, f.c, f.cp, f.v, f.vp);
    const old = this.flows.get(key);
    if (old) { if (!this.live(old, now)) this.expired++; this.flows.delete(key); }
    if (this.flows.size >= this.capacity) {
      const all = [...this.flows.entries()];
      const embryonic = all.filter(([, g]) => !this.isProtected(g));
      const pool = embryonic.length > 0 ? embryonic : all;
      pool.sort((a, b) => a[1].classSeq - b[1].classSeq);
      const [victimKey, victim] = pool[0];
      if (this.live(victim, now)) this.evictions++; else this.expired++;
      this.flows.delete(victimKey);
    }
    const seq = this.seq++;
    this.flows.set(key, { ...f, state: 0, noOutput: !f.trackReply, seen: false, assured: false,
      expires: now + (f.proto === TCP ? this.timeouts.NONE : this.timeouts.UDP), insertSeq: seq, classSeq: seq });
  }
  tcp(f: OracleFlow, fromClient: boolean, flags: number, now: number): void {
    const wasProtected = this.isProtected(f);
    let dir: number;
    if (fromClient) dir = f.noOutput ? 2 : 0;
    else { dir = 1; f.noOutput = false; }
    f.state = nextTcpState(f.state, dir, flags);
    if (this.isProtected(f) !== wasProtected) f.classSeq = this.seq++;
    f.expires = now + this.timeouts[TCP_STATE_NAMES[f.state]];
  }
  udp(f: OracleFlow, now: number): void {
    if (!f.seen) f.seen = true;
    else if (!f.assured) { f.assured = true; f.classSeq = this.seq++; }
    f.expires = now + this.timeouts.UDP;
  }
  sweepAll(now: number): void {
    for (const [k, f] of this.flows) if (!this.live(f, now)) { this.flows.delete(k); this.expired++; }
  }
  counters(rs: number): { active: number; inactive: number } {
    let active = 0, inactive = 0;
    for (const f of this.flows.values()) {
      if (f.rs !== rs) continue;
      if (f.proto === TCP && ACTIVE_STATES.has(TCP_STATE_NAMES[f.state])) active++; else inactive++;
    }
    return { active, inactive };
  }
}

const ip = fc.constantFrom(1, 0xc6120001, 0xffffffff);
const port = fc.constantFrom(80, 65535);
const proto = fc.constantFrom(TCP, UDP);
const tuple = fc.record({ proto, c: ip, cp: port, v: fc.constantFrom(0xc6120064, 7), vp: fc.constantFrom(80, 443) });
const command = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), tuple, service: fc.integer({ min: 0, max: 65535 }),
    rs: fc.integer({ min: 0, max: 3 }), rsIp: ip, rsPort: port, trackReply: fc.boolean() }),
  fc.record({ kind: fc.constant('lookup' as const), tuple }),
  fc.record({ kind: fc.constant('lookupReply' as const), proto, rsIp: ip, rsPort: port, c: ip, cp: port }),
  // Packets go to a flow the oracle holds (the pick-th), so state machines get driven far.
  fc.record({ kind: fc.constant('tcp' as const), pick: fc.nat(), fromClient: fc.boolean(),
    flags: fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x01, 0x04, 0x14, 0x00) }),
  fc.record({ kind: fc.constant('udp' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), seconds: fc.constantFrom(0, 1, 2, 5, 10, 30, 60, 61, 120, 130, 300, 400, 900, 1000) }),
  fc.record({ kind: fc.constant('sweep' as const) }),
  fc.record({ kind: fc.constant('setTimeouts' as const), tcp: fc.integer({ min: 0, max: 1000 }),
    tcpfin: fc.integer({ min: 0, max: 200 }), udp: fc.integer({ min: 0, max: 400 }) }),
);

t.test('FlowTable agrees with a Map oracle on any command sequence', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }), fc.integer(), fc.array(command, { minLength: 20, maxLength: 150, size: 'max' }),
    (capacity, seed, commands) => {
      const table = new FlowTable({ capacity, seed });
      const oracle = new Oracle(capacity);
      let now = 1000;
      for (const cmd of commands) {
        switch (cmd.kind) {
          case 'insert': {
            const { proto, c, cp, v, vp } = cmd.tuple;
            const flow = insertFlow(table, proto, c, cp, v, vp, cmd.service, cmd.rs, cmd.rsIp, cmd.rsPort, now, cmd.trackReply);
            oracle.insert({ proto, c, cp, v, vp, service: cmd.service, rs: cmd.rs, rsIp: cmd.rsIp, rsPort: cmd.rsPort,
              trackReply: cmd.trackReply }, now);
            if (flow < 0 || flow >= table.slotCount) throw new Error(`insert returned ${flow}`);
            break;
          }
          case 'lookup': {
            const { proto, c, cp, v, vp } = cmd.tuple;
            const flow = lookupFlow(table, proto, c, cp, v, vp, now);
            const expected = oracle.lookup(proto, c, cp, v, vp, now);
            if ((flow >= 0) !== (expected !== undefined)) throw new Error(`lookup ${Oracle.key(proto, c, cp, v, vp)}: table ${flow}, oracle ${expected !== undefined}`);
            if (expected) {
              const got = { rs: table.rsId(flow), rsIp: table.rsIp(flow), rsPort: table.rsPort(flow), service: table.service(flow),
                state: table.state(flow), expires: table.expiresAt(flow) };
              const want = { rs: expected.rs, rsIp: expected.rsIp, rsPort: expected.rsPort, service: expected.service,
                state: expected.state, expires: expected.expires };
              if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`lookup values ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
            }
            break;
          }
          case 'lookupReply': {
            const flow = lookupReplyFlow(table, cmd.proto, cmd.rsIp, cmd.rsPort, cmd.c, cmd.cp, now);
            const expected = oracle.lookupReply(cmd.proto, cmd.rsIp, cmd.rsPort, cmd.c, cmd.cp, now);
            if ((flow >= 0) !== (expected !== undefined)) throw new Error(`lookupReply: table ${flow}, oracle ${expected !== undefined}`);
            if (expected && (table.clientIp(flow) !== expected.c || table.vip(flow) !== expected.v || table.vport(flow) !== expected.vp)) {
              throw new Error('lookupReply found a different flow than the oldest live match');
            }
            break;
          }
          case 'tcp': case 'udp': {
            const wanted = cmd.kind === 'tcp' ? TCP : UDP;
            const candidates = [...oracle.flows.values()].filter((f) => f.proto === wanted);
            if (candidates.length === 0) break;
            const { proto, c, cp, v, vp } = candidates[cmd.pick % candidates.length];
            const flow = lookupFlow(table, proto, c, cp, v, vp, now);
            const expected = oracle.lookup(proto, c, cp, v, vp, now);
            if ((flow >= 0) !== (expected !== undefined)) throw new Error('presence differs before a packet');
            if (!expected || expected.proto !== (cmd.kind === 'tcp' ? TCP : UDP)) break;
            if (cmd.kind === 'tcp') { table.onTcpPacket(flow, cmd.fromClient, cmd.flags, now); oracle.tcp(expected, cmd.fromClient, cmd.flags, now); }
            else { table.onUdpPacket(flow, now); oracle.udp(expected, now); }
            break;
          }
          case 'advance': now += cmd.seconds; break;
          case 'sweep': table.expireSome(now, table.slotCount); oracle.sweepAll(now); break;
          case 'setTimeouts': {
            table.setTimeouts({ tcp: cmd.tcp, tcpfin: cmd.tcpfin, udp: cmd.udp });
            if (cmd.tcp) oracle.timeouts.ESTABLISHED = cmd.tcp;
            if (cmd.tcpfin) oracle.timeouts.FIN_WAIT = cmd.tcpfin;
            if (cmd.udp) oracle.timeouts.UDP = cmd.udp;
            break;
          }
        }
        // Every flow the oracle holds is found (live) or absent (expired), with the right values.
        for (const f of oracle.flows.values()) {
          const flow = lookupFlow(table, f.proto, f.c, f.cp, f.v, f.vp, now);
          if ((flow >= 0) !== (f.expires > now)) throw new Error(`${Oracle.key(f.proto, f.c, f.cp, f.v, f.vp)} lost: table ${flow}, oracle expires ${f.expires} now ${now}`);
          if (flow >= 0 && (table.rsId(flow) !== f.rs || table.state(flow) !== f.state || table.expiresAt(flow) !== f.expires)) {
            throw new Error(`${Oracle.key(f.proto, f.c, f.cp, f.v, f.vp)} values differ`);
          }
          if (flow >= 0 && f.trackReply) {
            const reply = lookupReplyFlow(table, f.proto, f.rsIp, f.rsPort, f.c, f.cp, now);
            const want = oracle.lookupReply(f.proto, f.rsIp, f.rsPort, f.c, f.cp, now);
            if (reply < 0 || !want || table.vip(reply) !== want.v || table.vport(reply) !== want.vp) throw new Error('reply key lost');
          }
        }
        if (table.stats.size !== oracle.flows.size) throw new Error(`size ${table.stats.size} != oracle ${oracle.flows.size}`);
        if (table.stats.size > capacity) throw new Error('capacity exceeded');
        if (table.stats.evictions !== oracle.evictions) throw new Error(`evictions ${table.stats.evictions} != ${oracle.evictions}`);
        if (table.stats.expired !== oracle.expired) throw new Error(`expired ${table.stats.expired} != ${oracle.expired}`);
        for (let rs = 0; rs < 4; rs++) {
          const want = oracle.counters(rs);
          if (table.activeConns[rs] !== want.active || table.inactiveConns[rs] !== want.inactive) {
            throw new Error(`rs ${rs}: Active/InAct ${table.activeConns[rs]}/${table.inactiveConns[rs]} != ${want.active}/${want.inactive}`);
          }
        }
      }
      // Every flow the oracle holds live is found with its tuple; nothing else is listed.
      const listed = table.snapshot(now).map((e) => Oracle.key(e.proto, e.clientIp, e.clientPort, e.vip, e.vport)).sort();
      const live = [...oracle.flows.entries()].filter(([, f]) => f.expires > now).map(([k]) => k).sort();
      if (JSON.stringify(listed) !== JSON.stringify(live)) throw new Error(`snapshot ${listed} != ${live}`);
    },
  ), { numRuns: 1000 });
  t.pass('1000 random sequences agreed');
});
