// The keyword tables the translation runs are also the list of what ulvs does with every
// keepalived keyword: each entry knows its block, its keyword and its fate, and a refused
// keyword's report gives the reason its entry gives. One translation leaves nothing behind
// for the next.
import t from 'tap';
import { formatReport, migrateFile } from '../../src/migrate/index.js';
import { KEYWORD_TABLES, keywordEntries } from '../../src/migrate/keyword-tables.js';

function migrateText(text: string) {
  return migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', inside: 'eth1', readText: () => text });
}

t.test('every table and its rules are frozen: no translation can change them', async (t) => {
  for (const table of KEYWORD_TABLES) {
    t.ok(Object.isFrozen(table) && Object.isFrozen(table.rules), `${table.block} is frozen`);
  }
});

t.test('every entry knows its block, keyword and fate; refused ones say why', async (t) => {
  const entries = keywordEntries();
  t.ok(entries.length > 300, `${entries.length} keywords listed`);
  const blocks = new Set(entries.map((e) => e.block));
  for (const b of ['the top level', 'global_defs', 'vrrp_instance', 'vrrp_sync_group', 'virtual_server', 'real_server', 'HTTP_GET', 'url']) {
    t.ok(blocks.has(b), `block ${b} is listed`);
  }
  const keys = entries.map((e) => `${e.block} ${e.keyword}`);
  t.equal(new Set(keys).size, keys.length, 'no keyword twice in one block');
  for (const e of entries) {
    if (e.fate === 'translated') t.equal(e.reason, undefined, `${e.block} ${e.keyword}: translated, no reason`);
    else t.ok(e.reason && e.reason.length > 0, `${e.block} ${e.keyword}: ${e.fate} with a reason`);
  }
  t.match(entries.find((e) => e.block === 'vrrp_instance' && e.keyword === 'use_vmac'), { fate: 'refused', reason: /VMAC/ });
  t.match(entries.find((e) => e.block === 'virtual_server' && e.keyword === 'lb_algo'), { fate: 'translated' });
  t.match(entries.find((e) => e.block === 'real_server' && e.keyword === 'BFD_CHECK'), { fate: 'refused', reason: /BFD/ });
});

/** A config with `@@` where a keyword of the block goes. */
const WHERE: Record<string, string> = {
  'the top level': '@@\n',
  global_defs: 'global_defs {\n@@\n}\n',
  vrrp_instance: 'vrrp_instance V {\n interface eth0\n virtual_router_id 9\n@@\n}\n',
  vrrp_sync_group: 'vrrp_instance V {\n interface eth0\n virtual_router_id 9\n}\nvrrp_sync_group G {\n group {\n  V\n }\n@@\n}\n',
  virtual_server: 'virtual_server 198.18.0.100 80 {\n lb_kind DR\n@@\n}\n',
  real_server: 'virtual_server 198.18.0.100 80 {\n lb_kind DR\n real_server 198.18.0.10 80 {\n@@\n }\n}\n',
  url: 'virtual_server 198.18.0.100 80 {\n lb_kind DR\n real_server 198.18.0.10 80 {\n  HTTP_GET {\n   url {\n@@\n   }\n  }\n }\n}\n',
};

t.test('a refused keyword is reported with the reason of its entry', async (t) => {
  const refused = keywordEntries().filter((e) => e.fate === 'refused' && WHERE[e.block] !== undefined);
  t.ok(refused.length > 100, `${refused.length} refused keywords tried`);
  for (const e of refused) {
    const line = WHERE[e.block].split('\n').indexOf('@@') + 1;
    const reports = migrateText(WHERE[e.block].replace('@@', `${e.keyword} 1`)).reports.map(formatReport);
    t.ok(reports.some((r) => r.startsWith(`in.conf:${line}: `) && r.includes(`not supported by ulvs (${e.reason}`)),
      `${e.block} ${e.keyword}: reported with its reason`, { found: reports });
  }
});

t.test('two translations in one process do not interfere', async (t) => {
  const a = 'test/migrate/fixtures/features.conf';
  const b = 'test/migrate/fixtures/seed004-http.conf';
  const first = migrateFile(a, { routerId: 'lab' });
  const other = migrateFile(b, { routerId: 'lab' });
  const again = migrateFile(a, { routerId: 'lab' });
  t.equal(again.yaml, first.yaml, 'the same YAML after another translation');
  t.same(again.reports, first.reports, 'the same reports');
  t.notOk(other.reports.some((r) => r.file === a), 'no report of one translation shows up in the other');
  t.equal(migrateFile(b, { routerId: 'lab' }).yaml, other.yaml, 'the other one too is the same each time');
  // Both http_get url lists (several url blocks append to one list) start empty each time.
  t.equal((first.yaml.match(/^\s+url:/gm) ?? []).length, (again.yaml.match(/^\s+url:/gm) ?? []).length);
});
