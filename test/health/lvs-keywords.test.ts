// keepalived's LVS keywords that act on the checkers and the tables, as keepalived does them:
// ha_suspend, omega, sorry_server_inhibit, checker_log_all_failures, log_all_failures,
// fast_recovery, regex_min_offset / regex_max_offset, and protocol SCTP (refused).
// Pure parts directly; the manager with the fake clock (src/health/clock.ts) and an injected
// runner, so nothing waits on wall time.
import t from 'tap';
import { HealthManager, type CheckDefinition } from '../../src/health/manager.js';
import type { CheckResult } from '../../src/health/types.js';
import { dampingConfig, recoveryProbes } from '../../src/health/damping.js';
import { probePaused, shutdownScripts, suspendedServices } from '../../src/health/lvs-flags.js';
import { judgeHttpResponse, regexMatchesWithin } from '../../src/health/http.js';
import { ConfigError, formatDiagnostic, loadConfigText } from '../../src/config/index.js';
import { compileSnapshot, IdRegistry, type CompileContext } from '../../src/control/compile.js';
import { ipToNumber } from '../../src/packet/addr.js';
import { migrateFile } from '../../src/migrate/index.js';
import { ManualClock } from '../support/manual-clock.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
const fast = { delay_loop: 1, warmup: 0, connect_timeout: 0.5, retry: 0 };

function countingRunner(answer: () => CheckResult) {
  const calls: string[] = [];
  return {
    calls,
    runner: async (_type: unknown, target: { ip: string; port: number }) => { calls.push(`${target.ip}:${target.port}`); return answer(); },
  };
}

function captureLogger() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    logger: {
      info: (_o: object, msg?: string) => { lines.push({ level: 'info', msg: msg ?? '' }); },
      warn: (_o: object, msg?: string) => { lines.push({ level: 'warn', msg: msg ?? '' }); },
    },
  };
}

t.test('ha_suspend: checks of a service whose VIP is elsewhere pause, and resume with it', async (t) => {
  t.same([...suspendedServices([
    { id: 'a', ha_suspend: true, vips: ['198.18.0.100'] },
    { id: 'b', ha_suspend: false, vips: ['198.18.0.100'] },
    { id: 'g', ha_suspend: true, vips: ['198.18.0.100', '198.18.0.101'] },
  ], (vip) => vip === '198.18.0.101')], ['a'], 'a group stays active while one of its VIPs is here; no ha_suspend never pauses');
  t.equal(probePaused(['a', 'b'], new Set(['a'])), false, 'a probe shared with an active service keeps running');
  t.equal(probePaused(['a'], new Set(['a'])), true);

  const clock = new ManualClock();
  const run = countingRunner(() => ({ ok: false, reason: 'refused' }));
  const log = captureLogger();
  const defs: CheckDefinition[] = [
    { serviceId: 'vs', rsKey: '198.18.0.10:80', target: { ip: '198.18.0.10', port: 80 }, type: 'tcp_check', params: { ...fast } },
  ];
  const hm = new HealthManager(defs, {
    clock, runner: run.runner, logger: log.logger,
    services: [{ id: 'vs', ha_suspend: true, vips: ['198.18.0.100'] }],
  });
  let vipHere = false;
  hm.setVipPresence(() => vipHere);
  hm.start();
  t.teardown(() => hm.stop());
  await clock.advance(5500, flush);
  t.equal(run.calls.length, 0, 'no probe while the VIP is on another director');
  t.equal(hm.status()[0].up, true, 'the real server keeps its state while suspended');
  t.ok(log.lines.some((l) => /Suspending healthcheckers for VS vs/.test(l.msg)), 'suspension is logged');
  vipHere = true;
  hm.setVipPresence(() => vipHere);
  await clock.advance(2500, flush);
  t.ok(run.calls.length >= 1, `probes resume once the VIP is here (${run.calls.length})`);
  t.equal(hm.status()[0].up, false, 'and their verdicts count again');
  t.ok(log.lines.some((l) => /Activating healthcheckers for VS vs/.test(l.msg)));
});

t.test('omega: at shutdown notify_down of live servers and quorum_down run; without omega nothing', async (t) => {
  t.same(shutdownScripts({ omega: true, quorum_down: 'qd' }, [{ up: true, notifyDown: 'd1' }, { up: false, notifyDown: 'd2' }, { up: true }]), ['d1', 'qd']);
  t.same(shutdownScripts({ omega: false, quorum_down: 'qd' }, [{ up: true, notifyDown: 'd1' }]), []);
  for (const omega of [true, false]) {
    const ran: string[] = [];
    const clock = new ManualClock();
    const run = countingRunner(() => ({ ok: true, reason: 'ok' }));
    const hm = new HealthManager([
      { serviceId: 'vs', rsKey: '198.18.0.10:80', target: { ip: '198.18.0.10', port: 80 }, type: 'tcp_check', params: { ...fast }, notify_down: '/bin/rs-down' },
    ], { clock, runner: run.runner, runScript: (c) => ran.push(c), services: [{ id: 'vs', omega, quorum_down: '/bin/quorum-down' }] });
    hm.start();
    await clock.advance(1500, flush);
    await hm.stop({ shutdown: true });
    t.same(ran, omega ? ['/bin/rs-down', '/bin/quorum-down'] : [], `omega ${omega}`);
  }
  const ran: string[] = [];
  const hm = new HealthManager([], { runScript: (c) => ran.push(c), services: [{ id: 'vs', omega: true, quorum_down: '/bin/quorum-down' }] });
  hm.start();
  await hm.stop();
  t.same(ran, [], 'a stop that is not a shutdown (tests, reload) runs nothing');
});

const SORRY_YAML = (inhibit: boolean) => `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    sorry_server: { ip: 198.18.0.50, port: 8080 }
    sorry_server_inhibit: ${inhibit}
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
`;

t.test('sorry_server_inhibit: the sorry server stays with weight 0 while quorum is up', async (t) => {
  const ctx = (sorry: boolean): CompileContext => ({
    macOf: () => null, healthOf: () => ({ up: !sorry }), sorryActive: () => sorry, ownsVip: () => true, tunnelSource: 0,
  });
  const sorryIp = ipToNumber('198.18.0.50');
  for (const inhibit of [true, false]) {
    const config = loadConfigText(SORRY_YAML(inhibit), 'sorry.yaml').config;
    const ids = new IdRegistry();
    const up = compileSnapshot(config, ids, ctx(false), 1).services[0].realServers.find((r) => r.ip === sorryIp);
    const lost = compileSnapshot(config, ids, ctx(true), 2).services[0].realServers.find((r) => r.ip === sorryIp);
    if (inhibit) t.match(up, { weight: 0, available: true, port: 8080 }, 'sorry_server_inhibit: in the table with weight 0');
    else t.equal(up, undefined, 'without it the sorry server is out of the table while quorum is up');
    t.match(lost, { weight: 1, available: true }, 'quorum lost: the sorry server takes the traffic');
    if (inhibit) t.equal(up!.rsId, lost!.rsId, 'same endpoint id, so its connections carry on across the change');
  }
});

t.test('checker_log_all_failures / log_all_failures: every failed probe of a live server is logged', async (t) => {
  const global = loadConfigText(`
global_defs: { checker_log_all_failures: true }
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80, tcp_check: { retry: 2 } }
      - { ip: 198.18.0.11, port: 80, tcp_check: { log_all_failures: false } }
`, 'g.yaml').config;
  const checks = global.virtual_servers[0].real_servers.map((rs) => rs.check?.log_all_failures);
  t.same(checks, [true, false], 'the global default reaches the checkers; a checker may turn it off');
  for (const logAll of [true, false]) {
    const clock = new ManualClock();
    const log = captureLogger();
    const run = countingRunner(() => ({ ok: false, reason: 'connection refused' }));
    const hm = new HealthManager([
      { serviceId: 'vs', rsKey: '198.18.0.10:80', target: { ip: '198.18.0.10', port: 80 }, type: 'tcp_check',
        params: { ...fast, retry: 2, delay_before_retry: 1, log_all_failures: logAll } },
    ], { clock, runner: run.runner, logger: log.logger });
    const downs: unknown[] = [];
    hm.on('change', (e: { up: boolean }) => { if (!e.up) downs.push(e); });
    hm.start();
    await clock.advanceUntil(() => !hm.status()[0].up, 10_000, flush);
    await hm.stop();
    const failures = log.lines.filter((l) => l.level === 'warn' && /failed \(log_all_failures\)/.test(l.msg));
    t.equal(failures.length, logAll ? 3 : 0, `log_all_failures ${logAll}: ${failures.length} failure lines for 3 failed probes`);
    t.equal(downs.length, 1, 'the change to down is always announced (the director logs it)');
  }
});

t.test('fast_recovery: a down HTTP_GET server with N urls comes up after N good probes, or 1 with fast_recovery', async (t) => {
  const urls = [{ path: '/a' }, { path: '/b' }, { path: '/c' }];
  t.equal(recoveryProbes('http_get', { url: urls }), 3);
  t.equal(recoveryProbes('ssl_get', { url: urls, fast_recovery: true }), 1);
  t.equal(recoveryProbes('tcp_check', {}), 1);
  t.equal(dampingConfig('http_get', { url: urls, rise: 5 }).rise, 5, 'a larger ulvs rise still wins');
  for (const fastRecovery of [false, true]) {
    const clock = new ManualClock();
    const run = countingRunner(() => ({ ok: true, reason: 'HTTP 200' }));
    const hm = new HealthManager([
      { serviceId: 'vs', rsKey: '198.18.0.10:80', target: { ip: '198.18.0.10', port: 80 }, type: 'http_get',
        params: { ...fast, alpha: true, url: urls, fast_recovery: fastRecovery } },
    ], { clock, runner: run.runner });
    hm.start();
    const start = clock.now();
    await clock.advanceUntil(() => hm.status()[0].up, 10_000, flush);
    await hm.stop();
    t.equal(run.calls.length, fastRecovery ? 1 : 3, `fast_recovery ${fastRecovery}: up after ${run.calls.length} probes`);
    t.equal(clock.now() - start, fastRecovery ? 0 : 2000, 'a delay_loop between them, as keepalived between urls');
  }
});

t.test('regex_min_offset / regex_max_offset: the match must start inside the window', async (t) => {
  t.equal(regexMatchesWithin(/OK/, 'xxOKxxOK', 3), true, 'a later match counts when the first is before min');
  t.equal(regexMatchesWithin(/OK/, 'xxOKxxxx', 3), false);
  t.equal(regexMatchesWithin(/OK/, 'xxxxxxOK', 0, 5), false, 'a match starting beyond max fails');
  t.equal(regexMatchesWithin(/OK/, 'xxxxxOK', 0, 5), true, 'max is inclusive (keepalived stores max + 1)');
  t.equal(regexMatchesWithin(/(?<=x)OK/, 'xOK', 1), true, 'text before min is seen by a lookbehind, as pcre2 start_offset');
  const summary = { status: 200, digest: '', headerText: 'HTTP/1.0 200 OK\r\n\r\n', bodyText: 'status: ready' };
  const subjectOffset = summary.headerText.length;
  const url = { path: '/', regex: 'ready', regex_min_offset: subjectOffset, regex_max_offset: subjectOffset + 8 };
  t.equal(judgeHttpResponse(url, summary as never).ok, true);
  t.equal(judgeHttpResponse({ ...url, regex_max_offset: subjectOffset + 7 }, summary as never).ok, false);

  const yaml = (urlBlock: string) => `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - ip: 198.18.0.10
        http_get: { url: [ ${urlBlock} ] }
`;
  const loaded = loadConfigText(yaml('{ path: /, regex: ready, regex_min_offset: 4, regex_max_offset: 100 }'), 'r.yaml').config;
  t.match(loaded.virtual_servers[0].real_servers[0].check, { url: [{ regex_min_offset: 4, regex_max_offset: 100 }] }, 'passed to the checker');
  const errorsOf = (text: string): string[] => {
    try { loadConfigText(text, 'r.yaml'); return []; } catch (err) { return (err as ConfigError).diagnostics.map(formatDiagnostic); }
  };
  t.match(errorsOf(yaml('{ path: /, regex_min_offset: 4 }')).join('\n'), /r\.yaml:\d+:\d+: .*regex_min_offset needs a regex/);
  t.match(errorsOf(yaml('{ path: /, regex: x, regex_min_offset: 9, regex_max_offset: 4 }')).join('\n'), /regex_min_offset 9 is beyond regex_max_offset 4/);
});

t.test('protocol SCTP is refused with FILE:LINE:COL, in ulvs.yaml and by migrate', async (t) => {
  let message = '';
  try {
    loadConfigText('dataplane: { interface: eth0 }\nvirtual_servers:\n  - { vip: 198.18.0.100, port: 80, lb_kind: DR, protocol: SCTP }\n', 's.yaml');
  } catch (err) {
    message = (err as ConfigError).diagnostics.map(formatDiagnostic).join('\n');
  }
  t.match(message, /^s\.yaml:3:\d+: protocol: SCTP is not supported by ulvs \(/);
  const conf = `virtual_server 198.18.0.100 80 {\n  lb_kind DR\n  protocol SCTP\n  real_server 198.18.0.10 80 {\n  }\n}\nvirtual_server 198.18.0.101 80 {\n  lb_kind DR\n  real_server 198.18.0.10 80 {\n  }\n}\n`;
  const r = migrateFile('/k/keepalived.conf', { from: 'keepalived', interface: 'eth0', readText: () => conf });
  t.ok(r.reports.some((d) => d.line === 3 && /protocol SCTP not supported by ulvs/.test(d.message)), 'migrate reports it at its line');
  t.notMatch(r.yaml, /198\.18\.0\.100/, 'and leaves that service out instead of forwarding it as TCP');
  t.match(r.yaml, /198\.18\.0\.101/);
  t.same(r.errors, [], 'the rest passes check-config');
});
