// A real SMTP server for the mail tests (smtp-server package), run inside a lab namespace:
// `node smtp-sink.mjs HOST` listens on HOST, a free port, prints {"port":N} once listening,
// then one JSON line per message received: envelope, HELO name, parsed headers and text.
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const host = process.argv[2] ?? '0.0.0.0';
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, done) {
    simpleParser(stream).then((mail) => {
      process.stdout.write(JSON.stringify({
        helo: session.hostNameAppearsAs,
        mailFrom: session.envelope.mailFrom && session.envelope.mailFrom.address,
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
        from: mail.from && mail.from.text,
        to: (Array.isArray(mail.to) ? mail.to : [mail.to]).filter(Boolean).map((a) => a.text).join(', '),
        subject: mail.subject,
        text: mail.text,
        date: mail.date ? mail.date.toISOString() : null,
        xMailer: mail.headers.get('x-mailer') ?? null,
      }) + '\n');
      done();
    }, done);
  },
});
server.on('error', (err) => { process.stderr.write(`smtp sink: ${err.message}\n`); });
server.listen(0, host, () => {
  process.stdout.write(JSON.stringify({ port: server.server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
