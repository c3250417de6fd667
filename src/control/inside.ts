/**
 * dataplane.inside omitted or `auto`: the interface toward the NAT real servers is the one the
 * kernel routes them through (`ip -j route get`). Pure decision here, thin shell below.
 */
import type { UlvsConfig } from '../config/index.js';
import { run } from '../os/run.js';

/** One real server and the interface the kernel's route to it leaves by ('lo' for local ones). */
export interface RouteTo { ip: string; dev: string }

export type InsideChoice = { ok: true; dev: string | null; why: string } | { ok: false; error: string };

/** True when the config leaves the inside interface to the routes. */
export function insideIsAuto(inside: string | undefined): boolean {
  return inside === undefined || inside === 'auto';
}

/** The addresses NAT sends to: real servers and sorry servers of the NAT services. */
export function natNextHops(config: Pick<UlvsConfig, 'virtual_servers'>): string[] {
  const ips = config.virtual_servers.filter((vs) => vs.lb_kind === 'NAT')
    .flatMap((vs) => [...vs.real_servers.map((rs) => rs.ip), ...(vs.sorry_server ? [vs.sorry_server.ip] : [])]);
  return [...new Set(ips)];
}

function list(routes: RouteTo[]): string {
  return routes.map((r) => `${r.ip} via ${r.dev}`).join(', ');
}

/**
 * One interface for all of them, and not the outside one (NAT replies must come back through
 * the director on a second interface). Servers the director delivers to itself (route via lo:
 * IPVS's Local forwarding) need no inside interface.
 */
export function chooseInside(outside: string, routes: RouteTo[]): InsideChoice {
  const remote = routes.filter((r) => r.dev !== 'lo');
  if (remote.length === 0) return { ok: true, dev: null, why: 'no NAT real server outside this host' };
  const devs = [...new Set(remote.map((r) => r.dev))];
  if (devs.length > 1) {
    return { ok: false, error: `dataplane.inside: the NAT real servers lie behind different interfaces (${list(remote)}); ulvs takes one inside interface: set dataplane.inside, or route them through one` };
  }
  if (devs[0] === outside) {
    return { ok: false, error: `dataplane.inside: the NAT real servers are behind the outside interface ${outside} (${list(remote)}); NAT needs them behind a second interface: set dataplane.inside, or use lb_kind: DR` };
  }
  return { ok: true, dev: devs[0], why: `the kernel routes the NAT real servers through it (${remote.map((r) => r.ip).join(', ')})` };
}

/** Asks the kernel for the route to each NAT next hop and decides; throws the one-line error. */
export async function resolveInside(config: UlvsConfig): Promise<{ dev: string | null; why: string }> {
  const dp = config.dataplane;
  if (!insideIsAuto(dp.inside)) return { dev: dp.inside!, why: 'dataplane.inside' };
  const ips = natNextHops(config);
  if (ips.length === 0) return { dev: null, why: 'no NAT service' };
  const routes = await Promise.all(ips.map(async (ip): Promise<RouteTo> => {
    let parsed: { dev?: string }[] = [];
    try { parsed = JSON.parse(await run('ip', ['-j', 'route', 'get', ip])) as { dev?: string }[]; } catch { /* no route */ }
    const dev = parsed[0]?.dev;
    if (!dev) throw new Error(`dataplane.inside: no route to the NAT real server ${ip}: add one, or set dataplane.inside`);
    return { ip, dev };
  }));
  const choice = chooseInside(dp.interface, routes);
  if (!choice.ok) throw new Error(choice.error);
  return { dev: choice.dev, why: choice.why };
}
