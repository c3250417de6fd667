// The mail queue against a real SMTP server on loopback (smtp-server): order kept, the
// settings' HELO name and addresses used; then against a port that drops every connection:
// attempts bounded, the queue bounded, failures counted and logged once.
import t from 'tap';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { AlertMailer } from '../../src/alerts/mailer.js';
import type { MailSettings } from '../../src/alerts/plan.js';
import { waitFor } from '../../src/lab/index.js';

const settings = (port: number): MailSettings => ({
  routerId: 'r', from: 'ulvs@al.test', to: ['a@al.test', 'b@al.test'], host: '127.0.0.1', port, heloName: 'al.helo', connectTimeoutMs: 5000,
});

function logger() {
  const warned: string[] = [];
  const infos: string[] = [];
  return { warned, infos, warn: (_o: object, m?: string) => { warned.push(m ?? ''); }, info: (_o: object, m?: string) => { infos.push(m ?? ''); } };
}

t.test('delivers in order, with the HELO name and envelope of the settings', async (t) => {
  const got: Array<{ helo: string; from: string; to: string[]; data: string }> = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (d: Buffer) => { data += d.toString(); });
      stream.on('end', () => {
        got.push({ helo: session.hostNameAppearsAs, from: (session.envelope.mailFrom as { address: string }).address, to: session.envelope.rcptTo.map((r) => r.address), data });
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.server.address() as net.AddressInfo).port;
  const log = logger();
  const mailer = new AlertMailer(settings(port), log);
  for (const n of [1, 2, 3]) mailer.enqueue({ subject: `mail ${n}`, body: `=> body ${n} <=` });
  t.ok(await waitFor(() => got.length === 3, 20_000), 'three mails delivered');
  t.same(got.map((g) => /Subject: (.*)/.exec(g.data)?.[1]), ['mail 1', 'mail 2', 'mail 3'], 'in order');
  t.same(got[0].to, ['a@al.test', 'b@al.test']);
  t.equal(got[0].from, 'ulvs@al.test');
  t.equal(got[0].helo, 'al.helo');
  t.match(got[0].data, /=> body 1 <=/);
  // The server has the data before the client reads its 250: the count follows a moment later.
  t.ok(await waitFor(() => mailer.counters().mail_sent === 3, 10_000), 'counted as sent');
  t.same(mailer.counters(), { mail_sent: 3, mail_failed: 0, mail_queued: 0 });
  t.same(log.warned, []);
  await mailer.close(1000);
});

t.test('a relay that drops connections: bounded attempts, bounded queue, logged once', async (t) => {
  let connections = 0;
  const relay = net.createServer((c) => { connections++; c.destroy(); });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => relay.close(() => r())));
  const port = (relay.address() as net.AddressInfo).port;
  const log = logger();
  const mailer = new AlertMailer(settings(port), log, { attempts: 2, retryDelayMs: 50, maxQueue: 2 });
  for (const n of [1, 2, 3, 4]) mailer.enqueue({ subject: `mail ${n}`, body: '' });
  // One in flight, two waiting, the fourth over the bound.
  t.equal(mailer.counters().mail_failed, 1, 'the mail over the queue bound is failed at once');
  t.ok(await waitFor(() => mailer.counters().mail_failed === 4 && mailer.counters().mail_queued === 0, 20_000), 'every mail given up');
  t.equal(connections, 3 * 2, '2 attempts for each of the 3 mails queued');
  t.equal(log.warned.length, 1, 'logged once');
  t.same(mailer.counters(), { mail_sent: 0, mail_failed: 4, mail_queued: 0 });
  await mailer.close(1000);
});

t.test('close: queued mails get one last try, then count as failed', async (t) => {
  let connections = 0;
  const relay = net.createServer((c) => { connections++; c.destroy(); });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => relay.close(() => r())));
  const port = (relay.address() as net.AddressInfo).port;
  const mailer = new AlertMailer(settings(port), logger(), { attempts: 5, retryDelayMs: 60_000 });
  mailer.enqueue({ subject: 'a', body: '' });
  mailer.enqueue({ subject: 'b', body: '' });
  t.ok(await waitFor(() => connections === 1 && !mailer.counters().mail_failed, 10_000), 'first attempt made, retry a minute away');
  const started = Date.now();
  await mailer.close(10_000);
  t.ok(Date.now() - started < 9000, 'close did not wait out the retry delay');
  t.equal(mailer.counters().mail_failed, 2, 'both failed');
  t.equal(connections, 3, 'one last try each');
  mailer.enqueue({ subject: 'c', body: '' });
  t.equal(mailer.counters().mail_queued, 0, 'a closed mailer takes nothing');
});
