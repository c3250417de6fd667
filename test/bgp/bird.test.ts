// bird2's include file and the readers of birdc's answers (src/bgp/bird.ts); the rendered file
// is also checked by bird itself (`bird -p`, the parse-only mode) when bird2 is installed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { configureOutcome, INCLUDE_HEADER, isOurInclude, parseProtocols, renderInclude } from '../../src/bgp/bird.js';
import type { Announcement } from '../../src/bgp/decision.js';

t.test('announced VIPs become host routes with their MED; withdrawn ones are absent', async (t) => {
  const text = renderInclude('ulvs_vips', new Map<string, Announcement>([
    ['198.18.0.101', { announce: true, med: 1000 }], ['198.18.0.100', { announce: true, med: 0 }], ['198.18.0.102', { announce: false }],
  ]));
  t.equal(text, [INCLUDE_HEADER, 'protocol static ulvs_vips {', '  ipv4;',
    '  route 198.18.0.100/32 unreachable { bgp_med = 0; };', '  route 198.18.0.101/32 unreachable { bgp_med = 1000; };', '}', ''].join('\n'));
  t.ok(isOurInclude(text));
  t.notOk(isOurInclude('protocol bgp x {}\n'), 'a file ulvs did not write is not ours');
  const v6 = renderInclude('p', new Map<string, Announcement>([['2001:2::100', { announce: true, med: 5 }]]));
  t.match(v6, /protocol static p6 \{\n  ipv6;\n  route 2001:2::100\/128 unreachable \{ bgp_med = 5; \};\n\}/);
});

t.test('bird itself parses what ulvs writes (bird -p)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k9-bird-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const arb = fc.uniqueArray(fc.tuple(fc.ipV4(), fc.option(fc.integer({ min: 0, max: 4294967295 }))), { maxLength: 8, selector: ([ip]) => ip });
  for (const sample of fc.sample(arb, 10)) {
    const include = join(dir, 'inc.conf');
    writeFileSync(include, renderInclude('ulvs_vips', new Map(sample.map(([ip, med]) => [ip, med === null ? { announce: false } : { announce: true, med }]))));
    writeFileSync(join(dir, 'bird.conf'), `router id 198.18.0.1;\nprotocol device {}\ninclude "${include}";\n`);
    t.doesNotThrow(() => execFileSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { stdio: 'pipe' }), `${sample.length} routes parse`);
  }
});

t.test("birdc's answers: configure's verdict and the BGP sessions", async (t) => {
  t.same(configureOutcome('BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\nReconfigured\n'), { ok: true });
  t.same(configureOutcome('BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\n/etc/bird/ulvs.conf:10:1 syntax error, unexpected GARBAGE\n'),
    { ok: false, error: '/etc/bird/ulvs.conf:10:1 syntax error, unexpected GARBAGE' });
  const sessions = parseProtocols(['BIRD 2.0.12 ready.', 'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     04:15:22.306  ', 'ulvs_vips  Static     master4    up     04:15:22.306  ',
    'router     BGP        ---        up     04:15:23.101  Established   ', 'backup     BGP        ---        start  04:15:22.306  Active        Socket: Connection refused'].join('\n'));
  t.same(sessions, [{ name: 'router', state: 'up', info: 'Established' }, { name: 'backup', state: 'start', info: 'Active Socket: Connection refused' }]);
});

t.test('routes through the liveness interface parse too (bird -p)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k9-bird-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const text = renderInclude('ulvs_vips', new Map<string, Announcement>([['198.18.0.100', { announce: true, med: 0 }]]), 'ulvs-bgp');
  t.match(text, /route 198\.18\.0\.100\/32 via "ulvs-bgp" \{ bgp_med = 0; \};/);
  writeFileSync(join(dir, 'inc.conf'), text);
  writeFileSync(join(dir, 'bird.conf'), `router id 198.18.0.1;\nprotocol device {}\ninclude "${join(dir, 'inc.conf')}";\n`);
  t.doesNotThrow(() => execFileSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { stdio: 'pipe' }));
});
