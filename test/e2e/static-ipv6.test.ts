// static_ipaddress takes IPv6 (issue 16 part 2): the director holds 2001:2::100 (no prefix:
// a /128) on eth0, added nodad, so the client reaches it at once over IPv6 (a TCP connect to
// a closed port is refused by dir1's kernel, not left unanswered); on stop it is removed.
// The IPv4 service beside it forwards as before. Dual-stack lab, prefix vcs-.
import t from 'tap';
import { createLab, destroyLab, labExec, LAB_IPV6 } from '../../src/lab/index.js';
import { startDirector, writeConfig } from './director.js';

const PREFIX = 'vcs-';

const CONFIG = `dataplane:
  interface: eth0
  io: auto
static_ipaddress:
  - { address: 198.18.0.100/32, dev: eth0 }
  - { address: "${LAB_IPV6.vip}", dev: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
`;

t.test('an IPv6 static_ipaddress is held (nodad), reachable, and released on stop', async (t) => {
  const lab = await createLab({ prefix: PREFIX });
  t.teardown(() => destroyLab({ prefix: PREFIX }));
  const { dir1, client } = lab.nodes;
  const director = await startDirector(dir1.name, writeConfig(CONFIG));
  t.teardown(() => director.stop());
  const addrs = await labExec(dir1.name, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
  t.match(addrs.stdout, `inet6 ${LAB_IPV6.vip}/128 scope global nodad`, 'held as a /128, nodad');
  const refused = await labExec(client.name, ['curl', '-s', '-m', '10', `http://[${LAB_IPV6.vip}]:8080/`]);
  t.equal(refused.code, 7, 'connection refused by dir1 (reached at once: no DAD wait)');
  const v4 = await labExec(client.name, ['curl', '-s', '-m', '10', 'http://198.18.0.100/']);
  t.equal(v4.stdout, 'rs1\n', 'the IPv4 service forwards beside it');
  t.equal(await director.stop(), 0, 'director stopped cleanly');
  const after = await labExec(dir1.name, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0']);
  t.notMatch(after.stdout, LAB_IPV6.vip, 'released on stop');
});
