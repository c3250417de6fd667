import dgram from 'node:dgram';
import type pino from 'pino';
import type { UlvsConfig } from '../config/index.js';
import { run } from '../os/run.js';
import { Slots } from '../os/slots.js';
import { readFileSync } from 'node:fs';
import { ipToNumber } from '../packet/addr.js';
import { DEFAULT_MTU } from '../packet/rewrite.js';

/** Where a packet to `ip` leaves this host: interface, next hop, and the next hop's MAC. */
export interface NextHop {
  dev: string; via: string; mac: string | null; src: string | null;
  /** The kernel routes `ip` to itself (127/8, one of its own addresses): IPVS's Local forwarding. */
  local?: boolean;
}

/**
 * How many `ip` look-ups run at once. With 300 services a refresh or a round of checks gone
 * down asked for 300 at once: each exec forks the director on its main thread (where VRRP,
 * reloads and the control socket run), and a reload queued behind them was not applied for
 * tens of seconds. Look-ups of one address are also shared (NextHopCache).
 */
export const MAX_CONCURRENT_LOOKUPS = 8;

/** Every `ip` the neighbour code runs takes one of these (exported for the tests' counts). */
export const lookupSlots = new Slots(MAX_CONCURRENT_LOOKUPS);

function lookup(args: readonly string[]): Promise<string> {
  return lookupSlots.run(() => run('ip', args));
}

interface RouteJson { type?: string; dev: string; gateway?: string; prefsrc?: string }
interface NeighJson { dst: string; lladdr?: string; state?: string[] }

/**
 * Asks the kernel's routing and neighbour tables; resolves a missing neighbour by provoking ARP
 * (IPv4) or neighbour discovery (IPv6: the same `ip route get` / `ip neigh` answer both families).
 */
export async function resolveNextHop(address: string, timeoutMs = 2000): Promise<NextHop> {
  const routes = JSON.parse(await lookup(['-j', 'route', 'get', address])) as RouteJson[];
  const route = routes[0];
  if (!route) throw new Error(`no route to ${address}`);
  const via = route.gateway ?? address;
  const hop: NextHop = { dev: route.dev, via, mac: null, src: route.prefsrc ?? null };
  if (route.type === 'local') return { ...hop, local: true };
  // Monotonic: a wall clock set back an hour must not keep this loop going for an hour.
  const deadline = performance.now() + timeoutMs;
  let provoked = false;
  while (performance.now() < deadline) {
    hop.mac = await lookupNeighbour(via, route.dev);
    if (hop.mac) return hop;
    if (!provoked) { await provokeArp(via); provoked = true; }
    await new Promise((r) => setTimeout(r, 50));
  }
  return hop;
}

async function lookupNeighbour(address: string, dev: string): Promise<string | null> {
  const entries = JSON.parse(await lookup(['-j', 'neigh', 'show', 'to', address, 'dev', dev])) as NeighJson[];
  const entry = entries.find((e) => e.lladdr && !(e.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE'));
  return entry?.lladdr ?? null;
}

/**
 * A datagram to the discard port makes the kernel resolve the neighbour (ARP, or an NDP
 * neighbour solicitation for IPv6), no raw socket needed.
 */
function provokeArp(ip: string): Promise<void> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    sock.on('error', () => { sock.close(); resolve(); });
    sock.send(Buffer.alloc(0), 9, ip, () => { sock.close(); resolve(); });
  });
}

/** The addresses the dataplane sends to: every real server and sorry server of the config. */
export function nextHopAddresses(config: UlvsConfig): Set<string> {
  return new Set(config.virtual_servers.flatMap((vs) => [
    ...vs.real_servers.map((rs) => rs.ip), ...(vs.sorry_server ? [vs.sorry_server.ip] : []),
  ]));
}

/**
 * Real servers' next-hop MACs as the kernel knows them. A lookup that fails after a MAC was
 * known keeps the old one: a neighbour-table blip must not drop a server's traffic.
 */
export class NextHopCache {
  private readonly macs = new Map<string, string | null>();
  /** Addresses the kernel routes to this host itself (Local forwarding, no next hop). */
  private readonly locals = new Set<string>();
  /** Look-ups in flight by address, shared by whoever asks meanwhile. */
  private readonly resolving = new Map<string, Promise<boolean>>();
  private readonly revalidating = new Map<string, Promise<boolean>>();

  constructor(private readonly log: pino.Logger) {}

  /** Addresses never looked up (a reload's new real servers): the timer refreshes the others. */
  unseen(ips: Iterable<string>): string[] {
    return [...ips].filter((ip) => !this.macs.has(ip) && !this.locals.has(ip));
  }

  /** The last known MAC of `ip`'s next hop; null while unresolved. */
  macOf(ip: string): string | null {
    return this.macs.get(ip) ?? null;
  }

  /** `ip` is this director itself, as the kernel's routes said at the last refresh. */
  isLocal(ip: string): boolean {
    return this.locals.has(ip);
  }

  /**
   * Asks the kernel to resolve `ip` afresh (its neighbour entry deleted, then ARP provoked):
   * a real server replaced by a box with a new MAC and no gratuitous ARP stays REACHABLE at the
   * old MAC for up to 1.5 x base_reachable_time (45 s) otherwise. Called when a health check
   * says the server went down. A failed resolution keeps the last known MAC; true on a change.
   * One revalidation per address at a time: 300 services of one server going down together
   * share it.
   */
  revalidate(ip: string, timeoutMs: number): Promise<boolean> {
    if (this.locals.has(ip)) return Promise.resolve(false);
    return shared(this.revalidating, ip, async () => {
      try {
        const routes = JSON.parse(await lookup(['-j', 'route', 'get', ip])) as RouteJson[];
        const dev = routes[0]?.dev;
        if (dev) await lookup(['neigh', 'del', routes[0].gateway ?? ip, 'dev', dev]).catch(() => undefined);
      } catch (err) {
        this.log.warn({ ip, err: (err as Error).message }, 'cannot route to real server');
        return false;
      }
      // Not shared with a refresh in flight: that one may have read the entry just deleted.
      return this.resolveOne(ip, timeoutMs);
    });
  }

  /**
   * Resolves every address (missing neighbours too); true when a MAC changed. An address whose
   * look-up is already under way (the 5 s timer's, a reload's) waits for that one instead.
   */
  async refresh(ips: Iterable<string>, timeoutMs: number): Promise<boolean> {
    const changes = await Promise.all([...ips].map((ip) => shared(this.resolving, ip, () => this.resolveOne(ip, timeoutMs))));
    return changes.includes(true);
  }

  private async resolveOne(ip: string, timeoutMs: number): Promise<boolean> {
    let changed = false;
    let mac: string | null = null;
    try {
      const hop = await resolveNextHop(ip, timeoutMs);
      if (hop.local) {
        if (!this.locals.has(ip)) { changed = true; this.log.info({ ip }, `real server ${ip} is this director (Local forwarding)`); }
        this.locals.add(ip);
        return changed;
      }
      if (this.locals.delete(ip)) changed = true;
      mac = hop.mac;
    } catch (err) {
      this.log.warn({ ip, err: (err as Error).message }, 'cannot route to real server');
    }
    if (mac === null && this.macs.get(ip)) return changed; // keep the last known MAC over a blip
    if (this.macs.get(ip) !== mac) {
      changed = true;
      if (mac) this.log.info({ ip, mac }, 'real server next hop resolved');
      else this.log.warn({ ip }, 'real server next hop not resolved yet: its packets are dropped');
    }
    this.macs.set(ip, mac);
    return changed;
  }
}

/** The promise in flight for `key`, or a new one from `start`, forgotten once it settles. */
function shared(inFlight: Map<string, Promise<boolean>>, key: string, start: () => Promise<boolean>): Promise<boolean> {
  const running = inFlight.get(key);
  if (running) return running;
  const started = start().finally(() => inFlight.delete(key));
  inFlight.set(key, started);
  return started;
}

/**
 * The interface's own global IPv6 address (null = none): the IPv6-in-IPv6 outer source. IPv6
 * has no primary address and lists the newest first, so a /128 (how VIPs are held) is taken
 * only when there is nothing else.
 */
export async function primaryAddress6(ifname: string): Promise<string | null> {
  const info = JSON.parse(await run('ip', ['-j', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'global'])) as
    { addr_info?: { local: string; prefixlen: number }[] }[];
  const all = info[0]?.addr_info ?? [];
  return (all.find((a) => a.prefixlen < 128) ?? all[0])?.local ?? null;
}

/** The primary IPv4 address of an interface as a number (0 = none): the IPIP outer source. */
export async function primaryAddress(ifname: string): Promise<number> {
  const info = JSON.parse(await run('ip', ['-j', '-4', 'addr', 'show', 'dev', ifname])) as { addr_info?: { local: string; secondary?: boolean }[] }[];
  const primary = info[0]?.addr_info?.find((a) => !a.secondary);
  return primary ? ipToNumber(primary.local) : 0;
}

/** The interface's MTU from sysfs (TUN packets above it are refused); 1500 if it cannot be read. */
export function interfaceMtu(ifname: string): number {
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, 'utf8').trim());
    return Number.isInteger(mtu) && mtu >= 576 ? mtu : DEFAULT_MTU;
  } catch {
    return DEFAULT_MTU;
  }
}
