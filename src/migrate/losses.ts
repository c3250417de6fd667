/**
 * What a migration lost: the virtual servers, real servers, VRRP instances and checkers of the
 * input that the YAML does not have (a fwmark service without --iptables, a second checker on a
 * real server, an IPv6 address...). Counted on both sides, so no handler has to remember to
 * say it: `ulvs migrate` exits non-zero when anything is lost, unless --allow-partial.
 */
import { parse } from 'yaml';
import type { Statement } from './keepalived-tree.js';

export interface PartCounts {
  'virtual servers': number;
  'real servers': number;
  'vrrp instances': number;
  checkers: number;
}
export type Part = keyof PartCounts;
export interface Loss { part: Part; lost: number; of: number }

const zero = (): PartCounts => ({ 'virtual servers': 0, 'real servers': 0, 'vrrp instances': 0, checkers: 0 });
const CHECKER_KEYWORD = /^(?:[A-Z]+_CHECK|HTTP_GET|SSL_GET)$/;

/** The parts a keepalived.conf tree asks for. */
export function keepalivedParts(tree: readonly Statement[]): PartCounts {
  const n = zero();
  for (const st of tree) {
    if (st.keyword.text === 'vrrp_instance') n['vrrp instances']++;
    if (st.keyword.text !== 'virtual_server') continue;
    n['virtual servers']++;
    for (const rs of st.block ?? []) {
      if (rs.keyword.text !== 'real_server') continue;
      n['real servers']++;
      n.checkers += (rs.block ?? []).filter((c) => CHECKER_KEYWORD.test(c.keyword.text)).length;
    }
  }
  return n;
}

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => x !== null && typeof x === 'object') : []);

/** The parts the migrated YAML holds. */
export function yamlParts(yamlText: string): PartCounts {
  const n = zero();
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch {
    return n;
  }
  const root = (doc ?? {}) as Obj;
  n['vrrp instances'] = list(root.vrrp_instances).length;
  for (const vs of list(root.virtual_servers)) {
    n['virtual servers']++;
    for (const rs of list(vs.real_servers)) {
      n['real servers']++;
      n.checkers += Object.keys(rs).filter((k) => /_check$|^(?:http|ssl)_get$/.test(k)).length;
    }
  }
  return n;
}

export function losses(asked: PartCounts, got: PartCounts): Loss[] {
  return (Object.keys(asked) as Part[])
    .filter((p) => got[p] < asked[p])
    .map((p) => ({ part: p, lost: asked[p] - got[p], of: asked[p] }));
}

/** One line: `lost in translation: 1 of 2 virtual servers, 1 of 3 checkers`. */
export function formatLosses(list: readonly Loss[]): string {
  return `lost in translation: ${list.map((l) => `${l.lost} of ${l.of} ${l.part}`).join(', ')}`;
}
