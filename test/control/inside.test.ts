// dataplane.inside omitted or auto: the pure decision from the kernel's routes to the NAT
// real servers (src/control/inside.ts); the e2e side is test/e2e/nat-auto-inside.test.ts.
import t from 'tap';
import fc from 'fast-check';
import { chooseInside, insideIsAuto, natNextHops } from '../../src/control/inside.js';
import { loadConfigText } from '../../src/config/index.js';

t.test('one interface toward every NAT real server is the inside one', async (t) => {
  t.match(chooseInside('eth0', [{ ip: '198.18.1.10', dev: 'eth1' }, { ip: '198.18.1.20', dev: 'eth1' }]), { ok: true, dev: 'eth1' });
  t.match(chooseInside('eth0', [{ ip: '198.18.1.10', dev: 'eth1' }, { ip: '127.0.0.1', dev: 'lo' }]), { ok: true, dev: 'eth1' },
    'a local real server (IPVS Local forwarding) needs no inside interface');
  t.match(chooseInside('eth0', [{ ip: '127.0.0.1', dev: 'lo' }]), { ok: true, dev: null });
});

t.test('different interfaces, or the outside one, fail with one line that names them', async (t) => {
  const split = chooseInside('eth0', [{ ip: '198.18.1.10', dev: 'eth1' }, { ip: '198.18.2.10', dev: 'eth2' }]);
  t.match(split, { ok: false, error: /^dataplane\.inside: the NAT real servers lie behind different interfaces \(198\.18\.1\.10 via eth1, 198\.18\.2\.10 via eth2\); .*set dataplane\.inside/ });
  const outside = chooseInside('eth0', [{ ip: '198.18.0.10', dev: 'eth0' }]);
  t.match(outside, { ok: false, error: /behind the outside interface eth0 \(198\.18\.0\.10 via eth0\).*lb_kind: DR/ });
  fc.assert(fc.property(fc.array(fc.record({ ip: fc.ipV4(), dev: fc.constantFrom('eth0', 'eth1', 'eth2', 'lo') }), { maxLength: 8 }), (routes) => {
    const r = chooseInside('eth0', routes);
    const devs = new Set(routes.filter((x) => x.dev !== 'lo').map((x) => x.dev));
    if (devs.size === 0) return r.ok && r.dev === null;
    if (devs.size > 1 || devs.has('eth0')) return !r.ok && !r.error.includes('\n');
    return r.ok && r.dev === [...devs][0];
  }));
});

t.test('which addresses are asked about: real and sorry servers of NAT services only', async (t) => {
  const config = loadConfigText(`
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    sorry_server: { ip: 198.18.1.99, port: 80 }
    real_servers: [ { ip: 198.18.1.10 }, { ip: 198.18.1.20 } ]
  - vip: 198.18.0.101
    port: 80
    lb_kind: DR
    real_servers: [ { ip: 198.18.0.30 } ]
`, 'n.yaml').config;
  t.same(natNextHops(config), ['198.18.1.10', '198.18.1.20', '198.18.1.99']);
  t.equal(config.dataplane.inside, undefined, 'NAT without inside loads');
  t.equal(insideIsAuto(undefined), true);
  t.equal(insideIsAuto('auto'), true);
  t.equal(insideIsAuto('eth1'), false);
});
