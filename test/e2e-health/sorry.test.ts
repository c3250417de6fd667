// Issue 4: when every real server is down the sorry server answers through the VIP, and the
// first real server to come back takes the traffic back from it.
import t from 'tap';
import { labExec, startServer, stopServer } from '../../src/lab/index.js';
import { httpFrom, tally, ulvsIn } from '../e2e/director.js';
import { drConfig, runDirector, startHelperServer, startLab, waitFor, watchTable } from './support.js';

const PREFIX = 'hso-';
const SORRY = '198.18.0.3:80';
const URL = 'http://198.18.0.100/';

const check = 'tcp_check: { connect_timeout: 1, retry: 0 }';
const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 1, ${check} }`,
  `{ ip: 198.18.0.20, port: 80, weight: 1, ${check} }`,
  `{ ip: 198.18.0.30, port: 80, weight: 1, ${check} }`,
], `delay_loop: 1
sorry_server: { ip: 198.18.0.3, port: 80 }`);

t.test('all real servers down: the sorry server answers; one returns: traffic goes back to it', async (t) => {
  const lab = await startLab(t, PREFIX);
  // The sorry server is dir2 (198.18.0.3). DR keeps the VIP as destination, so dir2 holds it
  // on lo like a real server, without answering ARP for it.
  const dir2 = lab.nodes.dir2.name;
  const prep = await labExec(dir2, ['sh', '-c', 'ip addr add 198.18.0.100/32 dev lo && sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2']);
  t.equal(prep.code, 0, `dir2 holds the VIP on lo ${prep.stderr}`);
  await startHelperServer(t, dir2, ['text', '80', 'sorry']);

  const { director, dir1, client } = await runDirector(t, lab, config);
  const table = watchTable(t, dir1);
  const before = await httpFrom(client, URL, 12, 'new');
  t.same(tally(before.bodies), { rs1: 4, rs2: 4, rs3: 4 }, 'with all three up, the sorry server gets nothing');

  const stoppedAt = Date.now();
  await Promise.all(['rs1', 'rs2', 'rs3'].map((rs) => stopServer(rs, { prefix: PREFIX })));
  const sorryIn = await waitFor(() => table.firstAfter(stoppedAt, (s) => Object.keys(s).join() === SORRY), 8000);
  t.ok(sorryIn !== undefined, `only the sorry server is in the table ${sorryIn! - stoppedAt} ms after the three stopped`);
  t.match(director.log(), /quorum lost: sorry server takes the traffic/, 'the director logged the quorum loss');
  const list = await ulvsIn(dir1, ['list', '-n']);
  t.match(list.stdout, /198\.18\.0\.3:80 +Route +1 /, '`ulvs list -n` shows the sorry server');
  const sorry = await httpFrom(client, URL, 10, 'new');
  t.same(tally(sorry.bodies), { sorry: 10 }, 'clients get the sorry server through the VIP');

  const startedAt = Date.now();
  await startServer('rs1', { prefix: PREFIX });
  const back = await waitFor(() => table.firstAfter(startedAt, (s) => Object.keys(s).join() === '198.18.0.10:80'), 5000);
  t.ok(back !== undefined, `rs1 alone replaces the sorry server ${back! - startedAt} ms after it listens`);
  t.match(director.log(), /quorum back: sorry server leaves/, 'the director logged the quorum coming back');
  const after = await httpFrom(client, URL, 10, 'new');
  t.same(tally(after.bodies), { rs1: 10 }, 'traffic goes back to rs1');
});
