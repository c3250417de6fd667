/**
 * keepalived statements -> ulvs YAML (CONFIG.md: the same blocks and keyword names, snake_case).
 * Every keyword of keepalived.conf(5)'s VRRP, LVS and checker blocks is either translated or
 * reported as `FILE:LINE: KEYWORD not supported by ulvs (why)`; unknown words are reported with
 * a did-you-mean. Nothing is dropped in silence.
 */
import { closestMatch } from '../config/did-you-mean.js';
import { LB_ALGOS, parseGroupMember } from '../config/raw-schema.js';
import type { MigrateDiagnostic, SourcePos } from './errors.js';
import type { MarkRule } from './iptables-marks.js';
import type { Token } from './keepalived-reader.js';
import type { Statement } from './keepalived-tree.js';
import { YAMLSeq } from 'yaml';
import { OutMap, OutSeq, YamlBuilder } from './yaml-out.js';

export interface TranslateOptions {
  /** dataplane.interface; default: the first vrrp_instance's interface */
  interface?: string;
  /** dataplane.inside (NAT) */
  inside?: string;
  /** iptables MARK rules, to turn `fwmark N` services into groups */
  marks?: Map<number, MarkRule>;
  /** the main file, for reports that belong to no line */
  mainFile: string;
}

export interface Translation {
  builder: YamlBuilder;
  root: OutMap;
  reports: MigrateDiagnostic[];
}

type Handler = (st: Statement, out: OutMap, cx: Context) => void;
type Table = Record<string, Handler>;

interface Context {
  t: Translator;
  /** the virtual server being translated (real servers inherit its lb_kind) */
  vsKind?: string;
  /** lvs_method lines of real servers and sorry servers in that virtual server */
  perServerMethods?: { st: Statement; kind: string; sorry?: boolean }[];
}

const DEFAULT_PERSISTENCE_TIMEOUT = 360;
/** Keywords a block may hold several times (each adds, none replaces). */
const REPEATABLE = new Set(['real_server', 'url', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'MISC_CHECK', 'FILE_CHECK', 'BFD_CHECK', 'host']);
const BOOL_TRUE = ['on', 'true', 'yes'];
const BOOL_FALSE = ['off', 'false', 'no'];

// ---- small value readers -------------------------------------------------------------------

function words(st: Statement): string {
  return st.args.map((a) => a.text).join(' ');
}

class Translator {
  readonly reports: MigrateDiagnostic[] = [];
  readonly yaml = new YamlBuilder();

  report(pos: SourcePos, message: string): void {
    this.reports.push({ file: pos.file, line: pos.line, col: pos.col, message });
  }

  unsupported(st: Statement | Token, why: string, what?: string): void {
    const tok = 'keyword' in st ? st.keyword : st;
    this.report(tok, `${what ?? tok.text} not supported by ulvs (${why})`);
  }

  unknown(st: Statement, where: string, known: string[]): void {
    const near = closestMatch(st.keyword.text, known);
    this.report(st.keyword, `${st.keyword.text}: unknown keyword in ${where}, not translated${near ? ` (did you mean ${near}?)` : ''}`);
  }

  /** Reports words after the ones a keyword takes. */
  extra(st: Statement, used: number): void {
    if (st.args.length > used) {
      const rest = st.args.slice(used);
      this.report(rest[0], `${st.keyword.text}: extra words "${rest.map((a) => a.text).join(' ')}" not translated`);
    }
  }

  map(): OutMap {
    return new OutMap(this.yaml);
  }

  seq(): OutSeq {
    return new OutSeq(this.yaml);
  }

  arg(st: Statement, i = 0): Token | undefined {
    const a = st.args[i];
    if (a === undefined) this.report(st.keyword, `${st.keyword.text} needs a value, not translated`);
    return a;
  }

  number(st: Statement, i: number, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
    const a = this.arg(st, i);
    if (a === undefined) return undefined;
    const n = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(a.text) ? Number(a.text) : NaN;
    const bad = !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
      (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max);
    if (bad) {
      const range = opts.min !== undefined && opts.max !== undefined ? ` ${opts.min}..${opts.max}` : '';
      this.report(a, `${st.keyword.text}: "${a.text}" is not ${opts.int ? 'a whole number' : 'a number'}${range}, not translated`);
      return undefined;
    }
    return n;
  }

  bool(st: Statement): boolean | undefined {
    const a = st.args[0];
    if (a === undefined) return true;
    const v = a.text.toLowerCase();
    if (BOOL_TRUE.includes(v)) return true;
    if (BOOL_FALSE.includes(v)) return false;
    this.report(a, `${st.keyword.text}: "${a.text}" is not one of on|off|true|false|yes|no, not translated`);
    return undefined;
  }

  /** Walks a block with a table; unknown keywords are reported. */
  walk(block: Statement[] | undefined, table: Table, out: OutMap, cx: Context, where: string): void {
    const seen = new Map<string, Token>();
    for (const st of block ?? []) {
      const kw = st.keyword.text;
      // Own keys only: `constructor` or `toString` in a block is an unknown word, not Object's.
      const h = Object.hasOwn(table, kw) ? table[kw] : undefined;
      if (!h) {
        this.unknown(st, where, Object.keys(table));
        continue;
      }
      const first = seen.get(kw);
      if (first && !REPEATABLE.has(kw)) {
        this.report(first, `${kw} is given again at line ${st.keyword.line}; as in keepalived the later one is kept and this one is not translated`);
      }
      seen.set(kw, st.keyword);
      h(st, out, cx);
    }
  }

  /** A keyword that must have a block. */
  needBlock(st: Statement): Statement[] | undefined {
    if (st.block === undefined) this.report(st.keyword, `${st.keyword.text} needs a { ... } block, not translated`);
    return st.block;
  }
}

// ---- handler factories ---------------------------------------------------------------------

const int = (key?: string, min?: number, max?: number): Handler => (st, out, { t }) => {
  const n = t.number(st, 0, { int: true, min, max });
  if (n !== undefined) out.set(key ?? st.keyword.text, n, st);
  t.extra(st, 1);
};
const timer = (key?: string): Handler => (st, out, { t }) => {
  const n = t.number(st, 0, { min: 0 });
  if (n !== undefined) out.set(key ?? st.keyword.text, n, st);
  t.extra(st, 1);
};
const text = (key?: string): Handler => (st, out, { t }) => {
  const a = t.arg(st);
  if (a !== undefined) out.set(key ?? st.keyword.text, a.text, st);
  t.extra(st, 1);
};
/** The whole rest of the line (scripts written without quotes). */
const line = (key?: string): Handler => (st, out, { t }) => {
  if (t.arg(st) !== undefined) out.set(key ?? st.keyword.text, words(st), st);
};
const flag = (key?: string): Handler => (st, out, { t }) => {
  const b = t.bool(st);
  if (b !== undefined) out.set(key ?? st.keyword.text, b, st);
  t.extra(st, 1);
};
/** `notify_x SCRIPT [username [groupname]]`: ulvs runs scripts as its own user. */
const command = (key?: string): Handler => (st, out, { t }) => {
  const a = t.arg(st);
  if (a === undefined) return;
  out.set(key ?? st.keyword.text, a.text, st);
  if (st.args.length > 1) t.unsupported(st.args[1], 'scripts run as the ulvs user; put sudo/runuser in the script', `${st.keyword.text}'s user "${words({ ...st, args: st.args.slice(1) })}"`);
};
/** `user USERNAME [GROUPNAME]`: ulvs takes the user; the group is the user's. */
const user = (key = 'user'): Handler => (st, out, { t }) => {
  const a = t.arg(st);
  if (a === undefined) return;
  out.set(key, a.text, st);
  if (st.args.length > 1) t.unsupported(st.args[1], 'scripts run with the user\'s own group', `group "${st.args[1].text}"`);
};
const no = (why: string): Handler => (st, _out, { t }) => t.unsupported(st, why);

const WHY = {
  ipv4: 'ulvs is IPv4-only',
  snmp: 'ulvs has no SNMP agent; use `ulvs stats` and `ulvs list`',
  netfilter: 'ulvs takes packets before netfilter: no iptables/nftables/ipsets',
  process: 'ulvs is one process; set priorities and affinity with systemd, chrt or taskset',
  bfd: 'ulvs has no BFD; track a vrrp_script instead',
  fifo: 'ulvs has no notify FIFOs; use notify scripts',
  vmac: 'ulvs sends VRRP from the interface itself; no macvlan/ipvlan VMACs',
  routes: 'ulvs manages no routes or rules; add them with ip route/ip rule in notify scripts',
  trackProcess: 'ulvs does not watch processes; use a vrrp_script such as "pidof NAME"',
  none: 'no ulvs equivalent',
  dbus: 'ulvs has no D-Bus interface',
  user: 'scripts run as the ulvs user',
} as const;

// ---- global_defs -----------------------------------------------------------------------------

const GLOBAL_UNSUPPORTED: Record<string, string> = {};
const unsupportedGlobals: Array<[string, string[]]> = [
  [WHY.snmp, ['enable_snmp_checker', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_vrrp', 'enable_snmp_keepalived', 'enable_traps', 'snmp_socket']],
  [WHY.netfilter, ['nftables', 'nftables_counters', 'nftables_ifindex', 'nftables_ipvs', 'nftables_ipvs_priority', 'nftables_ipvs_start_fwmark', 'nftables_priority', 'vrrp_iptables', 'vrrp_ipsets', 'namespace_with_ipsets']],
  [WHY.process, ['bfd_cpu_affinity', 'bfd_no_swap', 'bfd_priority', 'bfd_process_name', 'bfd_rlimit_rttime', 'bfd_rt_priority', 'checker_cpu_affinity', 'checker_no_swap', 'checker_priority', 'checker_process_name', 'checker_rlimit_rttime', 'checker_rt_priority', 'vrrp_cpu_affinity', 'vrrp_no_swap', 'vrrp_priority', 'vrrp_process_name', 'vrrp_rlimit_rttime', 'vrrp_rt_priority', 'process_names', 'process_name', 'child_wait_time', 'use_pid_dir', 'umask', 'fork_delay']],
  [WHY.fifo, ['notify_fifo', 'notify_fifo_script', 'vrrp_notify_fifo', 'vrrp_notify_fifo_script', 'lvs_notify_fifo', 'lvs_notify_fifo_script', 'fifo_write_vrrp_states_on_reload', 'vrrp_notify_priority_changes']],
  [WHY.ipv4, ['vrrp_mcast_group6', 'vrrp_gna_interval']],
  [WHY.dbus, ['enable_dbus', 'dbus_service_name']],
  [WHY.vmac, ['vmac_prefix', 'vmac_addr_prefix', 'vrrp_garp_extra_if']],
  ['ulvs has no IPVS connection sync daemon; each director keeps its own table', ['lvs_sync_daemon']],
  ['ulvs owns its tables and clears them itself', ['lvs_flush', 'lvs_flush_on_stop']],
  ['ulvs reads no IPVS netlink: its tables are its own', ['lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force', 'vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier']],
  ['run ulvs inside the namespace (ip netns exec); dataplane.control_socket is per namespace', ['net_namespace', 'net_namespace_ipvs', 'instance']],
  ['`ulvs reload` validates first and keeps the running config on errors', ['reload_check_config', 'reload_file', 'reload_repeat', 'reload_time_file', 'config_save_dir', 'tmp_config_directory', 'data_use_instance']],
  ['run such scripts from the service manager (ExecStartPre/ExecStop)', ['startup_script', 'startup_script_timeout', 'shutdown_script', 'shutdown_script_timeout']],
  ['ulvs follows the VRRP RFCs here and has no switch for it', ['vrrp_check_unicast_src', 'vrrp_skip_check_adv_addr_strict', 'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_down_timer_adverts', 'vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_startup_delay', 'log_unknown_vrids', 'max_auto_priority', 'min_auto_priority_delay', 'vrrp_track_process', 'dynamic_interfaces', 'disable_local_igmp', 'vrrp_version_strict', 'no_email_faults', 'no_checker_emails', 'rs_init_notifies', 'random_seed', 'script_security', 'include_check', 'terminate_delay', 'linkbeat_use_polling', 'smtp_alert_timeout']],
];
for (const [why, keys] of unsupportedGlobals) for (const k of keys) GLOBAL_UNSUPPORTED[k] = why;

const globalDefs: Table = {
  router_id: text(),
  notification_email: (st, out, { t }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      list.push(e.keyword.text, e);
      t.extra(e, 0);
    }
    out.set('notification_email', list, st);
  },
  notification_email_from: text(),
  smtp_server: (st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    out.set('smtp_server', st.args.length > 1 ? `${a.text}:${st.args[1].text}` : a.text, st);
    t.extra(st, 2);
  },
  smtp_helo_name: text(),
  smtp_connect_timeout: timer(),
  smtp_alert: flag(),
  smtp_alert_vrrp: flag(),
  smtp_alert_checker: flag(),
  checker_log_all_failures: flag(),
  default_interface: text(),
  vrrp_mcast_group4: text(),
  vrrp_version: int(undefined, 2, 3),
  vrrp_garp_master_delay: int(undefined, 0),
  vrrp_garp_master_repeat: int(undefined, 0),
  vrrp_garp_master_refresh: int(undefined, 0),
  vrrp_garp_master_refresh_repeat: int(undefined, 0),
  vrrp_garp_interval: timer(),
  vrrp_min_garp: flag(),
  vrrp_skip_check_adv_addr: flag(),
  vrrp_strict: flag(),
  script_user: user('script_user'),
  enable_script_security: flag(),
  lvs_timeouts: (st, out, { t }) => {
    const m = t.map();
    for (let i = 0; i + 1 < st.args.length; i += 2) {
      const k = st.args[i].text;
      if (k !== 'tcp' && k !== 'tcpfin' && k !== 'udp') {
        t.report(st.args[i], `lvs_timeouts: "${k}" is not tcp, tcpfin or udp, not translated`);
        continue;
      }
      const n = t.number(st, i + 1, { int: true, min: 1 });
      if (n !== undefined) m.set(k, n);
    }
    if (st.args.length % 2 === 1) t.report(st.args[st.args.length - 1], `lvs_timeouts: "${st.args[st.args.length - 1].text}" has no value, not translated`);
    if (m.size > 0) out.set('lvs_timeouts', m.compact(), st);
  },
};
for (const k of Object.keys(GLOBAL_UNSUPPORTED)) globalDefs[k] = no(GLOBAL_UNSUPPORTED[k]);
// keepalived's older spelling in some how-tos.
globalDefs.lvs_sync_daemon_interface = no('ulvs has no IPVS connection sync daemon; each director keeps its own table');

// ---- addresses -----------------------------------------------------------------------------

const ADDRESS_FLAGS = ['home', '-nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track', 'use_vmac'];
const ADDRESS_OPTIONS = ['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group'];

/** `IP[/MASK] [brd IP] [dev IF] [scope S] [label L] [peer IP] [flags...]` (ip address add). */
function address(st: Statement, t: Translator): string | OutMap | undefined {
  const all = [st.keyword, ...st.args];
  const addr = all[0].text;
  if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(addr)) {
    t.report(all[0], `"${addr}" is not an IPv4 address${addr.includes(':') ? ` (${WHY.ipv4})` : ''}, not translated`);
    return undefined;
  }
  const m = t.map();
  m.set('address', addr);
  for (let i = 1; i < all.length; i++) {
    const w = all[i];
    if (ADDRESS_OPTIONS.includes(w.text)) {
      const v = all[i + 1];
      if (v === undefined) {
        t.report(w, `${w.text} needs a value, not translated`);
        break;
      }
      i++;
      const key = w.text === 'broadcast' ? 'brd' : w.text;
      if (key === 'preferred_lft' || key === 'track_group') t.unsupported(w, key === 'track_group' ? 'ulvs has no track groups' : WHY.ipv4);
      else m.set(key, v.text);
    } else if (ADDRESS_FLAGS.includes(w.text)) {
      t.unsupported(w, w.text === 'use_vmac' ? WHY.vmac : w.text === 'no_track' ? 'ulvs re-adds a deleted VIP while MASTER' : 'ulvs adds addresses with the kernel defaults');
    } else {
      const near = closestMatch(w.text.replace(/[:.].*$/, ''), ADDRESS_OPTIONS) ?? (w.text.startsWith('label') ? 'label' : w.text.startsWith('dev') ? 'dev' : undefined);
      t.report(w, `"${w.text}" is not an address option, not translated${near ? ` (did you mean "${near} ${w.text.slice(near.length)}"?)` : ''}`);
    }
  }
  return m.size === 1 ? addr : m.compact();
}

function addressList(st: Statement, out: OutMap, t: Translator, key: string): void {
  const list = t.seq();
  for (const e of t.needBlock(st) ?? []) {
    const a = address(e, t);
    if (a !== undefined) list.push(a instanceof OutMap ? a : a, e);
  }
  out.set(key, list, st);
}

/** `NAME [weight N] [reverse|noreverse]` in track_interface/track_script/track_file blocks. */
function trackList(key: string, range: number): Handler {
  return (st, out, { t }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      const item = t.map();
      item.set('name', e.keyword.text);
      for (let i = 0; i < e.args.length; i++) {
        const w = e.args[i];
        if (w.text === 'weight') {
          const n = t.number(e, i + 1, { int: true, min: -range, max: range });
          if (n !== undefined) item.set('weight', n);
          i++;
        } else if (w.text === 'reverse') item.set('reverse', true);
        else if (w.text === 'noreverse' || w.text === 'no_reverse') item.set('reverse', false);
        else t.report(w, `${key}: "${w.text}" is not weight N, reverse or noreverse, not translated`);
      }
      list.push(item.size === 1 ? e.keyword.text : item.compact(), e);
    }
    out.set(key, list, st);
  };
}

// ---- vrrp_script, track_file -----------------------------------------------------------------

const weightReverse = (range: number): Handler => (st, out, { t }) => {
  const n = t.number(st, 0, { int: true, min: -range, max: range });
  if (n !== undefined) out.set('weight', n, st);
  const r = st.args[1];
  if (r !== undefined) {
    if (r.text === 'reverse') out.set('reverse', true);
    else if (r.text !== 'noreverse') t.report(r, `weight: "${r.text}" is not reverse, not translated`);
  }
  t.extra(st, 2);
};

const vrrpScript: Table = {
  script: line(),
  interval: timer(),
  timeout: timer(),
  weight: weightReverse(253),
  rise: int(undefined, 1),
  fall: int(undefined, 1),
  user: user(),
  init_fail: flag(),
};

const trackFile: Table = {
  file: text(),
  weight: weightReverse(Number.MAX_SAFE_INTEGER),
  init_file: (st, out, { t }) => {
    if (st.args[0] !== undefined && st.args[0].text !== 'overwrite') {
      const n = t.number(st, 0, { int: true });
      if (n !== undefined) out.set('init_file', n, st);
    } else out.set('init_file', 0, st);
    const ow = st.args.find((a) => a.text === 'overwrite');
    if (ow) t.unsupported(ow, 'ulvs never writes the tracked file', 'init_file overwrite');
  },
};

// ---- vrrp_instance, vrrp_sync_group ----------------------------------------------------------

const notifyKeys: Table = {
  notify_master: command(),
  notify_backup: command(),
  notify_fault: command(),
  notify_stop: command(),
  notify: command(),
  smtp_alert: flag(),
  notify_deleted: no('ulvs reports a deleted instance as FAULT to notify scripts'),
  notify_priority_changes: no(WHY.fifo),
  notify_master_rx_lower_pri: no(WHY.none),
};

const vrrpInstance: Table = {
  ...notifyKeys,
  state: (st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    const v = a.text.toUpperCase();
    if (v !== 'MASTER' && v !== 'BACKUP') t.report(a, `state: "${a.text}" is not MASTER or BACKUP, not translated`);
    else out.set('state', v, st);
    t.extra(st, 1);
  },
  interface: text(),
  virtual_router_id: int(undefined, 1, 255),
  priority: int(undefined, 1, 255),
  advert_int: timer(),
  version: int(undefined, 2, 3),
  nopreempt: (st, out, { t }) => {
    out.set('nopreempt', true, st);
    t.extra(st, 0);
  },
  preempt: (st, out, { t }) => {
    out.set('nopreempt', false, st);
    t.extra(st, 0);
  },
  preempt_delay: timer(),
  authentication: (st, out, { t }) => {
    const m = t.map();
    t.walk(t.needBlock(st), {
      auth_type: (s, o) => {
        const a = t.arg(s);
        if (a === undefined) return;
        const v = a.text.toUpperCase();
        if (v !== 'PASS' && v !== 'AH') t.report(a, `auth_type: "${a.text}" is not PASS or AH, not translated`);
        else o.set('auth_type', v, s);
      },
      auth_pass: text(),
    }, m, { t }, 'authentication');
    out.set('authentication', m.compact(), st);
  },
  mcast_src_ip: text(),
  unicast_src_ip: text(),
  mcast_dst_ip: text(),
  unicast_peer: (st, out, { t }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      list.push(e.keyword.text, e);
      if (e.args.length > 0) t.unsupported(e.args[0], 'ulvs accepts adverts of any TTL from its peers', `unicast_peer ${e.args.map((a) => a.text).join(' ')}`);
    }
    out.set('unicast_peer', list, st);
  },
  virtual_ipaddress: (st, out, { t }) => addressList(st, out, t, 'virtual_ipaddress'),
  virtual_ipaddress_excluded: (st, out, { t }) => addressList(st, out, t, 'virtual_ipaddress_excluded'),
  track_interface: trackList('track_interface', 253),
  track_script: trackList('track_script', 253),
  track_file: trackList('track_file', 254),
  dont_track_primary: flag(),
  garp_master_delay: int(undefined, 0),
  garp_master_repeat: int(undefined, 0),
  garp_master_refresh: int(undefined, 0),
  garp_master_refresh_repeat: int(undefined, 0),
  use_vmac: no(WHY.vmac),
  use_vmac_addr: no(WHY.vmac),
  vmac_xmit_base: no(WHY.vmac),
  use_ipvlan: no(WHY.vmac),
  vrf: no('ulvs runs in one routing table; run it in the VRF (ip vrf exec)'),
  native_ipv6: no(WHY.ipv4),
  track_process: no(WHY.trackProcess),
  track_bfd: no(WHY.bfd),
  track_src_ip: no(WHY.none),
  check_unicast_src: no('ulvs accepts unicast adverts from any source'),
  unicast_fault_no_peer: no(WHY.none),
  unicast_ttl: no('ulvs sends adverts with TTL 255 as the RFC says'),
  old_unicast_checksum: no('ulvs computes the RFC checksum'),
  garp_lower_prio_delay: no(WHY.none),
  garp_lower_prio_repeat: no(WHY.none),
  garp_extra_if: no(WHY.vmac),
  garp_extra_if_vmac: no(WHY.vmac),
  down_timer_adverts: no('ulvs uses the RFC master down timer (3 adverts + skew)'),
  lower_prio_no_advert: no(WHY.none),
  higher_prio_send_advert: no(WHY.none),
  virtual_routes: no(WHY.routes),
  virtual_rules: no(WHY.routes),
  accept: no('ulvs always accepts packets for its VIPs'),
  no_accept: no('ulvs always accepts packets for its VIPs'),
  skip_check_adv_addr: no('only as global_defs vrrp_skip_check_adv_addr'),
  strict_mode: no('only as global_defs vrrp_strict'),
  debug: no('set dataplane.log_level'),
  kernel_rx_buf_size: no(WHY.none),
  linkbeat_use_polling: no('ulvs watches links through netlink'),
  promote_secondaries: no('ulvs adds VIPs as /32 without touching other addresses'),
};

const syncGroup: Table = {
  ...notifyKeys,
  group: (st, out, { t }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      list.push(e.keyword.text, e);
      t.extra(e, 0);
    }
    out.set('group', list, st);
  },
  track_interface: trackList('track_interface', 253),
  track_script: trackList('track_script', 253),
  track_file: trackList('track_file', 254),
  track_process: no(WHY.trackProcess),
  track_bfd: no(WHY.bfd),
  global_tracking: no('deprecated in keepalived: track on the sync group instead'),
  sync_group_tracking_weight: no(WHY.none),
};

// ---- checkers --------------------------------------------------------------------------------

const timingKeys: Table = {
  connect_timeout: timer(),
  retry: int(undefined, 0),
  nb_get_retry: int(undefined, 0),
  delay_before_retry: timer(),
  warmup: timer(),
  delay_loop: timer(),
  alpha: flag(),
  log_all_failures: flag(),
};
const connectionKeys: Table = {
  connect_ip: text(),
  connect_port: int(undefined, 1, 65535),
  bindto: text(),
  bind_port: int(undefined, 1, 65535),
  bind_if: text(),
  fwmark: no('checks leave from ulvs\'s own sockets; no firewall marks'),
};

const urlTable: Table = {
  path: text(),
  digest: text(),
  status_code: (st, out, { t }) => {
    if (t.arg(st) === undefined) return;
    const all = words(st);
    out.set('status_code', /^\d+$/.test(all) ? Number(all) : all, st);
  },
  virtualhost: text(),
  regex: line(),
  regex_no_match: flag(),
  regex_options: no('ulvs matches with JavaScript regular expressions (no pcre2 options)'),
  regex_stack: no('ulvs matches with JavaScript regular expressions (no pcre2 stack)'),
  regex_min_offset: no('ulvs matches the regex against the whole body'),
  regex_max_offset: no('ulvs matches the regex against the whole body'),
};

const httpTable: Table = {
  ...connectionKeys,
  ...timingKeys,
  http_protocol: text(),
  fast_recovery: flag(),
  virtualhost: text(),
  url: (st, out, { t }) => {
    let seq = urlSeqs.get(out);
    if (seq === undefined) {
      seq = t.seq();
      urlSeqs.set(out, seq);
      out.set('url', seq);
    }
    const m = t.map();
    t.walk(t.needBlock(st), urlTable, m, { t }, 'url');
    seq.push(m.compact(), st);
  },
};
/** The url list of each http_get being built (several url blocks append to one list). */
const urlSeqs = new WeakMap<OutMap, OutSeq>();

const checkerTables: Record<string, [string, Table]> = {
  TCP_CHECK: ['tcp_check', { ...connectionKeys, ...timingKeys }],
  HTTP_GET: ['http_get', httpTable],
  SSL_GET: ['ssl_get', { ...httpTable, enable_sni: flag() }],
  SMTP_CHECK: ['smtp_check', {
    ...connectionKeys, ...timingKeys,
    helo_name: line(),
    host: no('ulvs\'s smtp_check checks one address: use connect_ip/connect_port'),
  }],
  DNS_CHECK: ['dns_check', {
    ...connectionKeys, ...timingKeys,
    type: (st, out, { t }) => {
      const a = t.arg(st);
      if (a !== undefined) out.set('type', a.text.toUpperCase(), st);
      t.extra(st, 1);
    },
    name: text(),
  }],
  UDP_CHECK: ['udp_check', {
    ...connectionKeys, ...timingKeys,
    payload: (st, out, { t }) => {
      if (t.arg(st) !== undefined) out.set('payload', words(st), st);
    },
    require_reply: (st, out) => {
      out.set('require_reply', st.args.length === 0 ? true : words(st), st);
    },
    min_reply_length: int(undefined, 0),
    max_reply_length: int(undefined, 0),
  }],
  PING_CHECK: ['ping_check', { ...connectionKeys, ...timingKeys }],
  MISC_CHECK: ['misc_check', {
    ...timingKeys,
    misc_path: line(),
    misc_timeout: timer(),
    misc_dynamic: flag(),
    user: user(),
  }],
  FILE_CHECK: ['file_check', {
    track_file: text(),
    dynamic: flag(),
    weight: weightReverse(2147483647),
  }],
};
const CHECKER_NAMES = [...Object.keys(checkerTables), 'BFD_CHECK'];

function checker(st: Statement, out: OutMap, cx: Context): void {
  const { t } = cx;
  if (st.keyword.text === 'BFD_CHECK') {
    t.unsupported(st, WHY.bfd);
    return;
  }
  const [key, table] = checkerTables[st.keyword.text];
  const present = Object.values(checkerTables).map(([k]) => k).find((k) => out.has(k));
  if (present !== undefined) {
    t.unsupported(st, `ulvs runs one checker per real server; ${present} is kept`, `a second checker (${st.keyword.text})`);
    return;
  }
  t.extra(st, 0);
  const m = t.map();
  t.walk(t.needBlock(st), table, m, cx, st.keyword.text);
  out.set(key, key === 'http_get' || key === 'ssl_get' ? m : m.compact(), st);
}

// ---- virtual_server --------------------------------------------------------------------------

const inheritedKeys: Table = {
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

/** `lvs_method NAT|DR|TUN [type ipip]`: returns the kind, reporting tunnel types ulvs lacks. */
function forwardingKind(st: Statement, t: Translator): string | undefined {
  const a = t.arg(st);
  if (a === undefined) return undefined;
  const v = a.text.toUpperCase();
  if (v !== 'NAT' && v !== 'DR' && v !== 'TUN') {
    t.report(a, `${st.keyword.text}: "${a.text}" is not NAT, DR or TUN, not translated`);
    return undefined;
  }
  if (st.args.length > 1) {
    const rest = st.args.slice(1).map((x) => x.text).join(' ');
    if (rest !== 'type ipip') t.unsupported(st.args[1], 'ulvs tunnels with plain IPIP', `tunnel options "${rest}"`);
  }
  return v;
}

const realServer: Table = {
  ...inheritedKeys,
  weight: int(undefined, 0, 65535),
  lvs_method: (st, _out, cx) => {
    // Compared with the service's method once the whole virtual_server is read.
    const kind = forwardingKind(st, cx.t);
    if (kind !== undefined) cx.perServerMethods?.push({ st, kind });
  },
  notify_up: command(),
  notify_down: command(),
  uthreshold: int(undefined, 0),
  lthreshold: int(undefined, 0),
};
for (const c of CHECKER_NAMES) realServer[c] = checker;

const SCHEDULER_FLAGS: Record<string, string> = { 'sh-port': 'sh_port', 'sh-fallback': 'sh_fallback', 'mh-port': 'mh_port', 'mh-fallback': 'mh_fallback' };

const virtualServer: Table = {
  ...inheritedKeys,
  lb_algo: scheduler,
  lvs_sched: scheduler,
  lb_kind: kindHandler,
  lvs_method: kindHandler,
  protocol: (st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    const v = a.text.toUpperCase();
    if (v !== 'TCP' && v !== 'UDP' && v !== 'SCTP') t.report(a, `protocol: "${a.text}" is not TCP, UDP or SCTP, not translated`);
    else out.set('protocol', v, st);
    t.extra(st, 1);
  },
  persistence_timeout: (st, out, { t }) => {
    if (st.args.length === 0) out.set('persistence_timeout', DEFAULT_PERSISTENCE_TIMEOUT, st);
    else int(undefined, 0)(st, out, { t });
  },
  persistence_granularity: text(),
  persistence_engine: no('ulvs has no SIP persistence engine'),
  'sh-port': schedFlag, 'sh-fallback': schedFlag, 'mh-port': schedFlag, 'mh-fallback': schedFlag,
  'flag-1': schedFlag, 'flag-2': schedFlag,
  'flag-3': no('no scheduler of ulvs reads flag-3'),
  ops: flag(),
  ha_suspend: flag(),
  omega: flag(),
  quorum: int(undefined, 0),
  hysteresis: int(undefined, 0),
  quorum_up: command(),
  quorum_down: command(),
  ip_family: (st, _out, { t }) => {
    if (st.args[0]?.text === 'inet') t.unsupported(st, 'ulvs is IPv4-only, so inet is implied', 'ip_family inet');
    else t.unsupported(st, WHY.ipv4);
  },
  sorry_server: (st, out, { t }) => {
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
  },
  sorry_server_inhibit: flag(),
  sorry_server_lvs_method: (st, _out, cx) => {
    const kind = forwardingKind(st, cx.t);
    if (kind !== undefined) cx.perServerMethods?.push({ st, kind, sorry: true });
  },
  nat_mask: no('obsolete: keepalived ignores it'),
  real_server: (st, out, cx) => {
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
    t.walk(t.needBlock(st), realServer, rs, cx, 'real_server');
    const list = out.get('real_servers') ?? out.set('real_servers', t.seq());
    if (list instanceof YAMLSeq) list.items.push(rs.node);
  },
};

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

// ---- the whole file ----------------------------------------------------------------------------

const TOP_UNSUPPORTED: Record<string, string> = {
  static_routes: WHY.routes,
  static_rules: WHY.routes,
  linkbeat_interfaces: 'ulvs watches links through netlink',
  track_group: 'ulvs has no track groups',
  vrrp_track_process: WHY.trackProcess,
  bfd_instance: WHY.bfd,
  garp_group: 'set vrrp_garp_interval in global_defs',
  SSL: 'ssl_get does not verify certificates, like keepalived without an SSL block',
  net_namespace: 'run ulvs inside the namespace (ip netns exec)',
  use_symlink: WHY.none,
};
const TOP_KEYWORDS = ['global_defs', 'static_ipaddress', 'vrrp_script', 'track_file', 'vrrp_track_file', 'vrrp_instance', 'vrrp_sync_group', 'virtual_server_group', 'virtual_server', ...Object.keys(TOP_UNSUPPORTED)];

export function translateKeepalived(tree: Statement[], opts: TranslateOptions): Translation {
  const t = new Translator();
  const cx: Context = { t };
  const root = t.map();
  const global = t.map();
  const statics = t.seq();
  const scripts = t.map();
  const trackFiles = t.map();
  const instances = t.seq();
  const syncGroups = t.seq();
  const groups = t.seq();
  const services = t.seq();
  const groupNames = new Set<string>();
  let firstInterface: string | undefined;
  let firstNat: Statement | undefined;
  let globalFrom: Statement | undefined;

  const named = (st: Statement): string | undefined => {
    const n = st.args[0];
    if (n === undefined) t.report(st.keyword, `${st.keyword.text} needs a name, not translated`);
    else t.extra(st, 1);
    return n?.text;
  };

  for (const st of tree) {
    const kw = st.keyword.text;
    switch (kw) {
      case 'global_defs':
        globalFrom ??= st;
        t.extra(st, 0);
        t.walk(t.needBlock(st), globalDefs, global, cx, 'global_defs');
        break;
      case 'static_ipaddress':
        for (const e of t.needBlock(st) ?? []) {
          const a = address(e, t);
          if (a !== undefined) statics.push(a, e);
        }
        break;
      case 'vrrp_script': {
        const name = named(st);
        if (name === undefined) break;
        const m = t.map();
        t.walk(t.needBlock(st), vrrpScript, m, cx, 'vrrp_script');
        scripts.set(name, m.compact(), st);
        break;
      }
      case 'track_file':
      case 'vrrp_track_file': {
        const name = named(st);
        if (name === undefined) break;
        const m = t.map();
        t.walk(t.needBlock(st), trackFile, m, cx, kw);
        trackFiles.set(name, m.compact(), st);
        break;
      }
      case 'vrrp_instance': {
        const name = named(st);
        if (name === undefined) break;
        const m = t.map();
        m.set('name', name, st);
        t.walk(t.needBlock(st), vrrpInstance, m, cx, 'vrrp_instance');
        const iface = m.get('interface')?.toJSON();
        if (typeof iface === 'string') firstInterface ??= iface;
        else if (m.size > 1) {
          const fallback = opts.interface ?? 'eth0';
          m.set('interface', fallback);
          t.report(st.keyword, `vrrp_instance ${name} names no interface; ulvs needs one: set to ${fallback}`);
        }
        instances.push(m);
        break;
      }
      case 'vrrp_sync_group': {
        const name = named(st);
        if (name === undefined) break;
        const m = t.map();
        m.set('name', name, st);
        t.walk(t.needBlock(st), syncGroup, m, cx, 'vrrp_sync_group');
        syncGroups.push(m);
        break;
      }
      case 'virtual_server_group': {
        const name = named(st);
        if (name === undefined) break;
        const members = t.seq();
        for (const e of t.needBlock(st) ?? []) {
          if (e.keyword.text === 'fwmark') {
            const n = Number(e.args[0]?.text);
            const rule = opts.marks?.get(n);
            if (rule) for (const member of rule.members) members.push(member, { comment: `fwmark ${n}: ${rule.where}` });
            else t.unsupported(e, fwmarkWhy(n), `fwmark ${e.args[0]?.text ?? ''} in a group`);
            continue;
          }
          const member = [e.keyword, ...e.args].map((a) => a.text).join(' ');
          const parsed = parseGroupMember(member);
          if (typeof parsed === 'string') t.report(e.keyword, `virtual_server_group ${name}: "${member}" ${parsed}, not translated`);
          else members.push(member, e);
        }
        if (members.size === 0) {
          t.report(st.keyword, `virtual_server_group ${name} has no member ulvs can use, not translated`);
          break;
        }
        const g = t.map();
        g.set('name', name, st);
        g.set('members', members);
        groups.push(g);
        groupNames.add(name);
        break;
      }
      case 'virtual_server': {
        const vs = t.map();
        cx.vsKind = undefined;
        const head = st.args[0];
        if (head === undefined) {
          t.report(st.keyword, 'virtual_server needs IP [PORT], fwmark N or group NAME, not translated');
          break;
        }
        if (head.text === 'group') {
          const g = t.arg(st, 1);
          if (g === undefined) break;
          vs.set('group', g.text, st);
          t.extra(st, 2);
        } else if (head.text === 'fwmark') {
          const n = Number(st.args[1]?.text);
          const rule = opts.marks?.get(n);
          if (!rule) {
            t.unsupported(st, fwmarkWhy(n) + '; this virtual_server is left out until you do', `virtual_server fwmark ${st.args[1]?.text ?? ''}`);
            break;
          }
          const name = `fwmark${n}`;
          if (!groupNames.has(name)) {
            const g = t.map();
            g.set('name', name, { commentsBefore: [`keepalived's fwmark ${n}: the VIP:ports of the iptables MARK rule at ${rule.where}`] });
            const members = t.seq();
            for (const m of rule.members) members.push(m);
            g.set('members', members);
            groups.push(g);
            groupNames.add(name);
          }
          vs.set('group', name, st);
          t.extra(st, 2);
        } else {
          vs.set('vip', head.text, st);
          if (st.args[1] !== undefined) {
            const p = t.number(st, 1, { int: true, min: 0, max: 65535 });
            if (p !== undefined) vs.set('port', p);
          }
          t.extra(st, 2);
        }
        cx.perServerMethods = [];
        t.walk(t.needBlock(st), virtualServer, vs, cx, 'virtual_server');
        const vsKind = cx.vsKind ?? 'NAT';
        for (const m of cx.perServerMethods) {
          if (m.kind === vsKind) continue;
          if (m.sorry) t.unsupported(m.st, `the sorry server is forwarded like the real servers (${vsKind})`, `sorry_server_lvs_method ${m.kind}`);
          else t.unsupported(m.st, `ulvs forwards every real server of a service the same way (${vsKind}); make it a separate service`, `lvs_method ${m.kind} on a real server`);
        }
        if (vsKind === 'NAT') firstNat ??= st;
        services.push(vs);
        break;
      }
      default:
        if (Object.hasOwn(TOP_UNSUPPORTED, kw)) t.unsupported(st, TOP_UNSUPPORTED[kw]);
        else if (Object.hasOwn(globalDefs, kw)) t.report(st.keyword, `${kw} belongs inside global_defs { }, not translated`);
        else t.unknown(st, 'the top level', TOP_KEYWORDS);
    }
  }

  // dataplane: where ulvs takes packets (no keepalived equivalent: it used the kernel's IPVS).
  const dataplane = t.map();
  const defaultIf = global.get('default_interface')?.toJSON();
  const iface = opts.interface ?? firstInterface ?? (typeof defaultIf === 'string' ? defaultIf : undefined);
  if (iface === undefined) {
    t.report({ file: opts.mainFile, line: 1, col: 1 }, 'no interface found (no vrrp_instance names one): dataplane.interface is eth0; rerun with --interface IF to change it');
  }
  dataplane.set('interface', iface ?? 'eth0', { commentsBefore: [opts.interface ? 'from --interface' : firstInterface ? 'the interface of the first vrrp_instance' : 'no vrrp_instance names an interface: check this one'] });
  if (opts.inside !== undefined) dataplane.set('inside', opts.inside, { comment: 'from --inside: NAT real servers are behind it' });
  else if (firstNat) {
    t.report(firstNat.keyword, 'NAT service (lb_kind NAT, keepalived\'s default): ulvs needs the interface toward the real servers; rerun with --inside IF');
  }

  if (global.size > 0) root.set('global_defs', global, globalFrom ? { commentsBefore: globalFrom.commentsBefore, comment: globalFrom.comment } : undefined);
  root.set('dataplane', dataplane.compact());
  if (statics.size > 0) root.set('static_ipaddress', statics);
  if (scripts.size > 0) root.set('vrrp_scripts', scripts);
  if (trackFiles.size > 0) root.set('track_files', trackFiles);
  if (instances.size > 0) root.set('vrrp_instances', instances);
  if (syncGroups.size > 0) root.set('vrrp_sync_groups', syncGroups);
  if (groups.size > 0) root.set('virtual_server_groups', groups);
  if (services.size > 0) root.set('virtual_servers', services);
  return { builder: t.yaml, root, reports: t.reports };
}

function fwmarkWhy(mark: number): string {
  return `ulvs takes packets before netfilter, so there are no firewall marks: list the VIP and ports of your iptables "--set-mark ${Number.isFinite(mark) ? mark : 'N'}" rule in a virtual_server_groups entry, or rerun with --iptables FILE (iptables-save output)`;
}
