// ICMPv6 errors about tracked IPv6 connections (issue 16) over AF_XDP and TAP: a packet too big
// sent to the IPv6 VIP, quoting the reply of a connection the director tracks (VIP:80 ->
// client:port), is steered to ulvs (the XDP program's services6 lookup on the quoted header;
// TAP's ICMPv6 u32 filters) and reaches that connection's real server, whose kernel counts it
// (Icmp6InPktTooBigs in its /proc/net/snmp6); one quoting no connection is dropped and counted.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'h6i-';
const SERVERS = ['rs1', 'rs2', 'rs3'] as const;

/** Sends from `namespace` an ICMPv6 packet too big to the VIP quoting VIP:80 -> client:port (the kernel fills the checksum). */
const SEND_TOO_BIG = `
import socket, struct, sys
vip, client, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
tcp = struct.pack('!HHIIBBHHH', 80, port, 1, 1, 0x50, 0x10, 65535, 0, 0)
quote = struct.pack('!IHBB', 0x60000000, len(tcp), 6, 64) + socket.inet_pton(socket.AF_INET6, vip) + socket.inet_pton(socket.AF_INET6, client) + tcp
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.sendto(struct.pack('!BBHI', 2, 0, 0, 1400) + quote, (vip, 0))
`;

async function tooBigsAt(namespace: string): Promise<number> {
  const r = await labExec(namespace, ['cat', '/proc/net/snmp6']);
  const m = /Icmp6InPktTooBigs\s+(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no Icmp6InPktTooBigs in ${namespace}'s /proc/net/snmp6`);
  return Number(m[1]);
}

async function countersOf(dir: string): Promise<Record<string, number>> {
  return JSON.parse((await ulvsIn(dir, ['stats', '--json'])).stdout) as Record<string, number>;
}

for (const io of ['afxdp', 'tap'] as const) {
  t.test(`packet too big to the IPv6 VIP reaches the connection's real server (io: ${io})`, { timeout: 180_000 }, async (t) => {
    let director: RunningDirector | null = null;
    t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
    await destroyLab({ prefix }).catch(() => undefined);
    const lab = await createLab({ prefix });
    const dir1 = lab.nodes.dir1.name;
    const client = lab.nodes.client.name;
    t.equal((await labExec(dir1, ['ip', '-6', 'addr', 'add', '2001:2::100/128', 'dev', 'eth0', 'nodad'])).code, 0, 'dir1 holds the IPv6 VIP');
    const sample = readFileSync(join(REPO, 'configs', 'lab-dr6.yaml'), 'utf8');
    director = await startDirector(dir1, writeConfig(sample.replace(/io: auto/, `io: ${io}`)));
    t.match(director.log(), new RegExp(`packets taken with ${io}`), `${io} backend`);
    const answered = await httpFrom(client, 'http://[2001:2::100]/', 1, 'new');
    t.match(answered.bodies[0], /^rs[123]$/, 'one connection served');
    const conns = JSON.parse((await ulvsIn(dir1, ['conns', '--json'])).stdout) as Array<{ source: string; destination: string }>;
    const conn = conns.find((c) => c.source.startsWith('[2001:2::1]:'));
    t.ok(conn, `the director tracks it: ${JSON.stringify(conns)}`);
    const clientPort = Number(conn!.source.split(']:')[1]);
    const server = SERVERS[['[2001:2::10]:80', '[2001:2::20]:80', '[2001:2::30]:80'].indexOf(conn!.destination)];
    t.ok(server, `its server: ${conn!.destination}`);
    const before = await Promise.all(SERVERS.map((s) => tooBigsAt(lab.nodes[s].name)));
    const forwardedBefore = (await countersOf(dir1)).icmp_forwarded ?? 0;
    const sent = await labExec(client, ['python3', '-c', SEND_TOO_BIG, '2001:2::100', '2001:2::1', String(clientPort)]);
    t.equal(sent.code, 0, `sent from the client's namespace ${sent.stderr}`);
    // Awaited, bounded: the real server's kernel counts the error it received.
    const deadline = Date.now() + 20_000;
    let after = before;
    while (Date.now() < deadline) {
      after = await Promise.all(SERVERS.map((s) => tooBigsAt(lab.nodes[s].name)));
      if (after.some((n, i) => n !== before[i])) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    t.same(after.map((n, i) => n - before[i]), SERVERS.map((s) => (s === server ? 1 : 0)), `only ${server} received the packet too big`);
    t.equal((await countersOf(dir1)).icmp_forwarded - forwardedBefore, 1, 'counted as forwarded');
    const stranger = await labExec(client, ['python3', '-c', SEND_TOO_BIG, '2001:2::100', '2001:2::1', String(clientPort === 1 ? 2 : 1)]);
    t.equal(stranger.code, 0);
    const dropDeadline = Date.now() + 20_000;
    let drops = 0;
    while (Date.now() < dropDeadline && drops === 0) {
      drops = (await countersOf(dir1)).drop_icmp_no_flow ?? 0;
      if (drops === 0) await new Promise((r) => setTimeout(r, 200));
    }
    t.equal(drops, 1, 'one quoting no connection: dropped and counted');
    t.equal(await director.stop(), 0, 'clean stop');
    director = null;
  });
}
