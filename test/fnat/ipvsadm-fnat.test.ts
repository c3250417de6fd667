// `ulvs ipvsadm` and Full NAT: DPVS's --fullnat names the forwarding method (its short -b stays
// ipvsadm 1.31's --sched-flags), real servers are added to and removed from a FNAT service of
// the config at run time, -S writes --fullnat and -R reads it back; DPVS's local address
// commands and a FNAT service with no local address group are refused with the reason.
import t from 'tap';
import { IpvsadmExit, LADDR_REFUSAL, parseIpvsadm } from '../../src/cli/ipvsadm-args.js';
import { nameTables } from '../../src/cli/ipvsadm-names.js';
import { loadConfigText } from '../../src/config/index.js';
import { planRuntime, type NumberedEdit } from '../../src/control/ipvsadm-commands.js';
import { NO_OVERRIDES, type RuntimeEdit } from '../../src/control/runtime-overrides.js';
import { formatRules } from '../../src/control/format.js';

const names = nameTables('', '');
const parse = (line: string) => parseIpvsadm(line.split(' ').filter(Boolean), names);
const exitOf = (line: string): { message: string; status: number } => {
  try { parse(line); } catch (e) { if (e instanceof IpvsadmExit) return { message: e.message, status: e.status }; throw e; }
  throw new Error(`"${line}" parsed`);
};

const CONFIG = `
dataplane: { interface: eth0, inside: eth1 }
local_address_groups:
  - { name: laddr_in, addresses: [ { ip: 198.18.1.200, dev: eth1 } ] }
virtual_servers:
  - { vip: 198.18.0.100, port: 80, lb_algo: rr, lb_kind: FNAT, laddr_group_name: laddr_in,
      real_servers: [ { ip: 198.18.1.10, port: 80 } ] }
`;
const config = loadConfigText(CONFIG, 'fnat.yaml').config;

function edit(line: string): RuntimeEdit {
  const c = parse(line);
  const service = c.service!;
  if (c.command === 'add-server' || c.command === 'edit-server') {
    return { op: c.command, service, server: c.server!, forward: c.forward, weight: c.weight, uthreshold: c.uthreshold, lthreshold: c.lthreshold };
  }
  if (c.command === 'delete-server') return { op: 'delete-server', service, server: c.server! };
  if (c.command === 'add-service') return { op: 'add-service', service, scheduler: c.scheduler || 'wlc', persistent: c.persistent, netmask: c.netmask, ops: c.ops, schedFlags: c.schedFlags };
  throw new Error(`not an edit: ${line}`);
}
const plan = (...lines: string[]) => planRuntime(config, NO_OVERRIDES, lines.map((l, i): NumberedEdit => ({ line: i + 1, edit: edit(l) })));

t.test('--fullnat is the forwarding method; -b stays --sched-flags', async (t) => {
  t.equal(parse('-a -t 198.18.0.100:80 -r 198.18.1.20:80 --fullnat -w 2').forward, 'FNAT');
  t.same(parse('-A -t 198.18.0.100:80 -s sh -b sh-port').schedFlags, ['sh-port'], '-b sh-port: ipvsadm 1.31\'s scheduler flags');
  t.match(exitOf('-a -t 198.18.0.100:80 -r 198.18.1.20:80 --fullnat -m'), { status: 2, message: /multiple 'forwarding-method' options/ });
});

t.test('real servers added and removed at run time on a FNAT service of the config', async (t) => {
  const added = plan('-a -t 198.18.0.100:80 -r 198.18.1.20:80 --fullnat -w 2');
  t.equal(added.ok, true, 'added with --fullnat');
  if (!added.ok) return;
  const vs = added.effective.virtual_servers[0];
  t.same(vs.real_servers.map((r) => `${r.ip}:${r.port} ${r.weight}`), ['198.18.1.10:80 1', '198.18.1.20:80 2']);
  t.equal(vs.lb_kind, 'FNAT');
  t.equal(vs.laddr_group_name, 'laddr_in', 'the service keeps its local address group');
  const wrong = plan('-a -t 198.18.0.100:80 -r 198.18.1.20:80 -m');
  t.match(wrong, { ok: false, status: 2, error: /forwards by FNAT \(lb_kind\).*use --fullnat/ }, 'another method is refused, naming --fullnat');
  t.match(plan('-d -t 198.18.0.100:80 -r 198.18.1.10:80'), { ok: true }, 'deleted');
});

t.test('-S writes --fullnat, which -R reads back', async (t) => {
  const rules = formatRules([{
    protocol: 'TCP', vip: '198.18.0.100', port: 80, scheduler: 'rr', persistenceTimeout: 0, persistenceMask: '255.255.255.255', ops: false, schedFlags: [],
    realServers: [{ ip: '198.18.1.10', port: 80, forward: 'FullNat', weight: 1, activeConns: 0, inactiveConns: 0, uthreshold: 0, lthreshold: 0 }],
  } as never], true);
  t.match(rules, /-a -t 198\.18\.0\.100:80 -r 198\.18\.1\.10:80 --fullnat -w 1/, 'saved with --fullnat');
  const line = rules.trim().split('\n').find((l) => l.startsWith('-a'))!;
  t.equal(parse(line).forward, 'FNAT', 'read back as Full NAT');
});

t.test('a new FNAT service without a local address group is refused; DPVS\'s laddr commands too', async (t) => {
  const refused = plan('-A -t 198.18.0.100:81 -s rr', '-a -t 198.18.0.100:81 -r 198.18.1.10:80 --fullnat');
  t.match(refused, { ok: false, status: 2, line: 2, error: /lb_kind FNAT needs laddr_group_name/ }, 'check-config\'s reason');
  for (const line of ['--add-laddr -z 198.18.1.201 -t 198.18.0.100:80 --ifname eth1', '--del-laddr -z 198.18.1.200 -t 198.18.0.100:80', '--get-laddr']) {
    const e = exitOf(line);
    t.equal(e.status, 2, `${line.split(' ')[0]}: exit 2`);
    t.ok(e.message.endsWith(LADDR_REFUSAL), 'with the reason');
  }
});
