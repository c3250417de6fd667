/**
 * Every keepalived keyword ulvs knows, block by block, with what ulvs does with it: the list a
 * README table of keepalived keywords can be generated from. It reads the same tables the
 * translation runs, so it cannot drift from what `ulvs migrate` does.
 */
import { checkerTables, urlTable } from './checker-keywords.js';
import { topLevel } from './keepalived-translate.js';
import { realServer, virtualServer } from './lvs-keywords.js';
import type { Fate, KeywordTable } from './translator.js';
import { authentication, globalDefs, syncGroup, trackFile, vrrpInstance, vrrpScript, vrrpTrackFile } from './vrrp-keywords.js';

export interface KeywordEntry {
  /** the keepalived block the keyword is written in (`the top level` for top-level blocks) */
  block: string;
  keyword: string;
  fate: Fate;
  /** why ulvs refuses or ignores it */
  reason?: string;
}

/** The tables in the order keepalived.conf(5) describes the blocks. */
export const KEYWORD_TABLES: readonly KeywordTable[] = Object.freeze([
  topLevel, globalDefs, vrrpScript, trackFile, vrrpTrackFile, vrrpInstance, authentication, syncGroup,
  virtualServer, realServer, ...Object.values(checkerTables).map(([, table]) => table), urlTable,
]);

export function keywordEntries(): KeywordEntry[] {
  return KEYWORD_TABLES.flatMap((table) => Object.entries(table.rules).map(([keyword, rule]) => ({
    block: table.block, keyword, fate: rule.fate, ...(rule.reason !== undefined ? { reason: rule.reason } : {}),
  })));
}
