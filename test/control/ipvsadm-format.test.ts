// ipvsadm 1.31's listing formats, byte for byte: every listing option against the outputs that
// fixtures/ipvsadm/generate.py writes from ipvsadm.c's own printf format strings.
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  formatConnections, formatIpvsList, formatIpvsService, formatRules, largeNum, NUMERIC, type ListFormat, type ServiceStatus,
} from '../../src/control/format.js';
import { nameTables } from '../../src/cli/ipvsadm-names.js';

const dir = new URL('./fixtures/ipvsadm/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const table = JSON.parse(fixture('table.json')) as { size: number; services: ServiceStatus[]; connections: Parameters<typeof formatConnections>[0] };
const fmt = (over: Partial<ListFormat>): ListFormat => ({ ...NUMERIC, ...over });

const combos: [string, Partial<ListFormat>][] = [
  ['plain', {}], ['stats', { stats: true }], ['rate', { rate: true }], ['thresholds', { thresholds: true }],
  ['persistentConn', { persistentConn: true }], ['stats-exact', { stats: true, exact: true }], ['rate-exact', { rate: true, exact: true }],
];
for (const [name, over] of combos) {
  t.test(`ipvsadm -Ln ${name}: byte-identical to ipvsadm's printf formats`, async (t) => {
    t.equal(formatIpvsList(table.services, table.size, fmt(over)), fixture(`${name}.txt`));
  });
}

t.test('--stats wins over --rate and --thresholds, as print_title tests stats first', async (t) => {
  t.equal(formatIpvsList(table.services, table.size, fmt({ stats: true, rate: true, thresholds: true })), fixture('stats.txt'));
});

t.test('ipvsadm -Sn: the save format (-A then -a lines, sorted)', async (t) => {
  t.equal(formatRules(table.services, true), fixture('rule.txt'));
});

t.test('ipvsadm -Lnc and --persistent-conn', async (t) => {
  t.equal(formatConnections(table.connections), fixture('connections.txt'));
  t.equal(formatConnections(table.connections, { numeric: true, persistentConn: true }), fixture('connections-persistentConn.txt'));
});

t.test('-L -t VIP:PORT: the title and that service, no version line', async (t) => {
  const tcp80 = table.services.find((s) => s.port === 80)!;
  const text = formatIpvsService(tcp80, NUMERIC);
  t.equal(text, fixture('plain.txt').split('\n').slice(1, 3).join('\n') + '\n' + fixture('plain.txt').split('\n').slice(6, 9).join('\n') + '\n');
});

t.test('--nosort keeps the order services were added in', async (t) => {
  const text = formatIpvsList(table.services, table.size, fmt({ noSort: true }));
  t.match(text.split('\n')[3], /^UDP  198\.18\.0\.100:53 rr ops$/);
  t.match(text.split('\n')[4], /198\.18\.1\.20:5353/);
});

t.test('without -n: host names from /etc/hosts, port names from /etc/services', async (t) => {
  const names = nameTables('198.18.0.100 www.lab\n', 'http 80/tcp www\ndomain 53/udp\n');
  const text = formatIpvsList(table.services, table.size, fmt({ numeric: false }), names);
  t.match(text, /^TCP  www\.lab:http wrr persistent 300 mask 255\.255\.255\.0$/m);
  t.match(text, /^UDP  www\.lab:domain rr ops$/m);
  t.match(text, /^TCP  198\.18\.0\.9:443 sh/m, 'unknown names stay numeric');
  t.match(formatRules(table.services, false, names), /^-A -t www\.lab:http -s wrr -p 300 -M 255\.255\.255\.0$/m);
});

t.test('print_largenum: thresholds of the K/M/G/T steps and --exact widths', async (t) => {
  t.equal(largeNum(99999999, false), ' 99999999');
  t.equal(largeNum(100000000, false), '  100000K');
  t.equal(largeNum(999999999, false), '  999999K');
  t.equal(largeNum(1000000000, false), '    1000M');
  t.equal(largeNum(99999999999, false), '   99999M');
  t.equal(largeNum(100000000000, false), '     100G');
  t.equal(largeNum(100000000000000, false), '     100T');
  t.equal(largeNum(12345678, true), ' 12345678');
  t.equal(largeNum(123456789, true), ' 123456789');
});
