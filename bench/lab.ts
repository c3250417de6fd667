// The bench's lab: the project's namespace topology under the bench's own prefix, plus the
// traffic runs (C sender -> director -> C sinks at the real servers) the figures are made of.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, destroyLab, labNamespaceNames, labNodes, namespaceExists, LAB_IPV6, LAB_VIP, type LabNodes } from '../src/lab/index.js';
import { addedCpuPerPacketUs } from './report.js';
import { machineBusySeconds, processTreeCpuSeconds, runIn, sleep, startIn, TOOLS, ULVS, waitFor, type Proc } from './sys.js';

export const BENCH_PREFIX = 'bench-';
export const UDP_PORT = 9000;
export const ECHO_PORT = 7007;
export const HTTP_PORT = 8080;
export const VIP = LAB_VIP;
/** Source addresses for runs with more flows than one address has ports (see sender.c). */
export const MANY_FLOWS_SOURCE = '198.18.128.1';

export interface BenchLab { prefix: string; nat: boolean; nodes: LabNodes }

export async function setUpLab(prefix: string, nat: boolean): Promise<BenchLab> {
  // No HTTP servers: the bench brings its own (sinks, echo, nginx) and wants quiet real servers.
  await createLab({ prefix, nat, servers: false });
  return { prefix, nat, nodes: labNodes(prefix, { nat }) };
}

export async function tearDownLab(prefix: string): Promise<void> {
  await destroyLab({ prefix });
}

/** Namespaces of this prefix that still exist (a clean teardown leaves none). */
export function leftoverNamespaces(prefix: string): string[] {
  return labNamespaceNames(prefix).filter((ns) => namespaceExists(ns));
}

export interface TrafficOptions {
  dstMacs: string[];
  flows: number;
  /** Packets per second; 0 = as fast as the sender can. */
  rate: number;
  seconds: number;
  srcIp?: string;
  firstFlow?: number;
  /** A process whose CPU is measured over the run (the director). */
  watchPid?: number;
  /** 6: IPv6/UDP from the client's IPv6 address to the lab's IPv6 VIP (sinks count IPv6). */
  family?: 4 | 6;
  /** The UDP destination port sent to and counted (default UDP_PORT). */
  port?: number;
}

export interface TrafficResult {
  sent: number;
  delivered: number;
  seconds: number;
  /** delivered / seconds the sender ran. */
  pps: number;
  /** Whole machine busy CPU seconds over the sender's run. */
  busySeconds: number;
  /** The watched process tree's CPU seconds over the run (threads and children included). */
  processSeconds: number;
}

/** The watched forwarder's own CPU (its process tree) per delivered packet, in µs. */
export function processCpuPerPacketUs(run: TrafficResult): number {
  return addedCpuPerPacketUs(run.processSeconds, 0, run.delivered);
}

/** Sinks on rs1..rs3, the sender in the client; counts what the real servers received. */
export async function traffic(lab: BenchLab, o: TrafficOptions): Promise<TrafficResult> {
  const { nodes } = lab;
  const port = String(o.port ?? UDP_PORT);
  const sinks: Proc[] = ['rs1', 'rs2', 'rs3'].map((rs) =>
    startIn(nodes[rs as 'rs1'].name, [join(TOOLS, 'sink'), '--if', 'eth0', '--port', port, '--seconds', String(o.seconds + 2),
      ...(o.family === 6 ? ['--ipv6'] : [])]));
  const addresses = o.family === 6
    ? ['--src-ip6', o.srcIp ?? nodes.client.ip6, '--dst-ip6', LAB_IPV6.vip]
    : ['--src-ip', o.srcIp ?? nodes.client.ip, '--dst-ip', VIP];
  try {
    await Promise.all(sinks.map((s) => waitFor(s, 'sink ready', 10_000)));
    const busy0 = machineBusySeconds();
    const proc0 = o.watchPid ? processTreeCpuSeconds(o.watchPid) : 0;
    const out = await runIn(nodes.client.name, [join(TOOLS, 'sender'), '--if', 'eth0', '--src-mac', nodes.client.mac,
      '--dst-mac', o.dstMacs.join(','), ...addresses, '--dst-port', port,
      '--flows', String(o.flows), '--first-flow', String(o.firstFlow ?? 0), '--rate', String(o.rate), '--seconds', String(o.seconds)],
    (o.seconds + 30) * 1000);
    const busy1 = machineBusySeconds();
    const proc1 = o.watchPid ? processTreeCpuSeconds(o.watchPid) : 0;
    const sent = JSON.parse(out) as { sent: number; seconds: number };
    const counts = await Promise.all(sinks.map(async (s) => {
      const code = await s.exited;
      if (code !== 0) throw new Error(`sink exited ${code}: ${s.output()}`);
      return (JSON.parse(s.stdout()) as { received: number }).received;
    }));
    const delivered = counts.reduce((a, b) => a + b, 0);
    return { sent: sent.sent, delivered, seconds: sent.seconds, pps: delivered / sent.seconds,
      busySeconds: busy1 - busy0, processSeconds: proc1 - proc0 };
  } finally {
    await Promise.all(sinks.map((s) => s.stop()));
  }
}

export interface DirectorOptions {
  io: 'afxdp' | 'tap';
  connTableSize?: number;
  /** Also the TCP service for HTTP (DR) and the UDP echo service. */
  extraServices?: boolean;
  /** dataplane.queues (default: left out, one worker per RX queue). */
  queues?: number;
}

/** The YAML for a bench director: UDP VIP:9000 over rs1..rs3 (DR, or NAT in a NAT lab). */
export function directorConfig(lab: BenchLab, o: DirectorOptions): string {
  const rs = (['rs1', 'rs2', 'rs3'] as const).map((n) => lab.nodes[n].ip);
  const service = (port: number, protocol: 'UDP' | 'TCP'): string => [
    `  - vip: ${VIP}`, `    port: ${port}`, `    protocol: ${protocol}`, '    lb_algo: rr', `    lb_kind: ${lab.nat ? 'NAT' : 'DR'}`,
    '    real_servers:', ...rs.map((ip) => `      - { ip: ${ip}, port: ${port} }`)].join('\n');
  return [
    'global_defs: { router_id: bench-dir1 }',
    `dataplane: { interface: eth0${lab.nat ? ', inside: eth1' : ''}, io: ${o.io}${o.queues ? `, queues: ${o.queues}` : ''}, conn_table_size: ${o.connTableSize ?? 1048576} }`,
    'static_ipaddress:',
    `  - { address: ${VIP}/32, dev: eth0 }`,
    ...(lab.nat ? ['  - { address: 198.18.1.254/24, dev: eth1 }'] : []),
    'virtual_servers:',
    service(UDP_PORT, 'UDP'),
    ...(o.extraServices ? [service(HTTP_PORT, 'TCP'), service(ECHO_PORT, 'UDP')] : []),
  ].join('\n') + '\n';
}

export function startDirector(lab: BenchLab, o: DirectorOptions): Promise<Proc> {
  return startDirectorFromYaml(lab, directorConfig(lab, o));
}

/**
 * A director on lab-dir1 from YAML text; resolves once it says it runs. The YAML is read at
 * start (no bench reloads), so its directory goes once the director runs or has failed.
 */
export async function startDirectorFromYaml(lab: BenchLab, yaml: string, timeoutMs = 30_000): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-bench-'));
  const file = join(dir, 'director.yaml');
  writeFileSync(file, yaml);
  const proc = startIn(lab.nodes.dir1.name, [process.execPath, ULVS, 'run', '-c', file]);
  try {
    await waitFor(proc, 'director running', timeoutMs);
  } catch (error) {
    await proc.stop();
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return proc;
}

/** The C reference forwarder on lab-dir1 for VIP:UDP_PORT (DR: `alsoPorts` steered too). */
export async function startReference(lab: BenchLab, xdpObject: string, alsoPorts: readonly number[] = []): Promise<Proc> {
  const n = lab.nodes;
  if (lab.nat && alsoPorts.length > 0) throw new Error('the reference forwarder takes one port in NAT');
  const rsArgs = (['rs1', 'rs2', 'rs3'] as const).flatMap((r) =>
    ['--rs', `${n[r].ip}${lab.nat ? `:${UDP_PORT}` : ''}@${n[r].mac}`]);
  const portArgs = [UDP_PORT, ...alsoPorts].flatMap((p) => ['--port', String(p)]);
  const proc = startIn(n.dir1.name, [join(TOOLS, 'ref_forwarder'), '--obj', xdpObject, '--mode', lab.nat ? 'nat' : 'dr',
    '--if', 'eth0', ...(lab.nat ? ['--inside', 'eth1'] : []), '--vip', VIP, ...portArgs, ...rsArgs]);
  try {
    await waitFor(proc, 'forwarder running', 15_000);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  // The socket is bound once it says so; give the first frames a moment to find it in the map.
  await sleep(200);
  return proc;
}

/** nftables DNAT on dir1: the kernel's own forwarding with conntrack, what a user has without IPVS. */
export async function startKernelNat(lab: BenchLab): Promise<() => Promise<void>> {
  const rs = (['rs1', 'rs2', 'rs3'] as const).map((r, i) => `${i} : ${lab.nodes[r].ip}`).join(', ');
  const ruleset = [
    'table ip ulvs_bench {',
    '  chain pre { type nat hook prerouting priority -100; policy accept;',
    `    ip daddr ${VIP} udp dport ${UDP_PORT} dnat to numgen inc mod 3 map { ${rs} }`,
    '  }',
    '}',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-bench-nft-'));
  writeFileSync(join(dir, 'rules.nft'), ruleset + '\n');
  await runIn(lab.nodes.dir1.name, ['nft', '-f', join(dir, 'rules.nft')]);
  return async () => { await runIn(lab.nodes.dir1.name, ['nft', 'delete', 'table', 'ip', 'ulvs_bench']).catch(() => ''); };
}
