// `ulvs conns` shows the IPVS states a real TCP connection goes through in DR (the director
// sees the client's segments only: IPVS's input-only table), with each state's timeout;
// `ulvs timeout` prints and `ulvs timeout set` changes the tcp/tcpfin/udp timeouts.
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { labDrConfig, startDirector, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, SERVER_OF, connsIn, type ConnJson } from './lab-client.js';
import { sendSegments } from './tcp-states.js';

const prefix = 'e2cn-';
const CLIENT = '198.18.0.1';

// Client segments -> the state IPVS's input-only table (ip_vs_proto_tcp.c) leaves, and its timeout.
const SEGMENT_TABLE: [string[], string, number][] = [
  [['S'], 'SYN_RECV', 60],
  [['S', 'A'], 'ESTABLISHED', 900],
  [['S', 'A', 'PA'], 'ESTABLISHED', 900],
  [['S', 'A', 'FA'], 'FIN_WAIT', 120],
  [['S', 'A', 'FA', 'A'], 'FIN_WAIT', 120],
  [['S', 'A', 'FA', 'FA'], 'FIN_WAIT', 120],   // a repeated FIN keeps FIN_WAIT
  [['S', 'FA'], 'TIME_WAIT', 120],
  [['S', 'A', 'R'], 'CLOSE', 10],
  [['S', 'R'], 'SYN_RECV', 60],   // a RST does not end a SYN_RECV entry (spoofed-RST guard)
];

t.test('connection states, timeouts and the timeout commands', async (t) => {
  let director: RunningDirector | null = null;
  let client: LabClient | null = null;
  t.teardown(async () => { client?.stop(); await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(labDrConfig({ lbAlgo: 'rr' })));
  const dir1 = lab.nodes.dir1.name;
  client = LabClient.start(lab.nodes.client.name);
  const entryOf = async (port: number): Promise<ConnJson | undefined> =>
    (await connsIn(dir1)).find((c) => c.source === `${CLIENT}:${port}`);

  const shown = await ulvsIn(dir1, ['timeout']);
  t.equal(shown.stdout, 'Timeout (tcp tcpfin udp): 900 120 300\n', 'ulvs timeout prints IPVS\'s defaults as ipvsadm -L --timeout does');

  // A real connection, kept alive: ESTABLISHED with the tcp timeout, mid-way and after more requests.
  const k = await client.open({ host: lab.vip });
  let e = await entryOf(k.localPort);
  t.equal(e?.state, 'ESTABLISHED', 'an open keep-alive connection is ESTABLISHED');
  t.ok(e && e.expiresIn >= 895 && e.expiresIn <= 900, `its expiry is the tcp timeout (${e?.expiresIn} s)`);
  t.same(e && [e.protocol, e.virtual, e.destination], ['TCP', '198.18.0.100:80', Object.keys(SERVER_OF).find((ip) => SERVER_OF[ip] === k.body) + ':80'],
    `protocol, virtual and destination (the server that answered, ${k.body})`);
  const text = (await ulvsIn(dir1, ['conns'])).stdout;
  t.match(text, /^IPVS connection entries\npro expire state       source             virtual            destination\n/, 'ipvsadm -Lnc header');
  t.match(text, new RegExp(`^TCP 1[45]:\\d\\d  ESTABLISHED ${CLIENT.replace(/\./g, '\\.')}:${k.localPort} +198\\.18\\.0\\.100:80 +198\\.18\\.0\\.\\d+:80$`, 'm'),
    'the text line has ipvsadm\'s columns');
  for (let i = 0; i < 3; i++) await client.get(k.id);
  t.equal((await entryOf(k.localPort))?.state, 'ESTABLISHED', 'still ESTABLISHED after more requests on it');
  await client.close(k.id);
  e = await entryOf(k.localPort);
  t.equal(e?.state, 'FIN_WAIT', 'after the client closes (its FIN, then its ACK of the server\'s FIN): FIN_WAIT');
  t.ok(e && e.expiresIn >= 115 && e.expiresIn <= 120, `with the tcpfin timeout (${e?.expiresIn} s)`);

  const r = await client.open({ host: lab.vip });
  await client.close(r.id, 'reset');
  e = await entryOf(r.localPort);
  t.equal(e?.state, 'CLOSE', 'a connection the client resets: CLOSE');
  t.ok(e && e.expiresIn <= 10, `with the close timeout (${e?.expiresIn} s)`);

  // Crafted segment sequences walk the input-only table state by state.
  let port = 5000;
  for (const [segments, state, timeout] of SEGMENT_TABLE) {
    port++;
    await sendSegments(lab, CLIENT, port, segments);
    e = await entryOf(port);
    t.equal(e?.state, state, `${segments.join(' ')} -> ${state}`);
    t.ok(e && e.expiresIn <= timeout && e.expiresIn >= timeout - 5, `${segments.join(' ')}: expires in ${e?.expiresIn} s (timeout ${timeout})`);
  }

  // ipvsadm --set: new values apply to the next state change; 0 keeps a value.
  const set = await ulvsIn(dir1, ['timeout', 'set', '600', '60', '200']);
  t.equal(set.stdout, 'Timeout (tcp tcpfin udp): 600 60 200\n', 'ulvs timeout set 600 60 200 answers with the new values');
  t.equal((await ulvsIn(dir1, ['timeout'])).stdout, 'Timeout (tcp tcpfin udp): 600 60 200\n', 'ulvs timeout shows them');
  const k2 = await client.open({ host: lab.vip });
  e = await entryOf(k2.localPort);
  t.ok(e?.state === 'ESTABLISHED' && e.expiresIn >= 595 && e.expiresIn <= 600, `a new connection gets the new tcp timeout (${e?.expiresIn} s)`);
  await client.close(k2.id);
  e = await entryOf(k2.localPort);
  t.ok(e?.state === 'FIN_WAIT' && e.expiresIn >= 55 && e.expiresIn <= 60, `and the new tcpfin timeout once closed (${e?.expiresIn} s)`);
  t.equal((await ulvsIn(dir1, ['timeout', 'set', '0', '0', '250'])).stdout, 'Timeout (tcp tcpfin udp): 600 60 250\n', '0 keeps a value, as ipvsadm --set');
  const bad = await ulvsIn(dir1, ['timeout', 'set', '10', 'x', '1']);
  t.equal(bad.code, 2, 'a timeout that is not a number is refused (exit 2)');

  const [json, listing] = await Promise.all([connsIn(dir1), ulvsIn(dir1, ['conns'])]);
  t.equal(json.length, listing.stdout.trim().split('\n').length - 2, `--json lists the same entries as the text (${json.length})`);
  t.ok(json.some((c) => c.state === 'TIME_WAIT') && json.some((c) => c.state === 'SYN_RECV'), 'including the crafted ones');
  t.ok(json.every((c) => typeof c.expiresIn === 'number' && /^(TCP|UDP|IP)$/.test(c.protocol) && /^[\d.]+:\d+$/.test(c.source)
    && /^[\d.]+:\d+$/.test(c.virtual) && /^[\d.]+:\d+$/.test(c.destination) && typeof c.state === 'string'), 'each with protocol, expiresIn, state, source, virtual, destination');
});
