// keepalived's email alerts end to end: a director in its own lab mails a real SMTP server
// (smtp-server, run by the test in the client namespace) when its VRRP instances and sync group
// become MASTER, when a real server goes down and up, when quorum is lost and gained, and when
// it stops; each mail's envelope, From, To, Subject and body are checked (parsed by mailparser).
// Then a relay that drops every connection: forwarding and checks go on, every mail is tried a
// bounded number of times, counted in `ulvs stats` and logged once.
import t, { type Test } from 'tap';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, destroyLab, labDirectorConfig, startServer, stopServer, waitFor, type LabTopology } from '../../src/lab/index.js';
import { httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';
import { spawnIn, type NsProcess } from '../e2e-health/support.js';

const SINK = join(dirname(fileURLToPath(import.meta.url)), 'smtp-sink.mjs');

interface Received {
  helo: string; mailFrom: string; rcptTo: string[]; from: string; to: string; subject: string; text: string;
  date: string | null; xMailer: string | null;
}

function config(smtpServer: string, routerId: string): string {
  return labDirectorConfig({
    globalDefs: [
      `router_id: ${routerId}`,
      'notification_email: [ ops@example.org, noc@example.org ]',
      'notification_email_from: ulvs@dir1.lab',
      `smtp_server: ${smtpServer}`,
      'smtp_helo_name: dir1.lab',
      'smtp_connect_timeout: 5',
      'smtp_alert: true',
    ],
    vrrp: [
      { name: 'VI_1', virtualRouterId: 61, priority: 100, advertInt: 1 },
      { name: 'VI_2', virtualRouterId: 62, priority: 100, advertInt: 1, vip: '198.18.0.101' },
    ],
    more: 'vrrp_sync_groups:\n  - { name: VG_1, group: [ VI_1, VI_2 ] }',
    services: [{
      keys: ['delay_loop: 1', 'quorum: 2'],
      realServers: [10, 20].map((octet) => ({ ip: `198.18.0.${octet}`, extra: 'tcp_check: { connect_timeout: 1, retry: 0, warmup: 0 }' })),
    }],
  });
}

async function lab(t: Test, prefix: string): Promise<LabTopology> {
  t.teardown(() => destroyLab({ prefix }));
  return createLab({ prefix });
}

function startIn(t: Test, ns: string, argv: string[]): NsProcess {
  const p = spawnIn(ns, argv);
  t.teardown(() => p.stop());
  return p;
}

async function director(t: Test, ns: string, yaml: string): Promise<{ d: RunningDirector; stopped: () => boolean }> {
  const d = await startDirector(ns, writeConfig(yaml));
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await d.stop();
    if (!t.passing()) t.comment(`director log (tail):\n${d.log().trim().split('\n').slice(-40).join('\n')}`);
  });
  return { d, stopped: () => { const was = stopped; stopped = true; return was; } };
}

async function stats(ns: string): Promise<Record<string, number>> {
  return JSON.parse((await ulvsIn(ns, ['stats', '--json'])).stdout) as Record<string, number>;
}

t.test('mails keepalived\'s alerts to a real SMTP server', async (t) => {
  const l = await lab(t, 'al1-');
  const sink = startIn(t, l.nodes.client.name, [process.execPath, SINK, l.nodes.client.ip]);
  t.ok(await waitFor(() => sink.lines().length > 0, 10_000), `smtp sink listening: ${sink.output()}`);
  const { port } = JSON.parse(sink.lines()[0]) as { port: number };
  const mails = (): Received[] => sink.lines().slice(1).map((line) => JSON.parse(line) as Received);
  const bySubject = (s: string): Received | undefined => mails().find((m) => m.subject === s);
  const waitMail = async (s: string, ms = 30_000): Promise<Received | undefined> => {
    await waitFor(() => bySubject(s) !== undefined, ms, 100);
    return bySubject(s);
  };

  const run = await director(t, l.nodes.dir1.name, config(`${l.nodes.client.ip} ${port}`, 'al-dir1'));
  const dir1 = l.nodes.dir1.name;

  const master = await waitMail('[al-dir1] VRRP Instance VI_1 - Entering MASTER state');
  t.ok(master, 'VI_1 MASTER mailed');
  t.equal(master?.text.trim(), '=> VRRP Instance is now owning VRRP VIPs <=', 'keepalived\'s body');
  t.equal(master?.from, 'ulvs@dir1.lab', 'From: notification_email_from');
  t.equal(master?.to, 'ops@example.org, noc@example.org', 'To: every notification_email');
  t.equal(master?.mailFrom, 'ulvs@dir1.lab', 'envelope sender');
  t.same(master?.rcptTo, ['ops@example.org', 'noc@example.org'], 'envelope recipients');
  t.equal(master?.helo, 'dir1.lab', 'HELO/EHLO name: smtp_helo_name');
  t.ok(master?.date, 'Date header set');
  t.ok(await waitMail('[al-dir1] VRRP Instance VI_2 - Entering MASTER state'), 'VI_2 MASTER mailed');
  const group = await waitMail('[al-dir1] VRRP Group VG_1 - Entering MASTER state');
  t.equal(group?.text.trim(), '=> All VRRP group instances are now in MASTER state <=', 'sync group MASTER mailed');
  const backup = bySubject('[al-dir1] VRRP Instance VI_1 - Entering BACKUP state');
  t.ok(backup, 'the start in BACKUP was mailed too, as keepalived does');
  const subjects = mails().map((m) => m.subject);
  t.ok(subjects.indexOf(backup!.subject) < subjects.indexOf(master!.subject), `BACKUP came before MASTER (${subjects.join(' | ')})`);

  // Forwarding through the VIP works while the mails flow.
  const before = await httpFrom(l.nodes.client.name, `http://${l.vip}/`, 4);
  t.same(before.bodies.sort(), ['rs1', 'rs1', 'rs2', 'rs2'], 'the MASTER forwards to both real servers');

  await stopServer('rs1', { prefix: 'al1-' });
  const down = await waitMail('[al-dir1] Realserver [198.18.0.10]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - DOWN');
  t.equal(down?.text.trim(), '=> TCP CHECK failed on service <=', 'real server DOWN mailed with the TCP_CHECK body');
  const lost = await waitMail('[al-dir1] Virtualserver [198.18.0.100]:tcp:80 - DOWN');
  t.equal(lost?.text.trim(), '=> Lost quorum 2+0=2 <= 1 <=', 'quorum lost mailed (smtp_alert on in global_defs)');

  await startServer('rs1', { prefix: 'al1-' });
  const up = await waitMail('[al-dir1] Realserver [198.18.0.10]:tcp:80 of virtual server [198.18.0.100]:tcp:80 - UP');
  t.equal(up?.text.trim(), '=> TCP CHECK succeed on service <=', 'real server UP mailed');
  const gained = await waitMail('[al-dir1] Virtualserver [198.18.0.100]:tcp:80 - UP');
  t.equal(gained?.text.trim(), '=> Gained quorum 2+0=2 <= 2 <=', 'quorum gained mailed');

  const s = await stats(dir1);
  t.equal(s.mail_failed, 0, 'no mail failed');
  t.ok(s.mail_sent >= mails().length - 1, `ulvs stats counts the mails sent (${s.mail_sent}, sink has ${mails().length})`);
  t.type(s.mail_queued, 'number', 'mail_queued reported');

  run.stopped();
  t.equal(await run.d.stop(), 0, 'the director stops cleanly');
  const stopping = await waitMail('[al-dir1] VRRP Instance VI_1 - Stopping', 10_000);
  t.equal(stopping?.text.trim(), '=> VRRP Instance stopping <=', '"Stopping" mailed on the way out');
  t.ok(bySubject('[al-dir1] VRRP Group VG_1 - Stopping'), 'the sync group\'s "Stopping" too');
  const dup = mails().filter((m) => m.subject === master!.subject).length;
  t.equal(dup, 1, 'one state is mailed once');
});

t.test('SMTP relay down: forwarding and checks go on, retries bounded, failures counted and logged once', async (t) => {
  const l = await lab(t, 'al2-');
  // Accepts and drops every connection at once, printing one line per connection: each line
  // is one delivery attempt.
  const script = `const s=require('net').createServer((c)=>{process.stdout.write('conn\\n');c.destroy()});`
    + `s.listen(0,'${l.nodes.client.ip}',()=>process.stdout.write(JSON.stringify({port:s.address().port})+'\\n'))`;
  const relay = startIn(t, l.nodes.client.name, [process.execPath, '-e', script]);
  t.ok(await waitFor(() => relay.lines().length > 0, 10_000), `dropping relay listening: ${relay.output()}`);
  const { port } = JSON.parse(relay.lines()[0]) as { port: number };
  const attempts = (): number => relay.lines().filter((x) => x === 'conn').length;

  const run = await director(t, l.nodes.dir1.name, config(`${l.nodes.client.ip}:${port}`, 'al-dir2'));
  const dir1 = l.nodes.dir1.name;
  t.ok(await waitFor(async () => /VI_1\s+MASTER/.test((await ulvsIn(dir1, ['status'])).stdout), 20_000, 200),
    'VRRP becomes MASTER while every mail fails');
  const first = await httpFrom(l.nodes.client.name, `http://${l.vip}/`, 4);
  t.same(first.bodies.sort(), ['rs1', 'rs1', 'rs2', 'rs2'], 'forwarding works');

  await stopServer('rs1', { prefix: 'al2-' });
  t.ok(await waitFor(async () => {
    const r = await httpFrom(l.nodes.client.name, `http://${l.vip}/`, 4);
    return r.bodies.every((b) => b === 'rs2');
  }, 30_000, 300), 'the check took rs1 out: checks go on while mail fails');

  // Every mail so far (VI_1, VI_2 BACKUP then MASTER, VG_1 MASTER, rs1 DOWN, quorum lost: 7) is
  // tried 3 times (2 s, then 4 s apart), then counted as failed.
  const settled = await waitFor(async () => { const s = await stats(dir1); return s.mail_queued === 0 && s.mail_failed >= 7; }, 120_000, 500);
  const s = await stats(dir1);
  t.ok(settled, `all mails given up (${JSON.stringify({ sent: s.mail_sent, failed: s.mail_failed, queued: s.mail_queued })})`);
  t.equal(s.mail_sent, 0, 'nothing was delivered');
  t.equal(attempts(), 3 * s.mail_failed, `3 attempts per mail, no more (${attempts()} connections for ${s.mail_failed} mails)`);
  const warned = run.d.log().split('\n').filter((line) => line.includes('alert mail not delivered'));
  t.equal(warned.length, 1, 'the failure is logged once');
  const again = await httpFrom(l.nodes.client.name, `http://${l.vip}/`, 3);
  t.same(again.bodies, ['rs2', 'rs2', 'rs2'], 'still forwarding');
});
