/**
 * keepalived's tunnel keys on a real server (keepalived.conf(5)): tun_type ipip|gue|gre,
 * tun_port (GUE's UDP port), tun_flags nocsum|csum|remcsum. What ulvs does with each:
 * - ipip (the default): IPIP, no port, no flags.
 * - gre: GRE (RFC 2784) carrying IPv4; tun_flags csum adds the GRE checksum, nocsum (the
 *   default) leaves it out. remcsum is GUE's option: refused.
 * - gue: UDP to tun_port with a GUE version 0 header; tun_flags nocsum (the default) sends UDP
 *   checksum 0, csum computes it, remcsum is taken as IPVS sends forwarded packets: no option,
 *   checksum 0 (src/packet/tunnels.ts tunnelKindOf says why).
 * Everything that would otherwise be ignored is refused here, at the key, with the reason.
 */
import { has, list, num, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';

export function checkTunnels(cfg: Obj, r: Findings): void {
  list(cfg.virtual_servers).forEach((raw, i) => {
    const vs = obj(raw);
    if (!vs) return;
    const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
    list(vs.real_servers).forEach((rawRs, j) => {
      const rs = obj(rawRs);
      if (!rs) return;
      checkRealServerTunnel(rs, ['virtual_servers', i, 'real_servers', j], kind, r);
    });
  });
}

function checkRealServerTunnel(rs: Obj, base: Path, kind: string, r: Findings): void {
  const keys = ['tun_type', 'tun_port', 'tun_flags'].filter((k) => has(rs, k));
  if (keys.length === 0) return;
  if (kind !== 'TUN') {
    for (const k of keys) r.error([...base, k], `${k} applies to lb_kind TUN, not ${kind}`, 'set lb_kind: TUN on the virtual server, or leave the tunnel keys out', true);
    return;
  }
  const type = str(rs.tun_type) ?? 'ipip';
  const ip = str(rs.ip) ?? '';
  if (type !== 'ipip' && ip.includes(':')) {
    r.error([...base, 'tun_type'], `tun_type ${type} with an IPv6 real server is not supported`, 'IPv6 real servers are reached with IPv6-in-IPv6: leave tun_type out', true);
  }
  const port = num(rs.tun_port);
  if (type === 'gue') {
    if (port === undefined || port === 0) {
      r.error(has(rs, 'tun_port') ? [...base, 'tun_port'] : [...base, 'tun_type'], 'tun_type gue needs tun_port',
        'the UDP port the real server\'s fou/GUE receiver listens on, e.g. tun_port: 6080', has(rs, 'tun_port'));
    }
  } else if (has(rs, 'tun_port')) {
    r.error([...base, 'tun_port'], `tun_port applies to tun_type gue, not ${type}`, 'leave tun_port out, or set tun_type: gue', true);
  }
  const flags = str(rs.tun_flags);
  if (flags === undefined) return;
  if (type === 'ipip') {
    r.error([...base, 'tun_flags'], 'tun_flags applies to tun_type gue or gre, not ipip', 'IPIP has no checksum of its own: leave tun_flags out', true);
  } else if (type === 'gre' && flags === 'remcsum') {
    r.error([...base, 'tun_flags'], 'tun_flags remcsum applies to tun_type gue, not gre', 'GRE takes nocsum or csum (the GRE checksum)', true);
  }
}
