// Test support: raw TCP segments from the lab client to the VIP (fixtures/send-tcp.py).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labExec, type LabTopology } from '../../src/lab/index.js';

const SENDER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/send-tcp.py');

function head(lab: LabTopology, port: number): string[] {
  return ['python3', SENDER, 'eth0', lab.nodes.dir1.mac, lab.nodes.client.mac, lab.vip, String(port)];
}

/** Segments from srcIp:srcPort with the given flags in order ('S', 'FA', 'A', 'R', ...). */
export async function sendSegments(lab: LabTopology, srcIp: string, srcPort: number, flags: string[], port = 80): Promise<void> {
  const r = await labExec(lab.nodes.client.name, [...head(lab, port), 'segments', srcIp, String(srcPort), ...flags]);
  if (r.code !== 0 || Number(r.stdout.trim()) !== flags.length) throw new Error(`send-tcp.py failed (${r.code}): ${r.stderr}`);
}

/** count SYNs from random sources (198.19.0.0/16, random ports) at up to pps a second (0: as fast as it can); how many were sent. */
export async function synFlood(lab: LabTopology, count: number, seed: number, pps = 0, port = 80): Promise<number> {
  const r = await labExec(lab.nodes.client.name, [...head(lab, port), 'flood', String(count), String(seed), String(pps)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`send-tcp.py flood failed (${r.code}): ${r.stderr}`);
  return Number(r.stdout.trim());
}
