/**
 * keepalived's VRRP side, keyword by keyword: global_defs, addresses (static_ipaddress and
 * virtual_ipaddress), vrrp_script, track_file, vrrp_instance and vrrp_sync_group. Each table
 * says what becomes of every keyword of its block; the top-level blocks are added to the
 * translation's sections by the functions at the end.
 */
import { closestMatch } from '../config/did-you-mean.js';
import { parseIpv6Cidr } from '../config/ipv6.js';
import { REFUSED_KEYS } from '../config/refused-keys.js';
import type { Statement } from './keepalived-tree.js';
import {
  flag, int, keywordTable, line, nameList, no, text, timer, translated, user, weightReverse, command,
  type Context, type KeywordRule, type Rules, type Translator,
} from './translator.js';
import { UNSUPPORTED_GLOBALS, WHY } from './unsupported-keywords.js';
import { OutMap } from './yaml-out.js';

// ---- global_defs -----------------------------------------------------------------------------

const globalRules: Rules = {
  router_id: text(),
  notification_email: nameList('notification_email'),
  notification_email_from: text(),
  smtp_server: translated((st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    out.set('smtp_server', st.args.length > 1 ? `${a.text}:${st.args[1].text}` : a.text, st);
    t.extra(st, 2);
  }),
  smtp_helo_name: text(),
  smtp_connect_timeout: timer(),
  smtp_alert: flag(),
  smtp_alert_vrrp: flag(),
  smtp_alert_checker: flag(),
  no_email_faults: flag(),
  checker_log_all_failures: flag(),
  default_interface: text(),
  vrrp_mcast_group4: text(),
  vrrp_mcast_group6: text(),
  vrrp_version: int(undefined, 2, 3),
  vrrp_garp_master_delay: int(undefined, 0),
  vrrp_garp_master_repeat: int(undefined, 0),
  vrrp_garp_master_refresh: int(undefined, 0),
  vrrp_garp_master_refresh_repeat: int(undefined, 0),
  vrrp_garp_interval: timer(),
  vrrp_gna_interval: timer(),
  vrrp_min_garp: flag(),
  vrrp_skip_check_adv_addr: flag(),
  vrrp_strict: flag(),
  script_user: user('script_user'),
  enable_script_security: flag(),
  lvs_timeouts: translated((st, out, { t }) => {
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
  }),
};
for (const [why, keys] of UNSUPPORTED_GLOBALS) for (const k of keys) globalRules[k] = no(why);
// keepalived: `lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`.
globalRules.lvs_sync_daemon = translated((st, out, { t }) => {
  const [iface, instance] = st.args;
  if (iface === undefined || instance === undefined) {
    t.report(st.keyword, 'lvs_sync_daemon needs an interface and a vrrp_instance name, not translated');
    return;
  }
  const m = t.map();
  m.set('interface', iface.text);
  m.set('instance', instance.text);
  const LIMITS: Record<string, [number, number]> = { id: [0, 255], maxlen: [64, 65507], port: [1, 65535], ttl: [1, 255] };
  for (let i = 2; i < st.args.length; i += 2) {
    const k = st.args[i].text;
    if (st.args[i + 1] === undefined) { t.report(st.args[i], `lvs_sync_daemon: "${k}" has no value, not translated`); break; }
    if (k === 'group') { m.set('group', st.args[i + 1].text); continue; }
    const range = LIMITS[k];
    if (!range) { t.report(st.args[i], `lvs_sync_daemon: "${k}" is not id, maxlen, port, ttl or group, not translated`); continue; }
    const n = t.number(st, i + 1, { int: true, min: range[0], max: range[1] });
    if (n !== undefined) m.set(k, n);
  }
  out.set('lvs_sync_daemon', m.compact(8), st);
});
globalRules.lvs_sync_daemon_interface = no('inside global_defs it names no instance: write lvs_sync_daemon IF INSTANCE');
export const globalDefs = keywordTable('global_defs', globalRules);

// ---- addresses -----------------------------------------------------------------------------

const ADDRESS_FLAGS = ['home', '-nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track', 'use_vmac'];
const ADDRESS_OPTIONS = ['brd', 'broadcast', 'dev', 'scope', 'label', 'peer', 'preferred_lft', 'track_group'];

/** `IP[/MASK] [brd IP] [dev IF] [scope S] [label L] [peer IP] [flags...]` (ip address add). */
export function address(st: Statement, t: Translator): string | OutMap | undefined {
  const all = [st.keyword, ...st.args];
  const addr = all[0].text;
  // IPv6 too: static_ipaddress holds it and an IPv6 vrrp_instance runs VRRPv3 over it.
  if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(addr) && parseIpv6Cidr(addr) === null) {
    t.report(all[0], `"${addr}" is not an IPv4 or IPv6 address, not translated`);
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
      if (key === 'preferred_lft' || key === 'track_group') {
        t.unsupported(w, key === 'track_group' ? 'ulvs has no track groups' : 'ulvs adds a VIP with the kernel\'s lifetimes (an IPv6 one with nodad, preferred forever)');
      }
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
function trackList(key: string, range: number): KeywordRule {
  return translated((st, out, { t, sections }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      if (key === 'track_script' && sections.removedScripts?.has(e.keyword.text)) {
        // keepalived: "track_script NAME not found, ignoring..."
        t.report(e.keyword, `track_script ${e.keyword.text}: its vrrp_script was removed (no script), ignored as keepalived ignores it`);
        continue;
      }
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
  });
}

// ---- vrrp_script, track_file -----------------------------------------------------------------

export const vrrpScript = keywordTable('vrrp_script', {
  script: line(),
  interval: timer(),
  timeout: timer(),
  weight: weightReverse(253),
  rise: int(undefined, 1),
  fall: int(undefined, 1),
  user: user(),
  init_fail: flag(),
});

const trackFileRules: Rules = {
  file: text(),
  weight: weightReverse(Number.MAX_SAFE_INTEGER),
  init_file: no(REFUSED_KEYS['track_files.*.init_file']),
};
export const trackFile = keywordTable('track_file', trackFileRules);
export const vrrpTrackFile = keywordTable('vrrp_track_file', trackFileRules);

function syncDaemonFor(t: Translator, iface: string, instance: string): OutMap {
  const m = t.map();
  m.set('interface', iface);
  m.set('instance', instance);
  return m.compact(8);
}

// ---- vrrp_instance, vrrp_sync_group ----------------------------------------------------------

const notifyKeys: Rules = {
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

export const authentication = keywordTable('authentication', {
  auth_type: translated((st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    const v = a.text.toUpperCase();
    if (v !== 'PASS' && v !== 'AH') t.report(a, `auth_type: "${a.text}" is not PASS or AH, not translated`);
    else out.set('auth_type', v, st);
  }),
  auth_pass: text(),
});

export const vrrpInstance = keywordTable('vrrp_instance', {
  ...notifyKeys,
  // keepalived's old spelling: the sync daemon bound to this instance.
  lvs_sync_daemon_interface: translated((st, out, { t, sections }) => {
    const a = t.arg(st);
    const name = out.get('name')?.toJSON();
    if (a === undefined || typeof name !== 'string') return;
    if (sections.global.has('lvs_sync_daemon')) {
      t.report(st.keyword, 'lvs_sync_daemon_interface: a sync daemon is already configured, not translated');
      return;
    }
    sections.global.set('lvs_sync_daemon', syncDaemonFor(t, a.text, name), st);
    t.extra(st, 1);
  }),
  state: translated((st, out, { t }) => {
    const a = t.arg(st);
    if (a === undefined) return;
    const v = a.text.toUpperCase();
    if (v !== 'MASTER' && v !== 'BACKUP') t.report(a, `state: "${a.text}" is not MASTER or BACKUP, not translated`);
    else out.set('state', v, st);
    t.extra(st, 1);
  }),
  interface: text(),
  virtual_router_id: int(undefined, 1, 255),
  priority: int(undefined, 1, 255),
  advert_int: timer(),
  version: int(undefined, 2, 3),
  nopreempt: translated((st, out, { t }) => {
    out.set('nopreempt', true, st);
    t.extra(st, 0);
  }),
  preempt: translated((st, out, { t }) => {
    out.set('nopreempt', false, st);
    t.extra(st, 0);
  }),
  preempt_delay: timer(),
  authentication: translated((st, out, cx) => {
    const m = cx.t.map();
    cx.t.walk(cx.t.needBlock(st), authentication, m, cx);
    out.set('authentication', m.compact(), st);
  }),
  mcast_src_ip: text(),
  unicast_src_ip: text(),
  mcast_dst_ip: text(),
  unicast_peer: translated((st, out, { t }) => {
    const list = t.seq();
    for (const e of t.needBlock(st) ?? []) {
      list.push(e.keyword.text, e);
      if (e.args.length > 0) t.unsupported(e.args[0], 'ulvs accepts adverts of any TTL from its peers', `unicast_peer ${e.args.map((a) => a.text).join(' ')}`);
    }
    out.set('unicast_peer', list, st);
  }),
  virtual_ipaddress: translated((st, out, { t }) => addressList(st, out, t, 'virtual_ipaddress')),
  virtual_ipaddress_excluded: translated((st, out, { t }) => addressList(st, out, t, 'virtual_ipaddress_excluded')),
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
  native_ipv6: no(WHY.family),
  track_process: no(WHY.trackProcess),
  track_bfd: no(WHY.bfd),
  track_src_ip: no(WHY.none),
  check_unicast_src: no('ulvs always checks it: a unicast advert from a source not in unicast_peer is dropped (counted as unknown_peer); leave it out'),
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
});

export const syncGroup = keywordTable('vrrp_sync_group', {
  ...notifyKeys,
  group: nameList('group'),
  track_interface: trackList('track_interface', 253),
  track_script: trackList('track_script', 253),
  track_file: trackList('track_file', 254),
  track_process: no(WHY.trackProcess),
  track_bfd: no(WHY.bfd),
  global_tracking: no('deprecated in keepalived: track on the sync group instead'),
  sync_group_tracking_weight: no(WHY.none),
});

// ---- the top-level VRRP blocks -----------------------------------------------------------------

export function translateStaticAddresses(st: Statement, { t, sections }: Context): void {
  for (const e of t.needBlock(st) ?? []) {
    const a = address(e, t);
    if (a !== undefined) sections.statics.push(a, e);
  }
}

export function translateScript(st: Statement, cx: Context): void {
  const name = cx.t.named(st);
  if (name === undefined) return;
  const m = cx.t.map();
  cx.t.walk(cx.t.needBlock(st), vrrpScript, m, cx);
  if (!m.has('script')) {
    // keepalived: "No script set for vrrp_script NAME - removing" (a warning; it runs on).
    cx.t.report(st.keyword, `vrrp_script ${name} has no script: removed, as keepalived removes it (its track_script entries are ignored)`);
    (cx.sections.removedScripts ??= new Set()).add(name);
    return;
  }
  cx.sections.scripts.set(name, m.compact(), st);
}

export function translateTrackFile(st: Statement, cx: Context): void {
  const name = cx.t.named(st);
  if (name === undefined) return;
  const m = cx.t.map();
  cx.t.walk(cx.t.needBlock(st), st.keyword.text === 'track_file' ? trackFile : vrrpTrackFile, m, cx);
  cx.sections.trackFiles.set(name, m.compact(), st);
}

export function translateInstance(st: Statement, cx: Context): void {
  const { t, sections } = cx;
  const name = t.named(st);
  if (name === undefined) return;
  const m = t.map();
  m.set('name', name, st);
  t.walk(t.needBlock(st), vrrpInstance, m, cx);
  const iface = m.get('interface')?.toJSON();
  if (typeof iface === 'string') sections.firstInterface ??= iface;
  else if (m.size > 1) {
    const fallback = cx.opts.interface ?? 'eth0';
    m.set('interface', fallback);
    t.report(st.keyword, `vrrp_instance ${name} names no interface; ulvs needs one: set to ${fallback}`);
  }
  sections.instances.push(m);
}

export function translateSyncGroup(st: Statement, cx: Context): void {
  const name = cx.t.named(st);
  if (name === undefined) return;
  const m = cx.t.map();
  m.set('name', name, st);
  const block = cx.t.needBlock(st) ?? [];
  // Instance names written straight in the block, without `group { }`: keepalived reads each
  // as an unknown keyword and then removes the group as empty ("has no virtual router(s)").
  // The intent is plain, so ulvs takes them as the group's members and says so.
  const bare = block.some((e) => e.keyword.text === 'group') ? [] : block.filter((e) => !Object.hasOwn(syncGroup.rules, e.keyword.text) && e.args.length === 0 && e.block === undefined);
  if (bare.length > 0) {
    const list = cx.t.seq();
    for (const e of bare) list.push(e.keyword.text, e);
    m.set('group', list, bare[0]);
    cx.t.report(bare[0].keyword, `warning: vrrp_sync_group ${name} lists ${bare.map((e) => e.keyword.text).join(', ')} without "group { }": taken as its members (keepalived would report unknown keywords and remove the empty group)`);
  }
  cx.t.walk(block.filter((e) => !bare.includes(e)), syncGroup, m, cx);
  cx.sections.syncGroups.push(m);
}
