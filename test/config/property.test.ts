// Whatever a user (or a fuzzer) writes, loadConfig returns a config or throws a ConfigError
// whose every diagnostic is a well-formed FILE:LINE:COL: message. Nothing else escapes.
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, formatDiagnostic, loadConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ulvs-cfg-prop-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'fuzz.yaml');

function outcome(content: string | Uint8Array): 'ok' | 'config-error' {
  writeFileSync(file, content);
  try {
    loadConfig(file);
    return 'ok';
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`escaped: ${String((err as Error)?.stack ?? err)}`);
    if (err.diagnostics.length === 0) throw new Error('ConfigError without diagnostics');
    for (const d of err.diagnostics) {
      // loadConfig wraps a crash in a check as "internal error": that is a bug, not a verdict.
      if (d.message.startsWith('internal error')) throw new Error(d.message);
      if (!(d.line >= 1 && d.col >= 1 && Number.isInteger(d.line) && Number.isInteger(d.col))) throw new Error(`bad position ${JSON.stringify(d)}`);
      if (d.file !== file) throw new Error(`diagnostic names ${d.file}`);
      if (!formatDiagnostic(d).startsWith(`${file}:${d.line}:${d.col}: `) || d.message.length === 0) throw new Error(`bad format ${formatDiagnostic(d)}`);
    }
    return 'config-error';
  }
}

const YAML_ALPHABET = [...'abcdefgh_:-[]{},#&*!|>\'"%@` \n\t0123456789.'];
const keys = fc.constantFrom(
  'virtual_servers', 'real_servers', 'vip', 'port', 'ip', 'weight', 'lb_algo', 'lb_kind', 'dataplane',
  'vrrp_instances', 'track_script', 'vrrp_scripts', 'http_get', 'url', 'digest', 'name', 'include', 'xx',
);
const leaf = fc.oneof(
  fc.integer({ min: -70000, max: 70000 }), fc.double(), fc.boolean(), fc.constant(null), fc.string(),
  fc.constantFrom('198.18.0.100', 'wrr', 'DR', 'NAT', '200-299', 'eth0', '1.2.3.999', 'VI_1'),
);
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(keys, tie('node'), { maxKeys: 5 }),
  ),
})).node;

t.test('random bytes', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    outcome(bytes);
  }), { numRuns: 300 });
  t.pass('only ConfigError');
});

t.test('random YAML-ish text', async (t) => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...YAML_ALPHABET), { maxLength: 200 }).map((c) => c.join('')), (text) => {
    outcome(text);
  }), { numRuns: 500 });
  t.pass('only ConfigError');
});

t.test('random structures with the real keys', async (t) => {
  fc.assert(fc.property(tree, (value) => {
    outcome(stringify(value));
  }), { numRuns: 400 });
  t.pass('only ConfigError');
});

t.test('a valid sample with one value replaced anywhere', async (t) => {
  const sample = readFileSync('configs/seed-004.d/web.yaml', 'utf8');
  const lines = sample.split('\n');
  fc.assert(fc.property(fc.nat({ max: lines.length - 1 }), leaf, (index, value) => {
    const copy = [...lines];
    const line = copy[index];
    const colon = line.indexOf(': ');
    copy[index] = colon >= 0 ? `${line.slice(0, colon + 2)}${JSON.stringify(value)}` : line;
    outcome(copy.join('\n'));
  }), { numRuns: 300 });
  t.pass('only ConfigError');
});
