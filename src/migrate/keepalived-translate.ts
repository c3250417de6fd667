/**
 * keepalived statements -> ulvs YAML (CONFIG.md: the same blocks and keyword names, snake_case).
 * Every keyword of keepalived.conf(5)'s VRRP, LVS and checker blocks is either translated or
 * reported as `FILE:LINE: KEYWORD not supported by ulvs (why)`; unknown words are reported with
 * a did-you-mean. Nothing is dropped in silence.
 *
 * This file holds the top level and the dataplane section; the blocks' keywords are tables in
 * vrrp-keywords.ts, lvs-keywords.ts, checker-keywords.ts and unsupported-keywords.ts, run by
 * translator.ts. keyword-tables.ts lists them all.
 */
import type { PartCounts } from './losses.js';
import type { MigrateDiagnostic } from './errors.js';
import type { Statement } from './keepalived-tree.js';
import { translateLocalAddressGroup, translateServerGroup, translateService } from './lvs-keywords.js';
import { keywordTable, no, translated, Translator, type Context, type Handler, type Sections, type TranslateOptions } from './translator.js';
import { TOP_UNSUPPORTED } from './unsupported-keywords.js';
import { globalDefs, translateInstance, translateScript, translateStaticAddresses, translateSyncGroup, translateTrackFile } from './vrrp-keywords.js';
import type { OutMap, YamlBuilder } from './yaml-out.js';

export type { TranslateOptions } from './translator.js';

export interface Translation {
  builder: YamlBuilder;
  root: OutMap;
  reports: MigrateDiagnostic[];
  /** what the input asks for (losses.ts), when the reader counts it itself */
  asked?: PartCounts;
}

/** A top-level block fills the sections; it has no map of its own to write to. */
const block = (translate: (st: Statement, cx: Context) => void): Handler => (st, _out, cx) => translate(st, cx);

const topLevelRules = {
  global_defs: translated(block((st, cx) => {
    cx.sections.globalFrom ??= st;
    cx.t.extra(st, 0);
    cx.t.walk(cx.t.needBlock(st), globalDefs, cx.sections.global, cx);
  })),
  static_ipaddress: translated(block(translateStaticAddresses)),
  vrrp_script: translated(block(translateScript)),
  track_file: translated(block(translateTrackFile)),
  vrrp_track_file: translated(block(translateTrackFile)),
  vrrp_instance: translated(block(translateInstance)),
  vrrp_sync_group: translated(block(translateSyncGroup)),
  virtual_server_group: translated(block(translateServerGroup)),
  virtual_server: translated(block(translateService)),
  local_address_group: translated(block(translateLocalAddressGroup)),
  ...Object.fromEntries(Object.entries(TOP_UNSUPPORTED).map(([kw, why]) => [kw, no(why)])),
};

/** The blocks keepalived.conf holds at its top level. */
export const topLevel = keywordTable('the top level', topLevelRules);

function newSections(t: Translator): Sections {
  return {
    global: t.map(), statics: t.seq(), scripts: t.map(), trackFiles: t.map(), instances: t.seq(),
    syncGroups: t.seq(), groups: t.seq(), services: t.seq(), groupNames: new Set(),
  };
}

export function translateKeepalived(tree: Statement[], opts: TranslateOptions): Translation {
  const t = new Translator();
  const root = t.map();
  const sections = newSections(t);
  const cx: Context = { t, opts, sections, urlLists: new Map() };

  // Unlike a block, the top level may repeat its blocks (every vrrp_instance adds one).
  for (const st of tree) {
    const kw = st.keyword.text;
    if (Object.hasOwn(topLevel.rules, kw)) topLevel.rules[kw].apply(st, root, cx);
    else if (Object.hasOwn(globalDefs.rules, kw)) t.report(st.keyword, `${kw} belongs inside global_defs { }, not translated`);
    else t.unknown(st, topLevel.block, Object.keys(topLevel.rules));
  }

  const { global, globalFrom, statics, scripts, trackFiles, instances, syncGroups, groups, services } = sections;
  if (global.size > 0) root.set('global_defs', global, globalFrom ? { commentsBefore: globalFrom.commentsBefore, comment: globalFrom.comment } : undefined);
  root.set('dataplane', dataplaneSection(cx).compact());
  if (statics.size > 0) root.set('static_ipaddress', statics);
  if (scripts.size > 0) root.set('vrrp_scripts', scripts);
  if (trackFiles.size > 0) root.set('track_files', trackFiles);
  if (instances.size > 0) root.set('vrrp_instances', instances);
  if (syncGroups.size > 0) root.set('vrrp_sync_groups', syncGroups);
  if (groups.size > 0) root.set('virtual_server_groups', groups);
  if (sections.localGroups) root.set('local_address_groups', sections.localGroups);
  if (services.size > 0) root.set('virtual_servers', services);
  return { builder: t.yaml, root, reports: t.reports };
}

/** dataplane: where ulvs takes packets (no keepalived equivalent: it used the kernel's IPVS). */
function dataplaneSection({ t, opts, sections }: Context): OutMap {
  const { firstInterface, firstNat } = sections;
  const dataplane = t.map();
  const defaultIf = sections.global.get('default_interface')?.toJSON();
  const iface = opts.interface ?? firstInterface ?? (typeof defaultIf === 'string' ? defaultIf : undefined);
  if (iface === undefined) {
    t.report({ file: opts.mainFile, line: 1, col: 1 }, 'no interface found (no vrrp_instance names one): dataplane.interface is eth0; rerun with --interface IF to change it');
  }
  dataplane.set('interface', iface ?? 'eth0', { commentsBefore: [opts.interface ? 'from --interface' : firstInterface ? 'the interface of the first vrrp_instance' : 'no vrrp_instance names an interface: check this one'] });
  if (opts.inside !== undefined) dataplane.set('inside', opts.inside, { comment: 'from --inside: NAT real servers are behind it' });
  else if (firstNat) dataplane.set('inside', 'auto', { comment: 'NAT: the interface the kernel routes the real servers through (--inside IF names one)' });
  return dataplane;
}
