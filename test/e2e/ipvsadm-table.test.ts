// `ulvs ipvsadm`'s table changes on a running director in its own lab (prefix ia2-): -a/-d
// under traffic with zero failed requests, refusals in check-config's and libipvs's words,
// -S / -C / -R back to the same table, a bad restore line that changes nothing.
import t from 'tap';
import { httpFrom, tally } from './director.js';
import { startIpvsadmLab, VIP } from './ipvsadm-lab.js';

const prefix = 'ia2-';
t.setTimeout(900_000); // every command is a node start-up inside a namespace: ~10 s on the shared machine

t.test('ulvs ipvsadm -a/-d under traffic, -S/-C/-R', { timeout: 600_000 }, async (t) => {
  const { client, url, ipvsadm, inact } = await startIpvsadmLab(t, prefix);

  // -a / -d with traffic flowing: no request fails.
  // Long enough that both commands (each a node start-up on a busy machine) land inside it.
  const stream = httpFrom(client, url, 45_000, 'duration');
  let streamDone = false;
  void stream.then(() => { streamDone = true; }, () => { streamDone = true; });
  const add = await ipvsadm(['-a', '-t', VIP, '-r', '198.18.0.30:80', '-g', '-w', '1']);
  t.same([add.code, add.stderr], [0, ''], '-a rs3 (not in the config)');
  t.ok(inact((await ipvsadm(['-Ln'])).stdout, '198.18.0.30') >= 0, 'rs3 is listed');
  const del = await ipvsadm(['-d', '-t', VIP, '-r', '198.18.0.30:80']);
  t.same([del.code, del.stderr], [0, ''], '-d rs3');
  t.notOk(streamDone, 'both changes happened while the client kept connecting');
  const flowing = await stream;
  t.same(flowing.bodies.filter((b) => !/^rs[123]$/.test(b)), [], `no failed request among ${flowing.bodies.length}`);
  t.ok((tally(flowing.bodies).rs3 ?? 0) > 0, `rs3 took traffic while it was in (${JSON.stringify(tally(flowing.bodies))})`);
  t.notMatch((await ipvsadm(['-Ln'])).stdout, /198\.18\.0\.30/, 'rs3 is gone');

  // A refusal in check-config's words, and ipvsadm's for what IPVS refuses.
  const twice = await ipvsadm(['-a', '-t', VIP, '-r', '198.18.0.10:80']);
  t.same([twice.code, twice.stderr], [2, 'real server 198.18.0.10:80 is listed twice in this service\n']);
  const none = await ipvsadm(['-d', '-t', VIP, '-r', '198.18.0.99:80']);
  t.same([none.code, none.stderr], [255, 'No such destination\n']);

  // -S, -C, -R: the same table.
  await ipvsadm(['-e', '-t', VIP, '-r', '198.18.0.20:80', '-w', '5']);
  const saved = (await ipvsadm(['-Sn'])).stdout;
  t.equal(saved, '-A -t 198.18.0.100:80 -s rr\n-a -t 198.18.0.100:80 -r 198.18.0.10:80 -g -w 1\n-a -t 198.18.0.100:80 -r 198.18.0.20:80 -g -w 5\n', 'ipvsadm -Sn');
  t.equal((await ipvsadm(['-C'])).code, 0, '-C');
  t.equal((await ipvsadm(['-Ln'])).stdout.split('\n').length, 4, 'the table is empty');
  const bad = await ipvsadm(['-R'], `${saved}-a -t 198.18.0.100:80 -r 198.18.0.40:80 -w 70000\n`);
  t.equal(bad.code, 2, 'a restore with a bad line is refused');
  t.match(bad.stderr, /^line 4: illegal weight specified\n/, 'naming the line');
  t.equal((await ipvsadm(['-Ln'])).stdout.split('\n').length, 4, 'and changes nothing');
  const restored = await ipvsadm(['-R'], saved);
  t.same([restored.code, restored.stderr], [0, ''], '-R');
  t.equal((await ipvsadm(['-Sn'])).stdout, saved, 'the same table back');
  t.same(tally((await httpFrom(client, url, 12, 'new')).bodies), { rs1: 6, rs2: 6 }, 'and it forwards by it (rr: any weight above 0 takes turns)');
});
