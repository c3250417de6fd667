// The IPv6 path allocates nothing per packet: half a million rounds of NAT66 SYN, ACK and reply
// over a table that keeps evicting (4096 clients x 16 ports into 2048 slots), in a child
// running with --trace-gc, trigger no garbage collection once warmed up.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

t.test('no GC on the IPv6 path', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/hot-loop6.ts', import.meta.url));
  const result = spawnSync(process.execPath, [...process.execArgv, '--trace-gc', script], { encoding: 'utf8', timeout: 300_000 });
  t.equal(result.status, 0, result.stderr);
  const out = result.stdout;
  const begin = out.indexOf('BEGIN\n'), end = out.indexOf('END\n');
  t.ok(begin >= 0 && end > begin, 'markers printed');
  const during = out.slice(begin, end).split('\n').filter((line) => /Scavenge|Mark-Compact|Mark-sweep/i.test(line));
  t.same(during, [], 'no collection between the markers');
  t.match(out, /evictions [1-9]/, 'the table churned');
});
