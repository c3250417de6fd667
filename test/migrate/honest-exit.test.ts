// migrate's exit status tells the truth: 3 (with one summary line of what was lost) when a
// virtual server, real server, VRRP instance or checker of the input is missing from the YAML;
// --allow-partial takes the rest with exit 0. Old-style sync groups (instance names without
// `group { }`) are taken as members, with a warning.
import t from 'tap';
import { EXIT_MIGRATED, EXIT_PARTIAL, runMigrate, type RunMigrateOptions } from '../../src/cli/migrate.js';
import { keepalivedParts, losses, yamlParts, formatLosses } from '../../src/migrate/losses.js';
import { buildTree, readKeepalivedConfig } from '../../src/migrate/index.js';

class Sink { text = ''; write(s: string): boolean { this.text += s; return true; } }

function migrateText(text: string, opts: RunMigrateOptions = {}, name = 'in.conf'): { status: number; stdout: string; stderr: string } {
  const out = new Sink();
  const err = new Sink();
  const status = runMigrate(name, { interface: 'eth0', readText: () => text, ...opts }, out, err);
  return { status, stdout: out.text, stderr: err.text };
}

const FWMARK_ONLY = `virtual_server fwmark 80 {
  delay_loop 6
  lb_algo rr
  lb_kind DR
  real_server 198.18.0.10 80 {
    TCP_CHECK { connect_timeout 3 }
  }
}
`;

t.test('every service dropped (fwmark without --iptables): exit 3 and a summary line, not "OK: 0 virtual servers"', async (t) => {
  const r = migrateText(FWMARK_ONLY);
  t.equal(r.status, EXIT_PARTIAL);
  t.match(r.stderr, /^in\.conf:1: virtual_server fwmark 80 not supported by ulvs/m);
  t.match(r.stderr, /^lost in translation: 1 of 1 virtual servers, 1 of 1 real servers, 1 of 1 checkers: see the reports above; --allow-partial to take the rest anyway$/m);
  const partial = migrateText(FWMARK_ONLY, { allowPartial: true });
  t.equal(partial.status, EXIT_MIGRATED, '--allow-partial: the rest, exit 0');
  t.match(partial.stderr, /lost in translation: 1 of 1 virtual servers.*\(--allow-partial: the rest is migrated\)/);
  t.equal(partial.stdout, r.stdout, 'the same YAML either way');
});

t.test('a second checker on a real server is a lost checker; a complete migration is exit 0 with no summary', async (t) => {
  const two = `virtual_server 198.18.0.100 80 {
  lb_kind DR
  real_server 198.18.0.10 80 {
    TCP_CHECK { connect_timeout 3 }
    HTTP_GET { url { path / } }
  }
}
`;
  const r = migrateText(two);
  t.equal(r.status, EXIT_PARTIAL);
  t.match(r.stderr, /^lost in translation: 1 of 2 checkers/m);
  const one = migrateText(two.replace(/    HTTP_GET.*\n/, ''));
  t.equal(one.status, EXIT_MIGRATED, one.stderr);
  t.notMatch(one.stderr, /lost in translation/);
});

t.test('counting: what the tree asks for against what the YAML holds', async (t) => {
  const tree = buildTree(readKeepalivedConfig('x.conf', { readText: () => `vrrp_instance A { interface eth0\n virtual_router_id 1 }\n${FWMARK_ONLY}` }).lines);
  const asked = keepalivedParts(tree);
  t.same(asked, { 'virtual servers': 1, 'real servers': 1, 'vrrp instances': 1, checkers: 1 });
  const got = yamlParts('vrrp_instances: [{ name: A }]\nvirtual_servers: []\n');
  t.same(losses(asked, got).map((l) => l.part), ['virtual servers', 'real servers', 'checkers']);
  t.equal(formatLosses(losses(asked, got)), 'lost in translation: 1 of 1 virtual servers, 1 of 1 real servers, 1 of 1 checkers');
  t.same(yamlParts(': not yaml ['), { 'virtual servers': 0, 'real servers': 0, 'vrrp instances': 0, checkers: 0 });
});

t.test('vrrp_sync_group with instance names and no group { }: taken as members, with a warning', async (t) => {
  const text = `vrrp_sync_group VG_1 {
  VI_1
  VI_2
  notify_master "/bin/true"
}
vrrp_instance VI_1 { interface eth0
  virtual_router_id 1
  virtual_ipaddress { 198.18.0.100 } }
vrrp_instance VI_2 { interface eth0
  virtual_router_id 2
  virtual_ipaddress { 198.18.0.101 } }
`;
  const r = migrateText(text);
  t.equal(r.status, EXIT_MIGRATED, r.stderr);
  t.match(r.stdout, /vrrp_sync_groups:\n  - name: VG_1\n    group:\n      - VI_1\n      - VI_2\n    notify_master: \/bin\/true/);
  t.match(r.stderr, /^in\.conf:2: warning: vrrp_sync_group VG_1 lists VI_1, VI_2 without "group \{ \}": taken as its members \(keepalived would report unknown keywords and remove the empty group\)$/m);
  t.notMatch(r.stderr, /unknown keyword in/, 'the names are not reported as unknown keywords');
});
