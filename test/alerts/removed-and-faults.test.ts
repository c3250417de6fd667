// The last of keepalived's mails, through DirectorAlerts to a real SMTP server on loopback
// (smtp-server): a reload that drops a live real server mails "=> Removing <=" (ipwrapper.c
// clear_service_rs), an omega service mails "=> Shutting down <=" at stop, a real server that
// was down or has smtp_alert off mails nothing; no_email_faults keeps FAULT moves unmailed
// (vrrp_notify.c) while MASTER/BACKUP still go.
import t from 'tap';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DirectorAlerts } from '../../src/alerts/index.js';
import { loadConfigText } from '../../src/config/load.js';
import { waitFor } from '../../src/lab/index.js';

const CONFIG = (port: number, o: { servers: string; noEmailFaults?: boolean; omega?: boolean }) => `
global_defs:
  router_id: al_dir1
  notification_email: [ ops@al.test ]
  notification_email_from: ulvs@al.test
  smtp_server: 127.0.0.1:${port}
  smtp_alert: true
  no_email_faults: ${o.noEmailFaults ?? false}
vrrp_instances:
  - { name: VI_1, interface: eth0, state: BACKUP, virtual_router_id: 51, priority: 100, virtual_ipaddress: [ 198.18.0.100/32 ] }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    omega: ${o.omega ?? false}
    real_servers:
${o.servers}`;

const ALL = `      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
      - { ip: 198.18.0.30, port: 80 }
      - { ip: 198.18.0.40, port: 80, smtp_alert: false }
`;
const KEPT = '      - { ip: 198.18.0.10, port: 80 }\n';

async function sink(t: Tap.Test): Promise<{ port: number; subjects: string[]; bodies: string[] }> {
  const subjects: string[] = [];
  const bodies: string[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, _session, done) {
      let data = '';
      stream.on('data', (d: Buffer) => { data += d.toString(); });
      stream.on('end', () => {
        // Unfold the headers (a long Subject is folded, RFC 5322 2.2.3).
        const head = data.split(/\r?\n\r?\n/)[0].replace(/\r?\n(?=[ \t])/g, '');
        subjects.push(/^Subject: (.*)$/m.exec(head)?.[1]?.trim() ?? '');
        bodies.push(data.split(/\r?\n\r?\n/).slice(1).join('\n').trim());
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as net.AddressInfo).port, subjects, bodies };
}

const log = { warn: () => undefined, info: () => undefined };
const load = (text: string) => loadConfigText(text, 'a.yaml').config;

t.test('a reload that drops live real servers mails "=> Removing <=", one that was down does not', async (t) => {
  const s = await sink(t);
  const alerts = new DirectorAlerts(load(CONFIG(s.port, { servers: ALL })), log);
  // 198.18.0.30 was down (its checker said so); .40 has smtp_alert off.
  alerts.apply(load(CONFIG(s.port, { servers: KEPT })), (_id, rsKey) => rsKey !== '198.18.0.30:80');
  t.ok(await waitFor(() => s.subjects.length >= 1, 20_000), 'mailed');
  await alerts.stop();
  t.same(s.subjects, ['[al_dir1] Realserver [198.18.0.20]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN'], 'only the live, alerting, removed server');
  t.same(s.bodies, ['=> Removing <=']);
});

t.test('omega: a live real server mails "=> Shutting down <=" at stop; without omega nothing', async (t) => {
  const s = await sink(t);
  const plain = new DirectorAlerts(load(CONFIG(s.port, { servers: KEPT })), log);
  plain.shuttingDown(() => true);
  await plain.stop();
  const omega = new DirectorAlerts(load(CONFIG(s.port, { servers: ALL, omega: true })), log);
  omega.shuttingDown((_id, rsKey) => rsKey !== '198.18.0.30:80');
  t.ok(await waitFor(() => s.subjects.length >= 2, 20_000), 'mailed');
  await omega.stop();
  t.same(s.subjects.sort(), [
    '[al_dir1] Realserver [198.18.0.10]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN',
    '[al_dir1] Realserver [198.18.0.20]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN',
  ]);
  t.same(s.bodies, ['=> Shutting down <=', '=> Shutting down <=']);
});

t.test('no_email_faults: FAULT is not mailed, the other moves are', async (t) => {
  for (const noEmailFaults of [true, false]) {
    const s = await sink(t);
    const alerts = new DirectorAlerts(load(CONFIG(s.port, { servers: KEPT, noEmailFaults })), log);
    for (const state of ['BACKUP', 'FAULT', 'BACKUP', 'MASTER']) alerts.instanceMoved('VI_1', state);
    const want = noEmailFaults ? 3 : 4;
    t.ok(await waitFor(() => s.subjects.length >= want, 20_000), 'mailed');
    await alerts.stop();
    const states = s.subjects.map((x) => /VI_1 - (.*)$/.exec(x)?.[1]);
    t.same(states, noEmailFaults
      ? ['Entering BACKUP state', 'Entering BACKUP state', 'Entering MASTER state', 'Stopping']
      : ['Entering BACKUP state', 'Entering FAULT state', 'Entering BACKUP state', 'Entering MASTER state', 'Stopping'],
    `no_email_faults: ${noEmailFaults}`);
  }
});
