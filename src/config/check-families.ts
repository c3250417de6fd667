/**
 * Address families, as keepalived rules them: a virtual server is one family (its VIP or its
 * group's, its real and sorry servers'), a vrrp_instance is one family (its first
 * virtual_ipaddress decides; virtual_ipaddress_excluded may hold either, as in keepalived), and
 * a checker reaching a link-local IPv6 address needs bind_if (keepalived's check_conn_opts).
 * These stay errors whatever ulvs forwards; IPv6 itself is refused by the schema (IPV6_REFUSED).
 */
import { CHECKER_KINDS } from './raw-schema.js';
import { has, list, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';
import { familyOf, isLinkLocal, type Family } from './ipv6.js';

const NAME: Record<Family, string> = { 4: 'IPv4', 6: 'IPv6' };

/** Text of an address entry: `a/nn` or `{ address: a/nn }`. */
function addressText(v: unknown): string | undefined {
  return str(v) ?? str(obj(v)?.address);
}

function memberFamily(member: unknown): Family | null {
  const text = str(member)?.trim().split(/\s+/)[0];
  if (text === undefined) return null;
  // ae00::2-9 / 198.18.0.1-10: the family of the first address.
  return familyOf(text.split('-')[0]);
}

export function checkFamilies(cfg: Obj, r: Findings): void {
  const groupFamilies = new Map<string, Family>();
  list(cfg.virtual_server_groups).forEach((raw, gi) => {
    const g = obj(raw);
    const name = str(g?.name);
    let family: Family | null = null;
    list(g?.members).forEach((m, mi) => {
      const f = memberFamily(m);
      if (f === null) return;
      if (family === null) { family = f; return; }
      if (f !== family) {
        r.error(['virtual_server_groups', gi, 'members', mi], `${NAME[f]} member in a group whose first member is ${NAME[family]}`,
          'a virtual_server_group is one address family (keepalived allows two only when every real server tunnels; ulvs does not)');
      }
    });
    if (name !== undefined && family !== null && !groupFamilies.has(name)) groupFamilies.set(name, family);
  });

  list(cfg.virtual_servers).forEach((raw, vi) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', vi];
    const vip = str(vs.vip);
    const family = vip !== undefined ? familyOf(vip) : groupFamilies.get(str(vs.group) ?? '') ?? null;
    const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
    const what = vip !== undefined ? `VIP ${vip}` : `group ${str(vs.group)}`;
    // IPVS tunnels either family inside the other (kernel 3.18+), so TUN may mix.
    const mustMatch = (path: Path, text: string | undefined, role: string): void => {
      const f = text === undefined ? null : familyOf(text);
      if (family === null || f === null || f === family || kind === 'TUN') return;
      r.error(path, `${role} ${text} is ${NAME[f]} but the virtual server's ${what} is ${NAME[family]}`,
        'a virtual server is one address family, as in keepalived (only TUN may tunnel one family in the other)');
    };
    mustMatch([...base, 'sorry_server', 'ip'], str(obj(vs.sorry_server)?.ip), 'sorry server');
    list(vs.real_servers).forEach((rsRaw, ri) => {
      const rs = obj(rsRaw);
      if (!rs) return;
      const rsBase: Path = [...base, 'real_servers', ri];
      const rsIp = str(rs.ip);
      mustMatch([...rsBase, 'ip'], rsIp, 'real server');
      for (const kindName of CHECKER_KINDS) checkChecker(obj(rs[kindName]), [...rsBase, kindName], rsIp, r);
    });
  });

  list(cfg.vrrp_instances).forEach((raw, ii) => checkInstance(obj(raw), ['vrrp_instances', ii], r));
}

/** connect_ip/bindto in the destination's family; a link-local destination needs bind_if. */
function checkChecker(c: Obj | undefined, base: Path, rsIp: string | undefined, r: Findings): void {
  if (!c) return;
  const target = str(c.connect_ip) ?? rsIp;
  const targetFamily = target === undefined ? null : familyOf(target);
  const bindto = str(c.bindto);
  const bindFamily = bindto === undefined ? null : familyOf(bindto);
  if (targetFamily !== null && bindFamily !== null && bindFamily !== targetFamily) {
    r.error([...base, 'bindto'], `bindto ${bindto} is ${NAME[bindFamily]} but the checker connects to ${NAME[targetFamily]} ${target}`);
  }
  if (target !== undefined && isLinkLocal(target) && !has(c, 'bind_if')) {
    r.error([...base, ...(has(c, 'connect_ip') ? ['connect_ip'] : [])], `checker link-local address ${target} requires a bind_if`,
      'a link-local address means something only on one interface (keepalived refuses it too)', !has(c, 'connect_ip'));
  }
}

function checkInstance(vi: Obj | undefined, base: Path, r: Findings): void {
  if (!vi) return;
  const vips = list(vi.virtual_ipaddress);
  const first = vips.map(addressText).find((t) => t !== undefined && familyOf(t) !== null);
  const peers = list(vi.unicast_peer).map(str);
  const family = first !== undefined ? familyOf(first) : peers.map((p) => (p === undefined ? null : familyOf(p))).find((f) => f !== null) ?? null;
  if (family === null) return;
  const decidedBy = first !== undefined ? `its first virtual_ipaddress ${first}` : 'its unicast peers';
  const mustMatch = (path: Path, text: string | undefined, role: string, hint?: string): void => {
    const f = text === undefined ? null : familyOf(text);
    if (f === null || f === family) return;
    r.error(path, `${NAME[f]} ${role} ${text} in an ${NAME[family]} vrrp_instance (${decidedBy})`,
      hint ?? 'a vrrp_instance is one address family, as in keepalived: use a second instance for the other family');
  };
  vips.forEach((v, i) => mustMatch([...base, 'virtual_ipaddress', i], addressText(v), 'VIP',
    'a vrrp_instance is one address family, as in keepalived: use a second instance, or virtual_ipaddress_excluded, for the other family'));
  peers.forEach((p, i) => mustMatch([...base, 'unicast_peer', i], p, 'unicast peer'));
  mustMatch([...base, 'unicast_src_ip'], str(vi.unicast_src_ip), 'unicast_src_ip');
  mustMatch([...base, 'mcast_src_ip'], str(vi.mcast_src_ip), 'mcast_src_ip');
  mustMatch([...base, 'mcast_dst_ip'], str(vi.mcast_dst_ip), 'mcast_dst_ip');
  if (family === 6 && vi.version === 2) {
    r.warn([...base, 'version'], 'an IPv6 vrrp_instance runs VRRP version 3 (RFC 5798: version 2 is IPv4 only), as keepalived does', 'write version: 3, or leave version out');
  }
}
