// persistence_timeout with rr: a client keeps its real server across new connections while its
// template lives, is listed by `ulvs conns` as a NONE entry, and moves once the template
// expired. A virtual_server_groups service keeps a client on one server across its ports.
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { createLab, destroyLab, labExec, type LabTopology } from '../../src/lab/index.js';
import { REPO, startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, addClientAddresses, connsIn } from './lab-client.js';
import { waitFor } from '../../src/lab/index.js';

const prefix = 'e2ps-';
const A = '198.18.0.51';
const B = '198.18.0.52';
const C = '198.18.0.53';
const D = '198.18.0.54';
const REAL_SERVERS = (port: number): string => [10, 20, 30].map((n) => `      - { ip: 198.18.0.${n}, port: ${port}, weight: 1 }\n`).join('');
// tcpfin 8: closed connections (FIN_WAIT) go within seconds, so their template can expire.
const HEAD = `dataplane: { interface: eth0, io: auto, lvs_timeouts: { tcp: 900, tcpfin: 8, udp: 300 } }
static_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
`;

let lab: LabTopology;
let director: RunningDirector | null = null;
let client: LabClient | null = null;
const listeners: ChildProcess[] = [];

t.before(async () => {
  lab = await createLab({ prefix });
  await addClientAddresses(lab.nodes.client.name, [A, B, C, D]);
  client = LabClient.start(lab.nodes.client.name);
});
t.teardown(async () => {
  client?.stop();
  for (const l of listeners) l.kill('SIGKILL');
  await director?.stop();
  await destroyLab({ prefix });
});

t.test('a client keeps its server while the template lives, then moves', async (t) => {
  t.teardown(async () => { await director?.stop(); director = null; });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(`${HEAD}virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    persistence_timeout: 3
    real_servers:
${REAL_SERVERS(80)}`));
  const dir1 = lab.nodes.dir1.name;
  const answersA: string[] = [];
  for (let i = 0; i < 10; i++) answersA.push(await client!.once({ host: lab.vip, localAddress: A }));
  t.same(answersA, Array(10).fill('rs1'), 'client A: the first rr choice (rs1) answers all 10 new connections');
  const firstB = await client!.once({ host: lab.vip, localAddress: B });
  t.equal(firstB, 'rs2', 'client B is scheduled: rr gives it the next server');

  const conns = await connsIn(dir1);
  const templates = conns.filter((c) => c.state === 'NONE');
  t.same(templates.map((c) => [c.protocol, c.source, c.virtual, c.destination]).sort(), [
    ['TCP', `${A}:0`, '198.18.0.100:80', '198.18.0.10:80'],
    ['TCP', `${B}:0`, '198.18.0.100:80', '198.18.0.20:80'],
  ], 'ulvs conns lists one template per client (NONE, client port 0)');
  t.ok(conns.findIndex((c) => c.state !== 'NONE') > conns.findLastIndex((c) => c.state === 'NONE'), 'templates are listed first');
  const aConns = conns.filter((c) => c.source.startsWith(`${A}:`) && c.state !== 'NONE');
  t.ok(aConns.length > 0 && aConns.every((c) => c.state === 'FIN_WAIT' && c.destination === '198.18.0.10:80'),
    `and client A's closed connections, FIN_WAIT to rs1 (${aConns.length} still listed)`);
  const text = (await labExec(dir1, [process.execPath, `${REPO}/bin/ulvs.js`, 'conns'])).stdout;
  t.match(text, new RegExp(`^TCP +\\d\\d:\\d\\d +NONE +${A.replace(/\./g, '\\.')}:0 +198\\.18\\.0\\.100:80 +198\\.18\\.0\\.10:80$`, 'm'),
    'the text listing has the template line as ipvsadm -Lnc prints it');

  // The template outlives its connections (FIN_WAIT, tcpfin 8 s: long enough that a busy machine
  // lists them before they go) by persistence_timeout (3 s).
  const gone = await waitFor(async () => !(await connsIn(dir1)).some((c) => c.source === `${A}:0`), 40_000, 250);
  t.ok(gone, 'client A\'s template expires once its connections are gone');
  const after = await client!.once({ host: lab.vip, localAddress: A });
  t.equal(after, 'rs3', 'client A\'s next connection is scheduled again: rr moves it to the next server (rs3)');
  const again: string[] = [];
  for (let i = 0; i < 5; i++) again.push(await client!.once({ host: lab.vip, localAddress: A }));
  t.same(again, Array(5).fill('rs3'), 'and a new template keeps it there');
});

t.test('a virtual_server_groups service keeps a client on one server across its ports', async (t) => {
  t.teardown(async () => { await director?.stop(); director = null; });
  // The lab's servers listen on 80 only: a second one on 8080 in every real server.
  for (const n of ['rs1', 'rs2', 'rs3'] as const) {
    const ns = lab.nodes[n].name;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, `${REPO}/scripts/lab-server.mjs`, '--name', n, '--port', '8080'], { stdio: 'ignore' });
    listeners.push(child);
  }
  const listening = await waitFor(async () => {
    const r = await Promise.all(['rs1', 'rs2', 'rs3'].map((n) => labExec(lab.nodes.client.name, ['curl', '-s', '-m', '1', `http://${lab.nodes[n as 'rs1'].ip}:8080/`])));
    return r.every((x, i) => x.stdout.trim() === `rs${i + 1}`);
  }, 10_000, 200);
  t.ok(listening, 'each real server also answers on 8080');

  director = await startDirector(lab.nodes.dir1.name, writeConfig(`${HEAD}virtual_server_groups:
  - { name: web, members: [ "198.18.0.100 80", "198.18.0.100 8080" ] }
virtual_servers:
  - group: web
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    persistence_timeout: 30
    real_servers:
${REAL_SERVERS(0)}`));
  const answers: string[] = [];
  for (let i = 0; i < 10; i++) answers.push(await client!.once({ host: lab.vip, port: i % 2 ? 8080 : 80, localAddress: C }));
  t.same(answers, Array(10).fill('rs1'), 'client C: 10 connections alternating :80 and :8080 all go to rs1');
  const d8080 = await client!.once({ host: lab.vip, port: 8080, localAddress: D });
  const d80 = await client!.once({ host: lab.vip, port: 80, localAddress: D });
  t.same([d8080, d80], ['rs2', 'rs2'], 'client D is scheduled once (rr: rs2) and keeps rs2 on both ports');

  // Port 0 real servers: the connection went to the port the client asked for.
  const conns = await connsIn(lab.nodes.dir1.name);
  const cConns = conns.filter((c) => c.source.startsWith(`${C}:`) && c.state !== 'NONE');
  t.equal(cConns.length, 10, 'client C\'s 10 connections are tracked');
  t.ok(cConns.every((c) => c.destination === `198.18.0.10:${c.virtual.split(':')[1]}`), 'each to rs1 on the port it was addressed to');
  const templates = conns.filter((c) => c.state === 'NONE');
  t.same(templates.map((c) => [c.protocol, c.source, c.destination.split(':')[0]]).sort(), [
    ['IP', `${C}:0`, '198.18.0.10'],
    ['IP', `${D}:0`, '198.18.0.20'],
  ], 'one template per client for the whole group, listed as protocol IP');
});
