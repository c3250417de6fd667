// The ipvsadm text formats: `ipvsadm -Ln` and `ipvsadm -Lnc`, column for column.
import t from 'tap';
import { formatConnections, formatIpvsList, type ServiceStatus } from '../../src/control/format.js';

const service = (over: Partial<ServiceStatus> = {}): ServiceStatus => ({
  protocol: 'TCP', vip: '198.18.0.100', port: 80, scheduler: 'wrr', schedulerFlags: [],
  persistenceTimeout: 0, persistenceNetmask: '255.255.255.255', onePacket: false,
  realServers: [
    { ip: '198.18.0.10', port: 80, forward: 'Route', weight: 3, activeConns: 12, inactiveConns: 4, up: true },
    { ip: '198.18.0.20', port: 80, forward: 'Route', weight: 0, activeConns: 0, inactiveConns: 0, up: true },
  ],
  ...over,
});

t.test('ipvsadm -Ln: header, one line per service, one per real server', async (t) => {
  t.equal(formatIpvsList([service()], 1048576), [
    'IP Virtual Server version 1.2.1 (size=1048576)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  198.18.0.100:80 wrr',
    '  -> 198.18.0.10:80               Route   3      12         4',
    '  -> 198.18.0.20:80               Route   0      0          0',
    '',
  ].join('\n'));
});

t.test('ipvsadm -Ln flags: scheduler flags, persistence with and without mask, ops', async (t) => {
  const text = formatIpvsList([
    service({ scheduler: 'sh', schedulerFlags: ['sh-port', 'sh-fallback'], realServers: [] }),
    service({ persistenceTimeout: 300, realServers: [] }),
    service({ persistenceTimeout: 60, persistenceNetmask: '255.255.255.0', realServers: [] }),
    service({ protocol: 'UDP', port: 53, scheduler: 'rr', onePacket: true,
      realServers: [{ ip: '198.18.1.10', port: 5353, forward: 'Masq', weight: 1, activeConns: 0, inactiveConns: 7, up: true }] }),
  ], 4096);
  t.same(text.split('\n').slice(3), [
    'TCP  198.18.0.100:80 sh (sh-port,sh-fallback)',
    'TCP  198.18.0.100:80 wrr persistent 300',
    'TCP  198.18.0.100:80 wrr persistent 60 mask 255.255.255.0',
    'UDP  198.18.0.100:53 rr ops',
    '  -> 198.18.1.10:5353             Masq    1      0          7',
    '',
  ]);
});

t.test('no services: the header alone', async (t) => {
  t.equal(formatIpvsList([], 16).split('\n').length, 4);
});

t.test('ipvsadm -Lnc: expire as mm:ss (never negative), padded columns', async (t) => {
  t.equal(formatConnections([
    { protocol: 'TCP', expiresIn: 899.7, state: 'ESTABLISHED', source: '198.18.0.1:40000', virtual: '198.18.0.100:80', destination: '198.18.0.10:80' },
    { protocol: 'UDP', expiresIn: -3, state: 'UDP', source: '198.18.0.1:5000', virtual: '198.18.0.101:53', destination: '198.18.1.10:5353' },
  ]), [
    'IPVS connection entries',
    'pro expire state       source             virtual            destination',
    'TCP 14:59  ESTABLISHED 198.18.0.1:40000   198.18.0.100:80    198.18.0.10:80',
    'UDP 00:00  UDP         198.18.0.1:5000    198.18.0.101:53    198.18.1.10:5353',
    '',
  ].join('\n'));
});
