/**
 * Local real servers (IPVS's Local forwarding): a real or sorry server at 127/8 or at a VIP of
 * this config is the director itself, and ulvs gives its own stack the packets unchanged, to
 * VIP:port. A local server on another port than the VIP's would need the port rewritten both
 * ways, which the kernel's reply (sent on its own, not through ulvs) never gets: refused at
 * load instead of taking no connections at run time. The director's other own addresses are
 * known only where it runs; those it logs (src/control/director.ts).
 */
import { list, num, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';

export function checkLocalServers(cfg: Obj, r: Findings): void {
  const services = list(cfg.virtual_servers).map(obj);
  const vips = new Set(services.map((vs) => str(vs?.vip)).filter((v): v is string => v !== undefined));
  services.forEach((vs, i) => {
    const vport = num(vs?.port);
    const vip = str(vs?.vip);
    if (!vs || vip === undefined || vport === undefined || vport === 0) return;
    const check = (server: Obj | undefined, path: Path, what: string) => {
      const ip = str(server?.ip);
      const port = num(server?.port);
      if (ip === undefined || port === undefined || port === 0 || port === vport) return;
      if (!ip.startsWith('127.') && !vips.has(ip)) return;
      r.error([...path, 'port'], `${what} ${ip}:${port} is this director, on another port than the VIP's ${vport}: ulvs hands such packets to its own stack unchanged, to ${vip}:${vport}, and cannot rewrite the port`,
        `let the local server listen on ${vport} and write port: ${vport}`);
    };
    list(vs.real_servers).forEach((rs, j) => check(obj(rs), ['virtual_servers', i, 'real_servers', j], 'real server'));
    check(obj(vs.sorry_server), ['virtual_servers', i, 'sorry_server'], 'sorry server');
  });
}
