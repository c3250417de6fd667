// `node dist/bench/sync.js [--records N] [--trials K]`: what connection sync costs the main
// thread and the wire, per connection. Interleaved trials of the whole path a synced connection
// takes in ulvs (outbox ring -> IPVS v1 record -> signed messages -> verify -> decode -> flow to
// import); prints JSON with the median and min-max of each figure. In-process: no namespaces.
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { FORWARD_DR, type Snapshot } from '../src/dataplane/snapshot.js';
import { decodeSyncMessage, encodeSyncMessages, type SyncRecord } from '../src/sync/codec.js';
import { OUTBOX_CONNECTION, SyncOutbox, fillRecord, type OutboxRecord } from '../src/dataplane/sync-outbox.js';
import { SyncIndex, fromSyncRecord, toSyncRecord } from '../src/sync/records.js';

/** Ethernet + IPv4 + UDP headers of each datagram. */
const FRAME_OVERHEAD = 14 + 20 + 8;
const KEY = 'bench-sync-key-0123456789';
const VIP = 0xc6120064;

function snapshot(servers: number): Snapshot {
  return {
    version: 1, tunnelSource: 0, mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: VIP, vport: 80 }], protocol: 6, forward: FORWARD_DR, scheduler: 'rr', schedulerFlags: {} as never,
      persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: Array.from({ length: servers }, (_, i) => ({ rsId: i + 1, ip: 0xc6120100 + i, port: 80, weight: 1, available: true, mac: null, uthreshold: 0, lthreshold: 0 })),
    }],
  };
}

function record(i: number): OutboxRecord {
  return { kind: OUTBOX_CONNECTION, proto: 6, state: 1, clientIp: (0xc6130000 + (i >>> 16)) >>> 0, clientPort: i & 0xffff,
    vip: VIP, vport: 80, rsIp: 0xc6120100 + (i % 8), rsPort: 80, rsId: (i % 8) + 1, service: 1, timeout: 900 };
}

interface Trial { outboxNs: number; encodeNs: number; decodeNs: number; bytesPerConn: number; wireBytesPerConn: number; recordsPerMessage: number }

function trial(n: number, index: SyncIndex): Trial {
  const box = new SyncOutbox(1 << 13);
  const drained: OutboxRecord[] = [];
  let t0 = performance.now();
  for (let i = 0; i < n; i += 4096) {
    for (let k = i; k < Math.min(n, i + 4096); k++) { fillRecord(box.scratch, record(k)); box.push(); }
    box.drain((r) => { if (r.family !== 6) drained.push(r); });
  }
  const outboxNs = ((performance.now() - t0) * 1e6) / n;
  t0 = performance.now();
  const records: SyncRecord[] = drained.map((r) => toSyncRecord(r, FORWARD_DR));
  const messages = encodeSyncMessages(records, { syncId: 7, key: KEY });
  const encodeNs = ((performance.now() - t0) * 1e6) / n;
  t0 = performance.now();
  let applied = 0;
  for (const m of messages) {
    const d = decodeSyncMessage(m, { syncId: 7, key: KEY });
    if ('drop' in d) throw new Error(`bench message dropped: ${d.drop}`);
    for (const r of d.records) if (!('ignored' in fromSyncRecord(r, index))) applied++;
  }
  const decodeNs = ((performance.now() - t0) * 1e6) / n;
  if (applied !== n) throw new Error(`applied ${applied} of ${n}: the bench is not measuring the path it claims`);
  const bytes = messages.reduce((s, m) => s + m.length, 0);
  return { outboxNs, encodeNs, decodeNs, bytesPerConn: bytes / n, wireBytesPerConn: (bytes + messages.length * FRAME_OVERHEAD) / n, recordsPerMessage: n / messages.length };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

const opts = new Command('bench-sync').option('--records <n>', 'connections per trial', '200000').option('--trials <k>', 'trials', '7')
  .parse(process.argv).opts<{ records: string; trials: string }>();
const n = Number(opts.records), k = Number(opts.trials);
const index = new SyncIndex(snapshot(8));
trial(20_000, index); // warm-up (JIT), not reported
const trials = Array.from({ length: k }, () => trial(n, index));
const pick = (f: (t: Trial) => number) => summary(trials.map(f));
const master = pick((t) => t.outboxNs + t.encodeNs);
const backup = pick((t) => t.decodeNs);
const perMessage = pick((t) => t.recordsPerMessage).median;
const figures = {
  records_per_trial: n, trials: k,
  outbox_ns_per_conn: pick((t) => t.outboxNs),
  encode_sign_ns_per_conn: pick((t) => t.encodeNs),
  verify_decode_match_ns_per_conn: backup,
  bytes_per_conn_udp_payload: pick((t) => t.bytesPerConn),
  bytes_per_conn_on_the_wire: pick((t) => t.wireBytesPerConn),
  records_per_message: perMessage,
  at_10k_conns_per_s: {
    messages_per_s: Math.ceil(10_000 / perMessage),
    master_main_thread_cpu_percent: { median: (master.median * 10_000) / 1e7, min: (master.min * 10_000) / 1e7, max: (master.max * 10_000) / 1e7 },
    backup_main_thread_cpu_percent: { median: (backup.median * 10_000) / 1e7, min: (backup.min * 10_000) / 1e7, max: (backup.max * 10_000) / 1e7 },
  },
  reliable: master.max < 5 * master.median && backup.max < 5 * backup.median,
};
process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
