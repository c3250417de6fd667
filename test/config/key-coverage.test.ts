// Nothing accepted is ignored: every key the ulvs.yaml schema takes (found by walking the zod
// schema, so a new key is found without being listed) is either refused at load with its reason
// (src/config/refused-keys.ts) or acted on by the runtime, with a named test that shows it
// (key-coverage-table.ts). A key in neither fails here.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError, loadConfigText } from '../../src/config/index.js';
import { keyName, schemaKeyPaths } from '../../src/config/key-paths.js';
import { REFUSED_KEYS, findRefusedKeys, keyPathMatches } from '../../src/config/refused-keys.js';
import { COVERED, READ_BUT_UNTESTED } from './key-coverage-table.js';

const paths = schemaKeyPaths();
/** Keys that hold other keys are blocks: their keys are checked one by one. */
const leaves = paths.filter((p) => !paths.some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[].`)));
const matching = (table: Readonly<Record<string, unknown>>, path: string) => Object.keys(table).filter((pattern) => keyPathMatches(pattern, path));

const mentions = new Map<string, string>();
function fileMentions(file: string, key: string): boolean | 'missing' {
  if (!existsSync(file)) return 'missing';
  if (!mentions.has(file)) mentions.set(file, readFileSync(file, 'utf8'));
  return new RegExp(`\\b${key}\\b`).test(mentions.get(file)!);
}

t.test('the schema walk finds the keys, blocks, lists and records', async (t) => {
  t.ok(leaves.length > 200, `${leaves.length} keys`);
  for (const p of ['global_defs.router_id', 'vrrp_scripts.*.script', 'virtual_servers[].real_servers[].http_get.url[].digest',
    'vrrp_instances[].virtual_ipaddress[].label', 'vrrp_instances[].track_script[].weight', 'dataplane.lvs_timeouts.tcp']) {
    t.ok(leaves.includes(p), p);
  }
});

t.test('every key is refused with a reason, or covered by a named test that mentions it', async (t) => {
  const counts = { supported: 0, untested: 0, refused: 0, ignored: [] as string[] };
  for (const path of leaves) {
    const key = keyName(path);
    const refused = matching(REFUSED_KEYS, path);
    const covered = matching(COVERED, path);
    const untested = matching(READ_BUT_UNTESTED, path);
    if (refused.length > 0) {
      counts.refused++;
      t.equal(covered.length, 0, `${path} is refused, so no test may claim the runtime reads it`);
      continue;
    }
    if (covered.length > 0) {
      counts.supported++;
      const file = COVERED[covered[0]];
      t.equal(fileMentions(file, key), true, `${path}: ${file} exists and mentions ${key}`);
    } else if (untested.length > 0) {
      counts.untested++;
      const source = READ_BUT_UNTESTED[untested[0]];
      t.equal(fileMentions(source, key), true, `${path}: read by ${source} (no test sets it yet)`);
    } else {
      counts.ignored.push(path);
    }
  }
  t.same(counts.ignored, [], 'no key is accepted and ignored: add its test to COVERED or refuse it in src/config/refused-keys.ts');
  t.comment(`keys: ${counts.supported} supported with a test, ${counts.untested} read but untested, ${counts.refused} refused, ${counts.ignored.length} accepted and ignored`);
});

t.test('every table entry names a key the schema has (no stale entries)', async (t) => {
  for (const table of [COVERED, READ_BUT_UNTESTED, REFUSED_KEYS] as Readonly<Record<string, unknown>>[]) {
    for (const pattern of Object.keys(table)) t.ok(leaves.some((p) => keyPathMatches(pattern, p)), `${pattern} matches a schema key`);
  }
});

t.test('a refused key is an error at its line and column, with the reason, and nothing else is lost', async (t) => {
  const yaml = [
    'track_files:',
    '  tf: { file: /run/ch-tf, init_file: 0 }',
    'virtual_servers:',
    '  - vip: 198.18.0.100',
    '    port: 80',
    '    lb_kind: DR',
    '    real_servers:',
    '      - ip: 198.18.0.10',
    '        tcp_check: { bind_if: eth1, connect_timeout: 3 }',
    '      - ip: 198.18.0.11',
    '        weight: -1',
    '',
  ].join('\n');
  try {
    loadConfigText(yaml, 'refused.yaml');
    t.fail('a refused key must not load');
  } catch (e) {
    t.ok(e instanceof ConfigError);
    const lines = (e as ConfigError).format().split('\n');
    t.match(lines, [
      /^refused\.yaml:2:27: init_file not supported by ulvs \(ulvs reads track files but never creates/,
      /^refused\.yaml:9:22: bind_if not supported by ulvs \(.*use bindto/,
      /^refused\.yaml:11:17: /,
    ]);
    t.equal(lines.length, 3, 'the refusals and the schema error, all at once');
  }
});

t.test('findRefusedKeys walks lists, records and any-key segments of the value as written', async (t) => {
  const found = findRefusedKeys({
    virtual_servers: [{ real_servers: [{ http_get: { bind_if: 'a' } }, { misc_check: { misc_path: 'x' } }] }, { fwmark: 3 }],
    track_files: { a: { file: 'f' }, b: { file: 'g', init_file: 1 } },
    global_defs: 'not a mapping',
  });
  t.same(found.map((f) => f.path.join('.')).sort(), ['track_files.b.init_file', 'virtual_servers.0.real_servers.0.http_get.bind_if', 'virtual_servers.1.fwmark']);
  t.same(findRefusedKeys(null), []);
  t.same(findRefusedKeys([1, 2]), []);
});
