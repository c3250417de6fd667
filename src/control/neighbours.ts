import dgram from 'node:dgram';
import { run } from '../os/run.js';

/** Where a packet to `ip` leaves this host: interface, next hop, and the next hop's MAC. */
export interface NextHop { dev: string; via: string; mac: string | null; src: string | null }

interface RouteJson { dev: string; gateway?: string; prefsrc?: string }
interface NeighJson { dst: string; lladdr?: string; state?: string[] }

/** Asks the kernel's routing and neighbour tables; resolves a missing neighbour by provoking ARP. */
export async function resolveNextHop(ip: string, timeoutMs = 2000): Promise<NextHop> {
  const routes = JSON.parse(await run('ip', ['-j', 'route', 'get', ip])) as RouteJson[];
  const route = routes[0];
  if (!route) throw new Error(`no route to ${ip}`);
  const via = route.gateway ?? ip;
  const hop: NextHop = { dev: route.dev, via, mac: null, src: route.prefsrc ?? null };
  const deadline = Date.now() + timeoutMs;
  let provoked = false;
  while (Date.now() < deadline) {
    hop.mac = await lookupNeighbour(via, route.dev);
    if (hop.mac) return hop;
    if (!provoked) { await provokeArp(via); provoked = true; }
    await new Promise((r) => setTimeout(r, 50));
  }
  return hop;
}

async function lookupNeighbour(ip: string, dev: string): Promise<string | null> {
  const entries = JSON.parse(await run('ip', ['-j', 'neigh', 'show', 'to', ip, 'dev', dev])) as NeighJson[];
  const entry = entries.find((e) => e.lladdr && !(e.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE'));
  return entry?.lladdr ?? null;
}

/** A datagram to the discard port makes the kernel resolve the neighbour (no raw socket needed). */
function provokeArp(ip: string): Promise<void> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => { sock.close(); resolve(); });
    sock.send(Buffer.alloc(0), 9, ip, () => { sock.close(); resolve(); });
  });
}
