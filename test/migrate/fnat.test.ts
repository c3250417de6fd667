// DPVS's Full NAT in a keepalived.conf (issue 17): `lb_kind FNAT` is kept in the translation so
// that ulvs refuses it at load with the reason, rather than run the service as NAT.
import t from 'tap';
import { formatReport, migrateFile } from '../../src/migrate/index.js';

const CONF = `local_address_group laddr_g1 {
    198.18.1.1 eth1
}
virtual_server 198.18.0.100 80 {
    lb_kind FNAT
    laddr_group_name laddr_g1
    real_server 198.18.0.10 80 {
        tun_type gue
    }
}
`;

t.test('lb_kind FNAT is kept and refused; laddr_group_name and tun_type are reported', async (t) => {
  const r = migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => CONF });
  t.match(r.yaml, /lb_kind: FNAT/, 'kept in the YAML');
  const reports = r.reports.map(formatReport);
  t.ok(reports.some((l) => l.startsWith("in.conf:5: lb_kind: FNAT (DPVS's Full NAT) is not supported by ulvs yet")), 'reported', { reports });
  t.ok(reports.some((l) => l.startsWith('in.conf:6: laddr_group_name')), 'laddr_group_name reported');
  t.ok(reports.some((l) => l.startsWith('in.conf:8: tun_type')), 'tun_type reported');
  t.ok(r.errors.some((e) => /lb_kind FNAT \(DPVS's Full NAT\) is not supported by ulvs yet/.test(e.message)), 'the translation does not load: FNAT refused with its reason');
});
