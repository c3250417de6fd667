// DR over IPv6 through the TAP backend: tc's u32 filters (`protocol ipv6`, at their own
// preferences) steer the IPv6 VIP's TCP port 80 into the tap; wrr 1:3:3 gives exactly
// 10/30/30 of 70 new connections over IPv6 and over IPv4 in the same run, and a clean stop
// leaves no filter behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, tally, writeConfig, type RunningDirector } from './director.js';

const prefix = 'vdt-';

t.test('DR over IPv6 with io: tap', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  t.equal((await labExec(dir1, ['ip', '-6', 'addr', 'add', '2001:2::100/128', 'dev', 'eth0', 'nodad'])).code, 0, 'dir1 holds the IPv6 VIP');
  const sample = readFileSync(join(REPO, 'configs', 'lab-dr6.yaml'), 'utf8');
  director = await startDirector(dir1, writeConfig(sample.replace(/io: auto/, 'io: tap')));
  t.match(director.log(), /packets taken with tap/, 'TAP backend');
  const filters = (await labExec(dir1, ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress'])).stdout;
  t.match(filters, /protocol ipv6 pref 424[45] u32/, 'an IPv6 u32 filter at its own preference');
  const six = await httpFrom(lab.nodes.client.name, 'http://[2001:2::100]/', 70, 'new');
  t.same(tally(six.bodies), { rs1: 10, rs2: 30, rs3: 30 }, 'wrr 1:3:3 over IPv6: 10/30/30');
  const four = await httpFrom(lab.nodes.client.name, 'http://198.18.0.100/', 70, 'new');
  t.same(tally(four.bodies), { rs1: 10, rs2: 30, rs3: 30 }, 'and over IPv4 beside it');
  t.equal(await director.stop(), 0, 'clean stop');
  director = null;
  t.equal((await labExec(dir1, ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress'])).stdout.trim(), '', 'no tc filter left');
});
