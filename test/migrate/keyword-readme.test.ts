// README.md's keyword table is the one the translators' tables give: regenerate it with
// `npm run docs:keywords` when a keyword changes.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { TABLE_BEGIN, TABLE_END, renderKeywordTable, withKeywordTable } from '../../src/migrate/keyword-doc.js';
import { keywordEntries } from '../../src/migrate/keyword-tables.js';

const readme = readFileSync('README.md', 'utf8');

t.test('the README holds the generated keyword table, byte for byte', async (t) => {
  t.ok(readme.includes(TABLE_BEGIN) && readme.includes(TABLE_END), 'the markers are there');
  t.equal(readme, withKeywordTable(readme), 'README.md is stale: run `npm run docs:keywords`');
});

t.test('the table lists every keyword of every block, and a refusal with its reason', async (t) => {
  const table = renderKeywordTable();
  for (const e of keywordEntries()) t.ok(table.includes(`\`${e.keyword}\``), `${e.block} ${e.keyword}`);
  t.match(table, /\| [^|]*`bind_if`[^|]* \| refused: checks leave from sockets that cannot be bound to a device/);
  t.match(table, /\*\*ldirectord\.cf, virtual\*\*/);
  t.match(table, /`virtual6`.*`real6` \| supported/, "ldirectord IPv6 services translated (check-config refuses them until they forward)");
  t.match(table, /0 accepted without effect/);
  t.throws(() => withKeywordTable('no markers here'), /no keyword table markers/);
});
