// Connection sync on the wire, in the lab: two ulvs directors (dir1 MASTER, dir2 BACKUP,
// lvs_sync_daemon, unsigned as a kernel backup needs it) and the lab's client.
//  1. Latency: the client opens --conns TCP connections to VIP:80 (one every --every ms) and
//     holds them. tshark on the lab's switch (br0) timestamps each connection's handshake ACK
//     and the sync datagram that carries it; a poller in dir2's namespace reads dir2's
//     `sync_applied` over its control socket every few ms. Figures: ACK -> record on the wire
//     (the master's part) and ACK -> applied on the backup (p50/p99), in ms.
//  2. Rate: the C sender sends UDP to VIP:9000, every packet a new flow (a new connection for
//     sync: UDP flows are offered when created), at --rate per second for --seconds. Figures:
//     the rate the master reached (its new_flows), sync messages and records per second, the
//     master's and the backup's process CPU (/proc/PID/stat), bytes on the wire per synced
//     connection (tshark on dir2's eth0: frame bytes / records).
//
//   node dist/bench/sync-lab.js [--conns 300] [--every 10] [--rate 10000] [--seconds 8] [--prefix syb-]
// prints JSON. Root only; the lab is torn down at the end (and on failure).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createLab, destroyLab, type LabTopology } from '../src/lab/index.js';
import { REPO, TOOLS, ULVS, processCpuSeconds, runIn, sleep, startIn, waitFor, type Proc } from './sys.js';

const UDP_PORT = 9000;

function directorYaml(state: 'MASTER' | 'BACKUP', priority: number): string {
  const service = (port: number, protocol: string): string => `  - vip: 198.18.0.100
    port: ${port}
    protocol: ${protocol}
    lb_algo: rr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: ${port} }
      - { ip: 198.18.0.20, port: ${port} }
      - { ip: 198.18.0.30, port: ${port} }
`;
  return `global_defs:
  lvs_sync_daemon: { interface: eth0, instance: VI_1, id: 9 }
dataplane: { interface: eth0, io: auto, sloppy_tcp: false, conn_table_size: 1048576 }
vrrp_instances:
  - { name: VI_1, state: ${state}, interface: eth0, virtual_router_id: 69, version: 3, priority: ${priority}, advert_int: 0.1,
      garp_master_refresh: 1, virtual_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ] }
virtual_servers:
${service(80, 'TCP')}${service(UDP_PORT, 'UDP')}`;
}

// Client side of part 1: opens the connections paced, holds them until stdin ends.
const HOLDER = `
import net from 'node:net';
const [vip, n, every] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const socks = [];
let up = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect({ host: vip, port: 80 });
  s.on('connect', () => { up++; });
  s.on('error', () => {});
  socks.push(s);
  await new Promise((r) => setTimeout(r, every));
}
const deadline = Date.now() + 20000;
while (up < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
process.stdout.write(JSON.stringify({ connected: up }) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => { for (const s of socks) s.destroy(); process.exit(0); });
`;

// Backup side of part 1: sync_applied over the control socket, a line whenever it changes.
const POLLER = `
import { controlSocketPath, requestControl } from ${JSON.stringify(join(REPO, 'dist/src/control/socket.js'))};
let last = -1, stop = false;
process.stdin.resume();
process.stdin.on('end', () => { stop = true; });
process.stdout.write('ready\\n');
while (!stop) {
  const s = await requestControl(controlSocketPath('default'), 'stats').catch(() => null);
  if (s && s.sync_applied !== last) { last = s.sync_applied; process.stdout.write(Date.now() + ' ' + last + '\\n'); }
  await new Promise((r) => setTimeout(r, 3));
}
process.exit(0);
`;

// A director's stats on demand: a line on stdin -> one JSON line (no node start per reading,
// which takes seconds on the loaded machine and would smear the measurement window).
const STATS = `
import { createInterface } from 'node:readline';
import { controlSocketPath, requestControl } from ${JSON.stringify(join(REPO, 'dist/src/control/socket.js'))};
process.stdout.write('ready\\n');
for await (const _ of createInterface({ input: process.stdin })) {
  const s = await requestControl(controlSocketPath('default'), 'stats');
  process.stdout.write(JSON.stringify({ at: Date.now(), ...s }) + '\\n');
}
`;

interface StatsReader { read(): Promise<Record<string, number>>; close(): Promise<void> }

async function statsReader(ns: string): Promise<StatsReader> {
  const p = spawnIn(ns, [process.execPath, script('stats.mjs', STATS)]);
  await p.ready('ready');
  let seen = 1;
  return {
    read: async () => {
      p.child.stdin!.write('s\n');
      for (;;) {
        const lines = p.lines().filter((l) => l.startsWith('{'));
        if (lines.length >= seen) return JSON.parse(lines[seen++ - 1]) as Record<string, number>;
        await sleep(5);
      }
    },
    close: async () => { p.child.stdin!.end(); await p.exited; },
  };
}

function script(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-sync-lab-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}


function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** tshark with fields, line-buffered; `started` once it captures. */
function tshark(ns: string, ifname: string, filter: string, fields: string[]): Proc {
  const p = startIn(ns, ['tshark', '-l', '-n', '-i', ifname, '-f', filter, '-d', 'udp.port==8848,ipvs', '-T', 'fields',
    '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
  return p;
}

async function latency(lab: LabTopology, conns: number, every: number): Promise<Record<string, unknown>> {
  const cap = tshark(lab.switchNamespace, 'br0', 'udp port 8848 or (tcp dst port 80 and tcp[13] == 0x10)',
    ['frame.time_epoch', 'tcp.srcport', 'ipvs.cport']);
  await waitFor(cap, 'Capturing on', 120_000);
  const poller = spawnIn(lab.nodes.dir2.name, [process.execPath, script('poller.mjs', POLLER)]);
  await poller.ready('ready');
  const applied0 = await firstLine(poller);
  const holder = spawnIn(lab.nodes.client.name, [process.execPath, script('holder.mjs', HOLDER), lab.vip, String(conns), String(every)]);
  const connected = (JSON.parse(await holder.ready('}')) as { connected: number }).connected;
  await sleep(1500);   // the last records drain and are applied
  poller.child.stdin!.end();
  await poller.exited;
  holder.child.stdin!.end();
  await holder.exited;
  await cap.stop('SIGINT');

  const ack = new Map<number, number>();
  const onWire = new Map<number, number>();
  for (const line of cap.stdout().split('\n')) {
    const [time, tcpPort, cports] = line.split('|');
    const at = Number(time) * 1000;
    if (tcpPort) { if (!ack.has(Number(tcpPort))) ack.set(Number(tcpPort), at); continue; }
    for (const p of (cports ?? '').split(',').filter(Boolean)) if (!onWire.has(Number(p))) onWire.set(Number(p), at);
  }
  const order = [...ack.entries()].sort((a, b) => a[1] - b[1]);
  const wire = order.filter(([p]) => onWire.has(p)).map(([p, at]) => onWire.get(p)! - at);
  // Applied: the k-th connection (by its ACK) is on the backup once sync_applied - base >= k.
  const steps = poller.lines().filter((l) => /^\d+ \d+$/.test(l)).map((l) => l.split(' ').map(Number));
  const base = applied0;
  const appliedLat: number[] = [];
  order.forEach(([, at], k) => {
    const step = steps.find(([, n]) => n - base >= k + 1);
    if (step) appliedLat.push(step[0] - at);
  });
  return {
    connections: conns, connected, acks_seen: ack.size, records_seen_on_wire: wire.length, applied_seen: appliedLat.length,
    ack_to_wire_ms: { p50: round(quantile(wire, 0.5)), p99: round(quantile(wire, 0.99)), max: round(Math.max(...wire)) },
    ack_to_applied_on_backup_ms: { p50: round(quantile(appliedLat, 0.5)), p99: round(quantile(appliedLat, 0.99)), max: round(Math.max(...appliedLat)) },
  };
}

async function rate(lab: LabTopology, dir1: Proc, dir2: Proc, pps: number, seconds: number): Promise<Record<string, unknown>> {
  const cap = tshark(lab.nodes.dir2.name, 'eth0', 'udp port 8848', ['frame.len', 'ipvs.conncount']);
  await waitFor(cap, 'Capturing on', 120_000);
  const [r1, r2] = await Promise.all([statsReader(lab.nodes.dir1.name), statsReader(lab.nodes.dir2.name)]);
  const [m0, b0] = await Promise.all([r1.read(), r2.read()]);
  const cpu0 = [processCpuSeconds(dir1.pid), processCpuSeconds(dir2.pid)];
  const out = await runIn(lab.nodes.client.name, [join(TOOLS, 'sender'), '--if', 'eth0', '--src-mac', lab.nodes.client.interfaces[0].mac,
    '--dst-mac', lab.nodes.dir1.interfaces[0].mac, '--src-ip', '198.18.128.1', '--dst-ip', lab.vip, '--dst-port', String(UDP_PORT),
    '--flows', '4000000', '--rate', String(pps), '--seconds', String(seconds)], (seconds + 60) * 1000);
  const cpu1 = [processCpuSeconds(dir1.pid), processCpuSeconds(dir2.pid)];
  const [m1, b1] = await Promise.all([r1.read(), r2.read()]);
  await sleep(500);
  await Promise.all([r1.close(), r2.close()]);
  await cap.stop('SIGINT');
  const sent = JSON.parse(out) as { sent: number; seconds: number };
  // The readings bracket the sender's run: rates over the time between them.
  const window = (m1.at - m0.at) / 1000;
  let bytes = 0, recs = 0, frames = 0;
  for (const line of cap.stdout().split('\n')) {
    const [len, count] = line.split('|');
    if (!len) continue;
    frames++;
    bytes += Number(len);
    recs += Number(count || 0);
  }
  const s = window;
  const newFlows = m1.new_flows - m0.new_flows;
  const received = b1.sync_received_records - b0.sync_received_records;
  return {
    target_new_conns_per_s: pps,
    window_s: round(window, 2),
    client_sent_per_s: Math.round(sent.sent / sent.seconds),
    master_resyncs_sent: m1.sync_resyncs_sent - m0.sync_resyncs_sent,
    master_new_flows_per_s: Math.round(newFlows / s),
    sync_messages_per_s: Math.round((m1.sync_sent - m0.sync_sent) / s),
    sync_records_per_s: Math.round((m1.sync_sent_records - m0.sync_sent_records) / s),
    backup_applied_per_s: Math.round((b1.sync_applied - b0.sync_applied) / s),
    backup_received_records: received,
    master_outbox_overflows: m1.sync_outbox_overflows - m0.sync_outbox_overflows,
    master_cpu_percent: round((100 * (cpu1[0] - cpu0[0])) / s),
    backup_cpu_percent: round((100 * (cpu1[1] - cpu0[1])) / s),
    wire: { frames, records: recs, bytes_per_synced_conn: round(bytes / Math.max(1, recs), 2), records_per_message: round(recs / Math.max(1, frames), 1) },
  };
}

interface Spawned { child: ChildProcess; exited: Promise<number | null>; ready(marker: string): Promise<string>; lines(): string[] }

/** A helper with stdin open (its stop signal) in a namespace. */
function spawnIn(ns: string, argv: string[]): Spawned {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((res) => child.once('exit', res));
  return {
    child, exited, lines: () => out.split('\n'),
    ready: (marker) => new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${argv[1]} not ready: ${out} ${err}`)), 60_000);
      const check = (): void => { if (out.includes(marker)) { clearTimeout(timer); res(out); } };
      child.stdout!.on('data', check);
      void exited.then((code) => { clearTimeout(timer); rej(new Error(`${argv[1]} exited ${code}: ${err}`)); });
      check();
    }),
  };
}

/** The poller's first reading (sync_applied before the connections). */
async function firstLine(p: Spawned): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const l = p.lines().find((x) => /^\d+ \d+$/.test(x));
    if (l) return Number(l.split(' ')[1]);
    await sleep(20);
  }
  throw new Error('the poller read no stats from dir2');
}

async function main(): Promise<void> {
  const o = new Command('bench-sync-lab').option('--conns <n>', '', '300').option('--every <ms>', '', '10')
    .option('--rate <pps>', '', '10000').option('--seconds <s>', '', '8').option('--prefix <p>', '', 'syb-')
    .parse(process.argv).opts<{ conns: string; every: string; rate: string; seconds: string; prefix: string }>();
  const lab = await createLab({ prefix: o.prefix });
  const procs: Proc[] = [];
  try {
    const start = async (ns: string, yaml: string): Promise<Proc> => {
      const p = startIn(ns, [process.execPath, ULVS, 'run', '-c', script('ulvs.yaml', yaml)]);
      procs.push(p);
      await waitFor(p, 'director running', 60_000);
      return p;
    };
    const dir1 = await start(lab.nodes.dir1.name, directorYaml('MASTER', 150));
    const dir2 = await start(lab.nodes.dir2.name, directorYaml('BACKUP', 100));
    for (let i = 0; i < 200 && !/VI_1: \w+ -> MASTER/.test(dir1.output()); i++) await sleep(100);
    if (!/VI_1: \w+ -> MASTER/.test(dir1.output())) throw new Error(`dir1 never became MASTER:\n${dir1.output()}`);
    const lat = await latency(lab, Number(o.conns), Number(o.every));
    const load = await rate(lab, dir1, dir2, Number(o.rate), Number(o.seconds));
    process.stdout.write(JSON.stringify({
      note: 'shared 2-core machine under load from other engineers: absolute figures are pessimistic',
      loadavg_1m: Number((await import('node:os')).loadavg()[0].toFixed(1)),
      latency: lat, at_rate: load,
    }, null, 2) + '\n');
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await destroyLab({ prefix: o.prefix });
  }
}

main().catch((err: Error) => { process.stderr.write(`Error: ${err.message}\n`); process.exitCode = 1; });
