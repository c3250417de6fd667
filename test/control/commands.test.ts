// The control commands' pure parts: connection counts summed over workers, and the snapshot
// listed as ipvsadm lists it.
import t from 'tap';
import { loadConfigText } from '../../src/config/index.js';
import { serviceStatuses, sumConnections } from '../../src/control/commands.js';
import { compileSnapshot, IdRegistry } from '../../src/control/compile.js';
import { ipToNumber } from '../../src/packet/addr.js';

const { config } = loadConfigText(`
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: sh
    sh_port: true
    lb_kind: TUN
    persistence_timeout: 60
    persistence_granularity: 255.255.255.0
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
`, 'commands.yaml');

t.test('connections per real server are summed over the workers', async (t) => {
  t.same([...sumConnections([{ conns: { 1: [2, 3] } }, { conns: { 1: [1, 0], 4: [0, 9] } }])], [[1, [3, 3, 0]], [4, [0, 9, 0]]]);
  t.same([...sumConnections([{ conns: { 1: [2, 3, 4] } }, { conns: { 1: [1, 0, 2] } }])], [[1, [3, 3, 6]]], 'templates (PersistConn) summed too');
});

t.test('one line per service address; servers a check took out are not listed', async (t) => {
  const ids = new IdRegistry();
  const snap = compileSnapshot(config, ids, {
    macOf: () => null, sorryActive: () => false, ownsVip: () => true, tunnelSource: ipToNumber('198.18.0.2'),
    healthOf: (_, rs) => (rs === '198.18.0.20:80' ? { up: false } : undefined),
  }, 1);
  const rsId = snap.services[0].realServers[0].rsId;
  const [s] = serviceStatuses(snap, config, ids, new Map([[rsId, [4, 1, 3]]]));
  t.match(s, { protocol: 'TCP', vip: '198.18.0.100', port: 80, scheduler: 'sh', schedulerFlags: ['sh-port'],
    persistenceTimeout: 60, persistenceNetmask: '255.255.255.0', onePacket: false });
  t.same(s.realServers, [{ ip: '198.18.0.10', port: 80, forward: 'Tunnel', weight: 1, uthreshold: 0, lthreshold: 0, activeConns: 4, inactiveConns: 1, up: true, persistConns: 3 }]);
});
