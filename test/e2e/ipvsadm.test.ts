// `ulvs ipvsadm` against a running director in its own lab (prefix ia-): the listing after
// real traffic, the same binary invoked under the name `ipvsadm`, and a runtime drain
// (-e -w 0) that holds through `ulvs reload` until `--reset-runtime`.
// test/e2e/ipvsadm-table.test.ts has -a/-d under traffic and -S / -C / -R.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { labExec, waitFor } from '../../src/lab/index.js';
import { httpFrom, tally, ULVS } from './director.js';
import { startIpvsadmLab, VIP } from './ipvsadm-lab.js';

const prefix = 'ia-';
t.setTimeout(900_000); // every command is a node start-up inside a namespace: ~10 s on the shared machine

t.test('ulvs ipvsadm -Ln after traffic, and a drain that survives a reload', { timeout: 600_000 }, async (t) => {
  const { dir1, client, url, director, ulvs, ipvsadm, inact } = await startIpvsadmLab(t, prefix);

  // 30 new connections: rr shares them 15/15, and -Ln counts them per server.
  const first = await httpFrom(client, url, 30, 'new');
  t.same(tally(first.bodies), { rs1: 15, rs2: 15 }, 'rr split 15/15');
  const listed = (await ipvsadm(['-Ln'])).stdout;
  t.match(listed, /^IP Virtual Server version 1\.2\.1 \(size=\d+\)\nProt LocalAddress:Port Scheduler Flags\n {2}-> RemoteAddress:Port {11}Forward Weight ActiveConn InActConn\nTCP {2}198\.18\.0\.100:80 rr\n/, 'ipvsadm\'s header and service line');
  // A connection closed by RST leaves after IPVS's 10 s CLOSE timeout, which a slow listing can pass.
  const held = [inact(listed, '198.18.0.10'), inact(listed, '198.18.0.20')];
  t.ok(held.every((n) => n >= 10 && n <= 15), `-Ln counts the connections per server (${held.join(' / ')} of 15 / 15)`);
  t.match(listed, / {2}-> 198\.18\.0\.10:80 {15}Route {3}1 {6}\d+ +\d+ +\n/, 'InActConn padded to 10 columns, as %-10u');

  // --stats --exact: the dataplane's per-service and per-server counters, as ipvsadm prints them.
  type Stats = { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number };
  const statsOf = (listing: string, what: string): Stats | null => {
    const m = new RegExp(`^${what.replace(/[.[\]]/g, '\\$&')} +(\\d+) +(\\d+) +(\\d+) +(\\d+) +(\\d+)$`, 'm').exec(listing);
    return m ? { conns: +m[1], inPkts: +m[2], outPkts: +m[3], inBytes: +m[4], outBytes: +m[5] } : null;
  };
  const stats1 = (await ipvsadm(['-Ln', '--stats', '--exact'])).stdout;
  const svc1 = statsOf(stats1, 'TCP  198.18.0.100:80');
  t.equal(svc1?.conns, 30, '--stats: Conns 30 on the service');
  t.same([statsOf(stats1, '  -> 198.18.0.10:80')?.conns, statsOf(stats1, '  -> 198.18.0.20:80')?.conns], [15, 15], '--stats: 15 / 15 on the servers');
  t.ok((svc1?.inPkts ?? 0) >= 30 * 4, `--stats: InPkts counts every client packet (${svc1?.inPkts} for 30 connections)`);
  t.equal(svc1?.outPkts, 0, 'DR: nothing counted out, as IPVS');
  await httpFrom(client, url, 10, 'new');
  const svc2 = statsOf((await ipvsadm(['-Ln', '--stats', '--exact'])).stdout, 'TCP  198.18.0.100:80');
  t.ok((svc2?.inPkts ?? 0) > (svc1?.inPkts ?? 0) && svc2?.conns === 40, `InPkts grows with traffic (${svc1?.inPkts} -> ${svc2?.inPkts}), Conns 40`);
  const zero = await ipvsadm(['-Z']);
  t.same([zero.code, zero.stderr], [0, ''], '-Z accepted');
  t.same(statsOf((await ipvsadm(['-Ln', '--stats', '--exact'])).stdout, 'TCP  198.18.0.100:80'),
    { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 }, '-Z zeroes the service\'s counters');

  // The symlink: the same entry under the name ipvsadm.
  const linkDir = mkdtempSync(join(tmpdir(), 'ia-ipvsadm-'));
  t.teardown(() => rmSync(linkDir, { recursive: true, force: true }));
  symlinkSync(ULVS, join(linkDir, 'ipvsadm'));
  const viaLink = await labExec(dir1, [process.execPath, join(linkDir, 'ipvsadm'), '-Ln'], { timeoutMs: 120_000 });
  t.equal(viaLink.code, 0);
  t.equal(viaLink.stdout.split('\n').slice(0, 4).join('\n'), listed.split('\n').slice(0, 4).join('\n'), 'ipvsadm -Ln through the symlink');
  const usage = await labExec(dir1, [process.execPath, join(linkDir, 'ipvsadm'), '-L', '--bogus'], { timeoutMs: 120_000 });
  t.same([usage.code, usage.stderr], [255, '--bogus: unknown option\n'], 'popt\'s message and status');

  // Drain: an open keep-alive connection on rs1 continues, no new connection reaches rs1.
  // Long enough to outlast the commands below on a busy machine (each is a node start-up).
  // Beside it a stream of new connections, back to back for 60 s, timed by the client: the
  // last one the drained server got, against when the command started and returned.
  const stream = httpFrom(client, url, 60_000, 'duration');
  const long = httpFrom(client, url, 300, 'keepalive', 100);
  type Conn = { destination: string; state: string };
  let longOn = '';
  await waitFor(async () => {
    const conns = JSON.parse((await ulvs(['conns', '--json'])).stdout) as Conn[];
    longOn = conns.find((c) => c.state === 'ESTABLISHED')?.destination ?? '';
    return longOn !== '' && conns.length > 5; // the stream's connections are in the table too
  }, 30_000, 20);
  t.not(longOn, '', `the keep-alive connection is on ${longOn}`);
  const drained = longOn.split(':')[0];
  const other = drained === '198.18.0.10' ? 'rs2' : 'rs1';
  const drainedName = other === 'rs2' ? 'rs1' : 'rs2';
  const t0 = Date.now();
  const drain = await ipvsadm(['-e', '-t', VIP, '-r', `${drained}:80`, '-w', '0']);
  const t1 = Date.now();
  const drainMs = t1 - t0;
  t.same([drain.code, drain.stderr], [0, ''], '-e ... -w 0 accepted');
  const applied = /"ms":([\d.]+)[^\n]*runtime change applied/.exec(director.log());
  t.ok(applied, 'the director logs the change with its duration');
  t.comment(`figure: -e -w 0: ${Number(applied?.[1]).toFixed(1)} ms in the director from the request to every worker on the new snapshot; `
    + `${drainMs.toFixed(0)} ms for the whole command (mostly node start-up), loaded machine`);
  const after = await httpFrom(client, url, 30, 'new');
  t.same(tally(after.bodies), { [other]: 30 }, `no new connection reaches the drained ${drainedName} once the command returned`);
  const longResult = await long;
  t.equal(longResult.bodies.length, 300, 'the open connection kept going');
  t.same(new Set(longResult.bodies), new Set([drainedName]), `all its requests answered by ${drainedName}`);
  t.equal(longResult.sockets, 1, 'on one TCP connection');
  const streamed = await stream;
  t.same(streamed.bodies.filter((b) => b.startsWith('ERR')), [], `no failed request among the stream's ${streamed.bodies.length}`);
  const startsOn = (name: string) => streamed.starts.filter((_, i) => streamed.bodies[i] === name);
  const lastOnDrained = most(startsOn(drainedName));
  t.ok(least(streamed.starts) < t0 && lastOnDrained > Number.NEGATIVE_INFINITY, 'the stream was running (and reaching the drained server) before the command');
  t.ok(most(streamed.starts) > t1, 'and still after it returned');
  t.ok(lastOnDrained < t1, 'no connection started after the command returned reached the drained server');
  const firstAfter = least(streamed.starts.filter((s) => s > lastOnDrained));
  // pino's line carries when the director had every worker on the new table (time) and how long that took (ms).
  const appliedLine = director.log().split('\n').find((l) => l.includes('"runtime change applied"'));
  const appliedAt = appliedLine ? (JSON.parse(appliedLine) as { time: number }).time : Number.NaN;
  t.ok(lastOnDrained <= appliedAt, 'the drained server\'s last new connection started before the director had applied the change');
  const receivedAt = appliedAt - Number(applied?.[1]);
  t.comment(`figure: the drained server's last new connection started ${(lastOnDrained - receivedAt).toFixed(0)} ms after the director received `
    + `the change and ${(appliedAt - lastOnDrained).toFixed(0)} ms before every worker forwarded by the new table (applying took ${Number(applied?.[1]).toFixed(1)} ms)`);
  t.comment(`figure: -e -w 0 under a stream of new connections (${streamed.bodies.length} in 60 s): the last new connection on the drained server `
    + `started ${lastOnDrained - t0} ms after the command was started, ${t1 - lastOnDrained} ms before it returned (command ${drainMs} ms, `
    + `director ${Number(applied?.[1]).toFixed(1)} ms); the next connection started ${firstAfter - lastOnDrained} ms later`);

  const reload = await ulvs(['reload']);
  t.equal(reload.code, 0, 'ulvs reload');
  t.match((await ipvsadm(['-Ln'])).stdout, new RegExp(`-> ${drained.replace(/\./g, '\\.')}:80 +Route +0 `), 'the drain survives the reload');
  t.match((await ulvs(['list'])).stdout, /Runtime overrides[^\n]*\n {2}-e -t 198\.18\.0\.100:80 -r 198\.18\.0\.\d+:80 {2}\(weight=0\)/, 'ulvs list shows the override');
  t.same(tally((await httpFrom(client, url, 10, 'new')).bodies), { [other]: 10 }, 'still drained after the reload');
  const reset = await ulvs(['reload', '--reset-runtime']);
  t.equal(reset.code, 0, 'ulvs reload --reset-runtime');
  t.match((await ipvsadm(['-Ln'])).stdout, new RegExp(`-> ${drained.replace(/\./g, '\\.')}:80 +Route +1 `), '--reset-runtime brings the config weight back');

});

// Math.min/max(...xs) spread every element onto the stack: a quiet machine streams ~200,000
// requests here, past V8's argument limit ("Maximum call stack size exceeded"). Same results.
function least(xs: readonly number[]): number { return xs.reduce((m, x) => Math.min(m, x), Number.POSITIVE_INFINITY); }
function most(xs: readonly number[]): number { return xs.reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY); }
