// sh (source hashing): one client address always lands on one real server across new
// connections; different client addresses spread over the servers.
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { ipToNumber } from '../../src/packet/addr.js';
import { createScheduler, realServerSetFrom } from '../../src/schedulers/index.js';
import { labDrConfig, startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, addClientAddresses } from './lab-client.js';

const prefix = 'e2sh-';
const CLIENTS = Array.from({ length: 12 }, (_, i) => `198.18.0.${51 + i}`);

t.test('sh keeps each client address on one server and spreads addresses', async (t) => {
  let director: RunningDirector | null = null;
  let client: LabClient | null = null;
  t.teardown(async () => { client?.stop(); await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  await addClientAddresses(lab.nodes.client.name, CLIENTS);
  director = await startDirector(lab.nodes.dir1.name, writeConfig(labDrConfig({ lbAlgo: 'sh' })));
  client = LabClient.start(lab.nodes.client.name);

  const serverOf = new Map<string, string>();
  for (const address of CLIENTS) {
    const answers: string[] = [];
    // 20 new connections, each from a fresh source port: sh hashes the address only.
    for (let i = 0; i < 20; i++) answers.push(await client.once({ host: lab.vip, localAddress: address }));
    t.equal(answers.length, 20);
    t.same(new Set(answers).size, 1, `${address}: all 20 connections answered by one server (${answers[0]})`);
    t.match(answers[0], /^rs[123]$/, `${address}: answered`);
    serverOf.set(address, answers[0]);
  }
  // The director's choice is IPVS's sh hash over the configured servers, as the unit-tested scheduler computes it.
  const set = realServerSetFrom([10, 20, 30].map((n) => ({ ip: ipToNumber(`198.18.0.${n}`), port: 80, weight: 1 })));
  const sh = createScheduler('sh', {}, set);
  const expected = Object.fromEntries(CLIENTS.map((a) => [a, `rs${1 + sh.schedule(set, ipToNumber(a), 40000, ipToNumber(lab.vip), 80)}`]));
  t.same(Object.fromEntries(serverOf), expected, 'each address lands where the sh scheduler hashes it');
  const used = new Set(serverOf.values());
  t.ok(used.size >= 2, `12 client addresses spread over several servers (${JSON.stringify(Object.fromEntries(serverOf))})`);
});
