// DPVS's Full NAT in a keepalived.conf (issue 17): local_address_group, lb_kind FNAT and
// laddr_group_name translate to ulvs's local_address_groups / lb_kind FNAT / laddr_group_name,
// and the translation loads; tun_type is still reported.
import t from 'tap';
import { formatReport, migrateFile } from '../../src/migrate/index.js';

const CONF = `local_address_group laddr_g1 {
    198.18.0.200 eth0
    198.18.0.201 eth0
    10.0.0.0/24 eth0
}
virtual_server 198.18.0.100 80 {
    lb_kind FNAT
    laddr_group_name laddr_g1
    real_server 10.9.0.10 80 {
        tun_type gue
    }
}
`;

t.test('lb_kind FNAT, local_address_group and laddr_group_name translate and load', async (t) => {
  const r = migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => CONF });
  t.match(r.yaml, /lb_kind: FNAT/, 'lb_kind kept');
  t.match(r.yaml, /laddr_group_name: laddr_g1/, 'laddr_group_name translated');
  t.match(r.yaml, /local_address_groups:\n\s+- name: laddr_g1\n\s+addresses:\n\s+- ip: 198\.18\.0\.200\n\s+dev: eth0\n\s+- ip: 198\.18\.0\.201/, 'the group and its addresses', { yaml: r.yaml });
  const reports = r.reports.map(formatReport);
  t.ok(reports.some((l) => l.startsWith('in.conf:4: local_address_group laddr_g1: "10.0.0.0/24 eth0" is not IP IFACE')), 'a range is reported', { reports });
  t.notOk(reports.some((l) => /FNAT|laddr_group_name/.test(l)), 'FNAT and laddr_group_name are not reported', { reports });
  t.ok(reports.some((l) => l.startsWith('in.conf:10: tun_type')), 'tun_type reported');
  t.same(r.errors.filter((e) => /FNAT|local address|laddr/.test(e.message)), [], 'the Full NAT part loads', { errors: r.errors });
});
