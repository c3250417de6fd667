/**
 * keepalived's LVS side, keyword by keyword: virtual_server, real_server (its checkers are in
 * checker-keywords.ts) and virtual_server_group. Each table says what
 * becomes of every keyword of its block; the top-level blocks are added to the translation's
 * sections by the functions at the end. A `fwmark N` becomes the VIP:ports of the iptables
 * MARK rule that set N (iptables-marks.ts).
 */
import { YAMLSeq } from 'yaml';
import { closestMatch } from '../config/did-you-mean.js';
import { LB_ALGOS, parseGroupMember } from '../config/raw-schema.js';
import type { Statement } from './keepalived-tree.js';
import {
  command, flag, int, keywordTable, no, refused, text, timer, translated, type Context, type Rules, type Translator,
} from './translator.js';
import { checkerRules } from './checker-keywords.js';
import { fwmarkWhy, WHY } from './unsupported-keywords.js';
import type { OutMap, OutSeq } from './yaml-out.js';

const DEFAULT_PERSISTENCE_TIMEOUT = 360;

// ---- virtual_server --------------------------------------------------------------------------

const inheritedKeys: Rules = {
  connect_timeout: timer(),
  retry: int(undefined, 0),
  nb_get_retry: int(undefined, 0),
  delay_before_retry: timer(),
  warmup: timer(),
  delay_loop: timer(),
  alpha: flag(),
  inhibit_on_failure: flag(),
  virtualhost: text(),
  smtp_alert: flag(),
  snmp_name: no(WHY.snmp),
};

/** A real server's `lvs_method TUN type ipip|gre|gue [port N] [nocsum|csum|remcsum]` (keepalived.conf(5)). */
interface TunnelOptions { type: string; port?: number; flags?: string }

function tunnelOptions(st: Statement, t: Translator): TunnelOptions | undefined {
  const words = st.args.slice(1).map((x) => x.text.toLowerCase());
  if (words[0] !== 'type' || !['ipip', 'gre', 'gue'].includes(words[1] ?? '')) return undefined;
  const options: TunnelOptions = { type: words[1] };
  let i = 2;
  if (words[i] === 'port') {
    const port = t.number(st, i + 2, { int: true, min: 1, max: 65535 }); // args[0] is the kind
    if (port === undefined) return undefined;
    options.port = port;
    i += 2;
  }
  if (['nocsum', 'csum', 'remcsum'].includes(words[i] ?? '')) options.flags = words[i++];
  return i === words.length ? options : undefined;
}

/**
 * `lvs_method NAT|DR|TUN [type ...]`: returns the kind; tunnel options are translated on a real
 * server (`tunnel` given: tun_type, tun_port, tun_flags) and reported elsewhere.
 */
function forwardingKind(st: Statement, t: Translator, tunnel?: (o: TunnelOptions) => void): string | undefined {
  const a = t.arg(st);
  if (a === undefined) return undefined;
  const v = a.text.toUpperCase();
  // DPVS's Full NAT: lb_kind FNAT with laddr_group_name, as DPVS's keepalived writes it.
  if (v === 'FNAT') return v;
  if (v !== 'NAT' && v !== 'DR' && v !== 'TUN') {
    t.report(a, `${st.keyword.text}: "${a.text}" is not NAT, DR or TUN, not translated`);
    return undefined;
  }
  if (st.args.length > 1) {
    const rest = st.args.slice(1).map((x) => x.text).join(' ');
    const options = v === 'TUN' && tunnel ? tunnelOptions(st, t) : undefined;
    if (options) tunnel!(options);
    else if (rest !== 'type ipip') t.unsupported(st.args[1], 'tunnel options on a real server only, as type ipip|gre|gue [port N] [nocsum|csum|remcsum]', `tunnel options "${rest}"`);
  }
  return v;
}

const realServerRules: Rules = {
  ...inheritedKeys,
  weight: int(undefined, 0, 65535),
  lvs_method: translated((st, out, cx) => {
    // Compared with the service's method once the whole virtual_server is read.
    const kind = forwardingKind(st, cx.t, (o) => {
      out.set('tun_type', o.type, st);
      if (o.port !== undefined) out.set('tun_port', o.port, st);
      if (o.flags !== undefined) out.set('tun_flags', o.flags, st);
    });
    if (kind !== undefined) cx.perServerMethods?.push({ st, kind });
  }),
  notify_up: command(),
  notify_down: command(),
  uthreshold: int(undefined, 0),
  lthreshold: int(undefined, 0),
  ...checkerRules,
};
export const realServer = keywordTable('real_server', realServerRules);

const SCHEDULER_FLAGS: Record<string, string> = { 'sh-port': 'sh_port', 'sh-fallback': 'sh_fallback', 'mh-port': 'mh_port', 'mh-fallback': 'mh_fallback' };

export const virtualServer = keywordTable('virtual_server', {
  ...inheritedKeys,
  lb_algo: translated(scheduler),
  lvs_sched: translated(scheduler),
  lb_kind: translated(kindHandler),
  lvs_method: translated(kindHandler),
  laddr_group_name: text(),
  protocol: translated((st, out, cx) => {
    const { t } = cx;
    const a = t.arg(st);
    if (a === undefined) return;
    const v = a.text.toUpperCase();
    if (v === 'SCTP') {
      t.unsupported(a, 'it forwards TCP and UDP only; this virtual_server is left out', 'protocol SCTP');
      cx.dropService = true;
    } else if (v !== 'TCP' && v !== 'UDP') t.report(a, `protocol: "${a.text}" is not TCP, UDP or SCTP, not translated`);
    else out.set('protocol', v, st);
    t.extra(st, 1);
  }),
  persistence_timeout: translated((st, out, cx) => {
    if (st.args.length === 0) out.set('persistence_timeout', DEFAULT_PERSISTENCE_TIMEOUT, st);
    else int(undefined, 0).apply(st, out, cx);
  }),
  persistence_granularity: text(),
  persistence_engine: no('ulvs has no SIP persistence engine'),
  'sh-port': translated(schedFlag), 'sh-fallback': translated(schedFlag), 'mh-port': translated(schedFlag), 'mh-fallback': translated(schedFlag),
  'flag-1': translated(schedFlag), 'flag-2': translated(schedFlag),
  'flag-3': no('no scheduler of ulvs reads flag-3'),
  ops: flag(),
  ha_suspend: flag(),
  omega: flag(),
  quorum: int(undefined, 0),
  hysteresis: int(undefined, 0),
  quorum_up: command(),
  quorum_down: command(),
  ip_family: refused(WHY.family, (st, _out, { t }) => t.unsupported(st, WHY.family)),
  sorry_server: translated((st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    const m = t.map();
    m.set('ip', a.text);
    if (st.args[1] !== undefined) {
      const p = t.number(st, 1, { int: true, min: 0, max: 65535 });
      if (p !== undefined) m.set('port', p);
    }
    out.set('sorry_server', m.compact(), st);
    t.extra(st, 2);
  }),
  sorry_server_inhibit: flag(),
  sorry_server_lvs_method: translated((st, _out, cx) => {
    const kind = forwardingKind(st, cx.t);
    if (kind !== undefined) cx.perServerMethods?.push({ st, kind, sorry: true });
  }),
  nat_mask: no('obsolete: keepalived ignores it'),
  real_server: translated((st, out, cx) => {
    const { t } = cx;
    const ip = t.arg(st);
    if (ip === undefined) return;
    const rs = t.map();
    rs.set('ip', ip.text, st);
    if (st.args[1] !== undefined) {
      const p = t.number(st, 1, { int: true, min: 0, max: 65535 });
      if (p !== undefined) rs.set('port', p);
    }
    t.extra(st, 2);
    t.walk(t.needBlock(st), realServer, rs, cx);
    const list = out.get('real_servers') ?? out.set('real_servers', t.seq());
    if (list instanceof YAMLSeq) list.items.push(rs.node);
  }),
});

function scheduler(st: Statement, out: OutMap, { t }: Context): void {
  const a = t.arg(st);
  if (a === undefined) return;
  if (!(LB_ALGOS as readonly string[]).includes(a.text)) {
    const near = closestMatch(a.text, LB_ALGOS);
    t.unsupported(a, `ulvs schedulers: ${LB_ALGOS.join(' ')}${near ? `; did you mean ${near}?` : ''}`, `scheduler "${a.text}"`);
    return;
  }
  replaceSynonym(st, out, t, 'lb_algo', 'lvs_sched');
  out.set(st.keyword.text, a.text, st);
  t.extra(st, 1);
}

/** lb_algo/lvs_sched and lb_kind/lvs_method are one setting each: the later one is kept. */
function replaceSynonym(st: Statement, out: OutMap, t: Translator, a: string, b: string): void {
  const other = st.keyword.text === a ? b : a;
  if (out.has(other)) {
    out.delete(other);
    t.report(st.keyword, `${st.keyword.text} and ${other} are the same setting; this later one is kept and ${other} is not translated`);
  }
}

function kindHandler(st: Statement, out: OutMap, cx: Context): void {
  const kind = forwardingKind(st, cx.t);
  if (kind === undefined) return;
  replaceSynonym(st, out, cx.t, 'lb_kind', 'lvs_method');
  cx.vsKind = kind;
  out.set(st.keyword.text, kind, st);
}

/** sh-port / mh-fallback..., and ipvsadm's flag-1 (fallback) / flag-2 (port) for sh and mh. */
function schedFlag(st: Statement, out: OutMap, { t }: Context): void {
  const algo = String((out.get('lb_algo') ?? out.get('lvs_sched'))?.toJSON() ?? '');
  let key = SCHEDULER_FLAGS[st.keyword.text];
  if (key === undefined) {
    if (algo !== 'sh' && algo !== 'mh') {
      t.unsupported(st, `${st.keyword.text} means something only to the sh and mh schedulers (write it after lvs_sched sh|mh)`);
      return;
    }
    key = `${algo}_${st.keyword.text === 'flag-1' ? 'fallback' : 'port'}`;
  }
  out.set(key, true, st);
  t.extra(st, 0);
}

// ---- the top-level LVS blocks ------------------------------------------------------------------

/**
 * The group `fwmarkN` a `virtual_server fwmark N` stands for, added to the sections the first
 * time a service names mark N (several services on one mark share it).
 */
function fwmarkGroup(mark: number, cx: Context): string | undefined {
  const rule = cx.opts.marks?.get(mark);
  if (!rule) return undefined;
  const name = `fwmark${mark}`;
  if (cx.sections.groupNames.has(name)) return name;
  const g = cx.t.map();
  g.set('name', name, { commentsBefore: [`keepalived's fwmark ${mark}: the VIP:ports of the iptables MARK rule at ${rule.where}`] });
  const members = cx.t.seq();
  for (const m of rule.members) members.push(m);
  g.set('members', members);
  cx.sections.groups.push(g);
  cx.sections.groupNames.add(name);
  return name;
}

/** `fwmark N` inside a virtual_server_group: the MARK rule's VIP:ports join the group. */
function addFwmarkMembers(e: Statement, members: OutSeq, { t, opts }: Context): void {
  const n = Number(e.args[0]?.text);
  const rule = opts.marks?.get(n);
  if (rule) for (const member of rule.members) members.push(member, { comment: `fwmark ${n}: ${rule.where}` });
  else t.unsupported(e, fwmarkWhy(n), `fwmark ${e.args[0]?.text ?? ''} in a group`);
}

/**
 * DPVS's `local_address_group NAME { IP IFACE ... }` -> local_address_groups. ulvs holds each
 * address on its interface, which must be one of the dataplane's (checked at load).
 */
export function translateLocalAddressGroup(st: Statement, cx: Context): void {
  const { t, sections } = cx;
  const name = t.named(st);
  if (name === undefined) return;
  const addresses = t.seq();
  for (const e of t.needBlock(st) ?? []) {
    const ip = e.keyword.text;
    const dev = e.args[0]?.text;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || dev === undefined || e.args.length > 1) {
      t.report(e.keyword, `local_address_group ${name}: "${[ip, ...e.args.map((a) => a.text)].join(' ')}" is not IP IFACE (one IPv4 address and its interface), not translated`);
      continue;
    }
    const a = t.map();
    a.set('ip', ip, e);
    a.set('dev', dev, e);
    addresses.push(a, e);
  }
  const g = t.map();
  g.set('name', name, st);
  g.set('addresses', addresses);
  (sections.localGroups ??= t.seq()).push(g);
}

export function translateServerGroup(st: Statement, cx: Context): void {
  const { t, sections } = cx;
  const name = t.named(st);
  if (name === undefined) return;
  const members = t.seq();
  for (const e of t.needBlock(st) ?? []) {
    if (e.keyword.text === 'fwmark') {
      addFwmarkMembers(e, members, cx);
      continue;
    }
    const member = [e.keyword, ...e.args].map((a) => a.text).join(' ');
    const parsed = parseGroupMember(member);
    if (typeof parsed === 'string') t.report(e.keyword, `virtual_server_group ${name}: "${member}" ${parsed}, not translated`);
    else members.push(member, e);
  }
  if (members.size === 0) {
    t.report(st.keyword, `virtual_server_group ${name} has no member ulvs can use, not translated`);
    return;
  }
  const g = t.map();
  g.set('name', name, st);
  g.set('members', members);
  sections.groups.push(g);
  sections.groupNames.add(name);
}

/** `virtual_server IP [PORT]`, `fwmark N` or `group NAME`: false when the service is left out. */
function translateServiceHead(st: Statement, vs: OutMap, cx: Context): boolean {
  const { t } = cx;
  const head = st.args[0];
  if (head === undefined) {
    t.report(st.keyword, 'virtual_server needs IP [PORT], fwmark N or group NAME, not translated');
    return false;
  }
  if (head.text === 'group') {
    const g = t.arg(st, 1);
    if (g === undefined) return false;
    vs.set('group', g.text, st);
  } else if (head.text === 'fwmark') {
    const n = Number(st.args[1]?.text);
    const group = fwmarkGroup(n, cx);
    if (group === undefined) {
      t.unsupported(st, fwmarkWhy(n) + '; this virtual_server is left out until you do', `virtual_server fwmark ${st.args[1]?.text ?? ''}`);
      return false;
    }
    vs.set('group', group, st);
  } else {
    vs.set('vip', head.text, st);
    if (st.args[1] !== undefined) {
      const p = t.number(st, 1, { int: true, min: 0, max: 65535 });
      if (p !== undefined) vs.set('port', p);
    }
  }
  t.extra(st, 2);
  return true;
}

export function translateService(st: Statement, cx: Context): void {
  const { t, sections } = cx;
  const vs = t.map();
  cx.vsKind = undefined;
  cx.dropService = false;
  if (!translateServiceHead(st, vs, cx)) return;
  cx.perServerMethods = [];
  t.walk(t.needBlock(st), virtualServer, vs, cx);
  if (cx.dropService) return;
  const vsKind = cx.vsKind ?? 'NAT';
  for (const m of cx.perServerMethods) {
    if (m.kind === vsKind) continue;
    if (m.sorry) t.unsupported(m.st, `the sorry server is forwarded like the real servers (${vsKind})`, `sorry_server_lvs_method ${m.kind}`);
    else t.unsupported(m.st, `ulvs forwards every real server of a service the same way (${vsKind}); make it a separate service`, `lvs_method ${m.kind} on a real server`);
  }
  if (vsKind === 'NAT') sections.firstNat ??= st;
  sections.services.push(vs);
}
