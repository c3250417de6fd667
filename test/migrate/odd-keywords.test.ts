// Words that are also names of JavaScript object properties (`constructor`, `toString`,
// `__proto__`) are unknown keepalived keywords like any other: reported, never an internal error.
import t from 'tap';
import { formatReport, migrateFile } from '../../src/migrate/index.js';

function reportsOf(text: string): string[] {
  return migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => text }).reports.map(formatReport);
}

const CASES: { where: string; text: string; report: string }[] = [
  { where: 'the top level', text: 'toString\n', report: 'in.conf:1: toString: unknown keyword in the top level, not translated' },
  { where: 'global_defs', text: 'global_defs {\n constructor 1\n}\n', report: 'in.conf:2: constructor: unknown keyword in global_defs, not translated' },
  {
    where: 'vrrp_instance',
    text: 'vrrp_instance V {\n interface eth0\n virtual_router_id 1\n hasOwnProperty x\n}\n',
    report: 'in.conf:4: hasOwnProperty: unknown keyword in vrrp_instance, not translated',
  },
  {
    where: 'real_server',
    text: 'virtual_server 198.18.0.100 80 {\n lb_kind DR\n real_server 198.18.0.10 80 {\n  __proto__ x\n }\n}\n',
    report: 'in.conf:4: __proto__: unknown keyword in real_server, not translated',
  },
];

for (const c of CASES) {
  t.test(`an Object property name in ${c.where} is an unknown keyword`, async (t) => {
    const reports = reportsOf(c.text);
    t.ok(reports.some((r) => r.startsWith(c.report)), `reported: ${c.report}`, { found: reports });
  });
}
