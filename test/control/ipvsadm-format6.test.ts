// IPv6 services in ipvsadm's formats (ipvsadm.c addrport_to_anyname, print_service_entry,
// libipvs ipvs_cmp_services/ipvs_cmp_dests): [addr]:port, no 33/28 column cut for IPv6,
// `mask N` as a prefix length, IPv4 services before IPv6 ones, IPv6 sorted word by word.
import t from 'tap';
import fc from 'fast-check';
import {
  compareServers, formatConnections, formatIpvsList, formatRules, NUMERIC, type RealServerStatus, type ServiceStatus,
} from '../../src/control/format.js';
import { formatIpv6, parseIpv6 } from '../../src/packet/addr6.js';

const rs = (ip: string, weight: number): RealServerStatus => ({ ip, port: 80, forward: 'Route', weight, activeConns: 0, inactiveConns: 0, up: true });
const svc = (vip: string, realServers: RealServerStatus[], over: Partial<ServiceStatus> = {}): ServiceStatus => ({
  protocol: 'TCP', vip, port: 80, scheduler: 'wrr', schedulerFlags: [], persistenceTimeout: 0,
  persistenceNetmask: vip.includes(':') ? '128' : '255.255.255.255', onePacket: false, realServers, ...over,
});

const dualStack = [
  svc('2001:2::100', [rs('2001:2::30', 3), rs('2001:2::10', 1), rs('2001:2::20', 3)]),
  svc('198.18.0.100', [rs('198.18.0.10', 1)]),
  svc('2001:2:0:ffff:ffff:ffff:ffff:100', [rs('2001:2:0:ffff:ffff:ffff:ffff:10', 1)], { persistenceTimeout: 300, persistenceNetmask: '64' }),
];

t.test('ipvsadm -Ln: a dual-stack table', async (t) => {
  t.equal(formatIpvsList(dualStack, 4096, NUMERIC), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  198.18.0.100:80 wrr',
    '  -> 198.18.0.10:80               Route   1      0          0         ',
    'TCP  [2001:2::100]:80 wrr',
    '  -> [2001:2::10]:80              Route   1      0          0         ',
    '  -> [2001:2::20]:80              Route   3      0          0         ',
    '  -> [2001:2::30]:80              Route   3      0          0         ',
    'TCP  [2001:2:0:ffff:ffff:ffff:ffff:100]:80 wrr persistent 300 mask 64',
    '  -> [2001:2:0:ffff:ffff:ffff:ffff:10]:80 Route   1      0          0         ',
    '',
  ].join('\n'));
});

t.test('ipvsadm -Sn: IPv6 rules, -M as a prefix length', async (t) => {
  t.equal(formatRules(dualStack.slice(2), true), [
    '-A -t [2001:2:0:ffff:ffff:ffff:ffff:100]:80 -s wrr -p 300 -M 64',
    '-a -t [2001:2:0:ffff:ffff:ffff:ffff:100]:80 -r [2001:2:0:ffff:ffff:ffff:ffff:10]:80 -g -w 1',
    '',
  ].join('\n'));
});

t.test('ipvsadm -Lc: IPv6 connections keep their brackets, named or not', async (t) => {
  const conns = [{ protocol: 'TCP', expiresIn: 61, state: 'ESTABLISHED', source: '[2001:2::1]:40000', virtual: '[2001:2::100]:80', destination: '[2001:2::10]:80' }];
  const expected = 'IPVS connection entries\npro expire state       source             virtual            destination\n'
    + 'TCP 01:01  ESTABLISHED [2001:2::1]:40000  [2001:2::100]:80   [2001:2::10]:80\n';
  t.equal(formatConnections(conns), expected);
  const names = { hostOf: () => undefined, serviceOf: (p: number) => (p === 80 ? 'http' : undefined) };
  t.match(formatConnections(conns, { numeric: false, persistentConn: false }, names), /\[2001:2::100\]:http +\[2001:2::10\]:http\n/);
});

t.test('IPv6 real servers sort as libipvs: word by word, signed 32-bit differences (property)', async () => {
  const word = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x20010002);
  const addr = fc.tuple(word, word, word, word).map((ws) => {
    const b = new Uint8Array(16);
    ws.forEach((w, i) => { b[4 * i] = w >>> 24; b[4 * i + 1] = (w >>> 16) & 255; b[4 * i + 2] = (w >>> 8) & 255; b[4 * i + 3] = w & 255; });
    return { text: formatIpv6(b), ws };
  });
  fc.assert(fc.property(addr, addr, (a, b) => {
    // The oracle: ipvs_cmp_dests' loop, r = (int)(ntohl(a[i]) - ntohl(b[i])).
    let r = 0;
    for (let i = 0; r === 0 && i < 4; i++) r = (a.ws[i] - b.ws[i]) | 0;
    const got = compareServers(rs(a.text, 1), rs(b.text, 1));
    return Math.sign(got) === Math.sign(r) && formatIpv6(parseIpv6(a.text)) === a.text;
  }), { numRuns: 2000 });
});
