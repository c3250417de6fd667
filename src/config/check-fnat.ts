/**
 * DPVS's Full NAT: a FNAT service names a local_address_groups entry that has addresses on one
 * of ulvs's interfaces; those addresses are ulvs's alone. Everything that would make Full NAT
 * quietly misbehave is refused here, at the key that causes it, with the reason.
 */
import { didYouMean } from './did-you-mean.js';
import { has, list, num, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';

export function checkFullNat(cfg: Obj, r: Findings): void {
  const dataplane = obj(cfg.dataplane);
  const outside = str(dataplane?.interface) ?? 'eth0';
  const inside = str(dataplane?.inside);
  const devices = inside !== undefined && inside !== 'auto' ? [outside, inside] : [outside];
  const groups = new Map<string, number>();
  const addressAt = new Map<string, Path>();
  list(cfg.local_address_groups).forEach((raw, gi) => {
    const g = obj(raw);
    if (!g) return;
    const base: Path = ['local_address_groups', gi];
    const name = str(g.name);
    if (name !== undefined) {
      if (groups.has(name)) r.error([...base, 'name'], `local address group "${name}" is defined twice`, `first at local_address_groups[${groups.get(name)}]`);
      else groups.set(name, gi);
    }
    const addresses = list(g.addresses);
    if (addresses.length === 0) {
      r.error(has(g, 'addresses') ? [...base, 'addresses'] : base, `local address group "${name ?? gi}" has no addresses`,
        'Full NAT needs at least one local address: { ip: A.B.C.D, dev: IFACE }', true);
    }
    const min = num(g.port_min) ?? 1024, max = num(g.port_max) ?? 65535;
    if (min > max) r.error([...base, 'port_min'], `port_min ${min} is above port_max ${max}`, undefined, true);
    addresses.forEach((rawA, ai) => {
      const a = obj(rawA);
      const ip = str(a?.ip);
      const dev = str(a?.dev);
      const aBase: Path = [...base, 'addresses', ai];
      if (ip !== undefined) {
        const first = addressAt.get(ip);
        // One pool per address: two groups (or two entries) sharing it would hand out one port twice.
        if (first !== undefined) r.error([...aBase, 'ip'], `local address ${ip} is listed twice`, 'an address belongs to one group: its port pool is that group\'s');
        else addressAt.set(ip, aBase);
      }
      if (dev !== undefined && !devices.includes(dev)) {
        r.error([...aBase, 'dev'], `local address ${ip ?? ''} is on ${dev}, not on the director's dataplane (${devices.join(', ')})`,
          inside === undefined || inside === 'auto'
            ? `replies to a local address must reach ulvs: use dev ${outside}, or name the interface in dataplane.inside`
            : `replies to a local address must reach ulvs: use dev ${devices.join(' or ')}`);
      }
    });
  });

  let fullNat = false;
  list(cfg.virtual_servers).forEach((raw, i) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', i];
    const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
    const kindKey = has(vs, 'lb_kind') ? 'lb_kind' : 'lvs_method';
    const group = str(vs.laddr_group_name);
    if (kind !== 'FNAT') {
      if (group !== undefined) r.error([...base, 'laddr_group_name'], `laddr_group_name applies to lb_kind FNAT, not ${kind}`, 'set lb_kind: FNAT, or leave laddr_group_name out', true);
      return;
    }
    fullNat = true;
    if (group === undefined) {
      r.error([...base, kindKey], 'lb_kind FNAT needs laddr_group_name', 'name a local_address_groups entry: its addresses are the source the real servers see');
    } else if (!groups.has(group)) {
      r.error([...base, 'laddr_group_name'], `laddr_group_name "${group}" names no local_address_groups entry`, didYouMean(group, [...groups.keys()]));
    }
    if (vs.ops === true) {
      r.error([...base, 'ops'], 'ops (one-packet scheduling) cannot be Full NAT', 'a reply finds its client through the connection ops does not keep', true);
    }
    if (num(vs.port) === 0) {
      r.error([...base, 'port'], 'lb_kind FNAT needs a port (not 0, every port)', 'replies are steered by the real server\'s port', true);
    }
    if (has(vs, 'group')) {
      r.error([...base, kindKey], 'lb_kind FNAT with a virtual_server_groups service is not supported', 'give each VIP:port its own FNAT virtual server');
    }
  });
  if (!fullNat) return;
  const queues = num(dataplane?.queues) ?? 1;
  if (queues > 1) {
    // Each queue's worker has its own table and pools; a reply's RSS hash is not its request's,
    // so it would land on a worker that does not know the connection (DPVS steers by port with fdir).
    r.error(['dataplane', 'queues'], `lb_kind FNAT needs dataplane.queues 1, not ${queues}`,
      'the real server\'s reply to a local port can arrive on another queue than its connection', true);
  }
  const sync = obj(cfg.global_defs)?.lvs_sync_daemon;
  if (sync !== undefined) {
    r.error(['global_defs', 'lvs_sync_daemon'], 'connection sync cannot carry Full NAT connections',
      'the IPVS sync v1 record has no local address or port, so a backup could not take them over: leave lvs_sync_daemon out, or use NAT/DR/TUN', true);
  }
}
