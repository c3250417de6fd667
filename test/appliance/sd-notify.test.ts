import t from 'tap';
import { ServiceNotifier, watchdogIntervalMs } from '../../src/appliance/sd-notify.js';
import { CAPABILITY_BITS, capabilityMessage, missingFrom, parseCapabilityMask } from '../../src/appliance/capabilities.js';

t.test('watchdog interval: half of WATCHDOG_USEC, only for the main pid', async (t) => {
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 42), 5000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42), 5000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42), undefined, 'another process\'s watchdog');
  t.equal(watchdogIntervalMs({}, 42), undefined);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42), undefined);
});

t.test('notifier: messages in order, environment cleaned, silent without a socket', async (t) => {
  const sent: string[] = [];
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@test', WATCHDOG_USEC: '20000', WATCHDOG_PID: String(process.pid) };
  const n = new ServiceNotifier((socket, message) => sent.push(`${socket} ${message.split('\n')[0]}`), () => t.fail('no error expected'), env);
  t.same(env, {}, 'NOTIFY_SOCKET and the watchdog variables are not inherited by scripts');
  t.equal(n.watchdogIntervalMs, 10);
  n.ready('forwarding');
  await new Promise((resolve) => setTimeout(resolve, 100));
  n.reloading();
  n.stopping();
  t.equal(sent[0], '@test READY=1');
  t.ok(sent.filter((m) => m === '@test WATCHDOG=1').length >= 1, 'watchdog pings after READY');
  t.same(sent.slice(-2), ['@test RELOADING=1', '@test STOPPING=1']);
  const quiet = new ServiceNotifier(() => t.fail('nothing sent without NOTIFY_SOCKET'), () => t.fail('no error'), {});
  quiet.ready('x');
  quiet.stopping();
  t.equal(quiet.active, false);
});

t.test('a failing send is reported once', async (t) => {
  const errors: string[] = [];
  const n = new ServiceNotifier(() => { throw new Error('ECONNREFUSED'); }, (m) => errors.push(m), { NOTIFY_SOCKET: '/run/x' });
  n.ready('a');
  n.reloading();
  n.stopping();
  t.equal(errors.length, 1);
  t.match(errors[0], /\/run\/x: ECONNREFUSED/);
});

t.test('capability masks', async (t) => {
  const status = 'Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000000c000007000\n';
  const mask = parseCapabilityMask(status);
  t.same(missingFrom(mask, ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_BPF', 'CAP_PERFMON', 'CAP_IPC_LOCK']), []);
  t.same(missingFrom(mask, ['CAP_SYS_ADMIN', 'CAP_NET_RAW']), ['CAP_SYS_ADMIN']);
  t.equal(CAPABILITY_BITS.CAP_BPF, 39);
  t.equal(capabilityMessage('ulvs run', ['CAP_BPF', 'CAP_PERFMON']), 'ulvs run needs CAP_BPF, CAP_PERFMON: run as root or grant them');
  t.throws(() => parseCapabilityMask('nothing'), /no CapEff/);
});
