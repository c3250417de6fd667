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

// Each listing starts a `ulvs` process in the namespace: on a loaded machine the whole walk takes
// minutes, so this file gets more than tap's default 300 s.
t.setTimeout(900_000);

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
  // The entry's timer started somewhere between `since` and the listing: on a busy machine that
  // can be seconds, so the lower bound is the timeout less the time that really passed (plus 1 s
  // for the listing's whole-second rounding), never a fixed margin.
  const expiresWithin = (e: ConnJson | undefined, timeout: number, since: number): boolean => {
    const passed = Math.ceil((performance.now() - since) / 1000);
    return !!e && e.expiresIn <= timeout && e.expiresIn >= timeout - passed - 1;
  };

  const shown = await ulvsIn(dir1, ['timeout']);
  t.equal(shown.stdout, 'Timeout (tcp tcpfin udp): 900 120 300\n', 'ulvs timeout prints IPVS\'s defaults as ipvsadm -L --timeout does');

  // A real connection, kept alive: ESTABLISHED with the tcp timeout, mid-way and after more requests.
  let since = performance.now();
  const k = await client.open({ host: lab.vip });
  let e = await entryOf(k.localPort);
  t.equal(e?.state, 'ESTABLISHED', 'an open keep-alive connection is ESTABLISHED');
  t.ok(expiresWithin(e, 900, since), `its expiry is the tcp timeout (${e?.expiresIn} s)`);
  t.same(e && [e.protocol, e.virtual, e.destination], ['TCP', '198.18.0.100:80', Object.keys(SERVER_OF).find((ip) => SERVER_OF[ip] === k.body) + ':80'],
    `protocol, virtual and destination (the server that answered, ${k.body})`);
  const text = (await ulvsIn(dir1, ['conns'])).stdout;
  t.match(text, /^IPVS connection entries\npro expire state       source             virtual            destination\n/, 'ipvsadm -Lnc header');
  t.match(text, new RegExp(`^TCP 1[0-5]:\\d\\d  ESTABLISHED ${CLIENT.replace(/\./g, '\\.')}:${k.localPort} +198\\.18\\.0\\.100:80 +198\\.18\\.0\\.\\d+:80$`, 'm'),
    'the text line has ipvsadm\'s columns');
  for (let i = 0; i < 3; i++) await client.get(k.id);
  t.equal((await entryOf(k.localPort))?.state, 'ESTABLISHED', 'still ESTABLISHED after more requests on it');
  since = performance.now();
  await client.close(k.id);
  e = await entryOf(k.localPort);
  t.equal(e?.state, 'FIN_WAIT', 'after the client closes (its FIN, then its ACK of the server\'s FIN): FIN_WAIT');
  t.ok(expiresWithin(e, 120, since), `with the tcpfin timeout (${e?.expiresIn} s)`);

  const r = await client.open({ host: lab.vip });
  since = performance.now();
  await client.close(r.id, 'reset');
  e = await entryOf(r.localPort);
  if (performance.now() - since < 9000) {
    t.equal(e?.state, 'CLOSE', 'a connection the client resets: CLOSE');
    t.ok(expiresWithin(e, 10, since), `with the close timeout (${e?.expiresIn} s)`);
  } else {
    // The listing came after the 10 s close timeout (a busy machine): the entry must be gone.
    t.ok(e === undefined || e.state === 'CLOSE', `a reset connection is CLOSE or, listed after its 10 s timeout, gone (${e?.state})`);
  }

  // Crafted segment sequences walk the input-only table state by state.
  let port = 5000;
  for (const [segments, state, timeout] of SEGMENT_TABLE) {
    port++;
    since = performance.now();
    await sendSegments(lab, CLIENT, port, segments);
    e = await entryOf(port);
    t.equal(e?.state, state, `${segments.join(' ')} -> ${state}`);
    t.ok(expiresWithin(e, timeout, since), `${segments.join(' ')}: expires in ${e?.expiresIn} s (timeout ${timeout})`);
  }

  // ipvsadm --set: new values apply to the next state change; 0 keeps a value.
  const set = await ulvsIn(dir1, ['timeout', 'set', '600', '60', '200']);
  t.equal(set.stdout, 'Timeout (tcp tcpfin udp): 600 60 200\n', 'ulvs timeout set 600 60 200 answers with the new values');
  t.equal((await ulvsIn(dir1, ['timeout'])).stdout, 'Timeout (tcp tcpfin udp): 600 60 200\n', 'ulvs timeout shows them');
  since = performance.now();
  const k2 = await client.open({ host: lab.vip });
  e = await entryOf(k2.localPort);
  t.ok(e?.state === 'ESTABLISHED' && expiresWithin(e, 600, since), `a new connection gets the new tcp timeout (${e?.expiresIn} s)`);
  since = performance.now();
  await client.close(k2.id);
  e = await entryOf(k2.localPort);
  t.ok(e?.state === 'FIN_WAIT' && expiresWithin(e, 60, since), `and the new tcpfin timeout once closed (${e?.expiresIn} s)`);
  t.equal((await ulvsIn(dir1, ['timeout', 'set', '0', '0', '250'])).stdout, 'Timeout (tcp tcpfin udp): 600 60 250\n', '0 keeps a value, as ipvsadm --set');
  const bad = await ulvsIn(dir1, ['timeout', 'set', '10', 'x', '1']);
  t.equal(bad.code, 2, 'a timeout that is not a number is refused (exit 2)');

  const [json, listing] = await Promise.all([connsIn(dir1), ulvsIn(dir1, ['conns'])]);
  t.equal(json.length, listing.stdout.trim().split('\n').length - 2, `--json lists the same entries as the text (${json.length})`);
  t.ok(json.some((c) => c.state === 'TIME_WAIT') && json.some((c) => c.state === 'SYN_RECV'), 'including the crafted ones');
  t.ok(json.every((c) => typeof c.expiresIn === 'number' && /^(TCP|UDP|IP)$/.test(c.protocol) && /^[\d.]+:\d+$/.test(c.source)
    && /^[\d.]+:\d+$/.test(c.virtual) && /^[\d.]+:\d+$/.test(c.destination) && typeof c.state === 'string'), 'each with protocol, expiresIn, state, source, virtual, destination');
});
