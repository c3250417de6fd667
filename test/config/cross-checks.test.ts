// Each cross-check on its own, table-driven: a config snippet in (the value as loaded), the
// findings out as "severity path: message (hint)".
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOverlaps } from '../../src/config/check-overlaps.js';
import { checkCheckers, checkServerGroups, checkServices } from '../../src/config/check-services.js';
import { checkInstances, checkScripts, checkSyncGroups } from '../../src/config/check-vrrp.js';
import { Findings, gatherNames, type CrossCheckEnv, type Obj } from '../../src/config/cross-check-kit.js';
import { checkDataplane, crossCheck } from '../../src/config/cross-checks.js';

const env: CrossCheckEnv = { dirOf: () => '/', where: (path) => `@${path.join('.')}` };

type Check = (cfg: Obj, r: Findings) => void;

function run(check: Check, cfg: Obj): string[] {
  const r = new Findings();
  check(cfg, r);
  return r.list.map((f) => `${f.severity} ${f.path.join('.')}: ${f.message}${f.hint ? ` (${f.hint})` : ''}`);
}

interface Case { name: string; cfg: Obj; out: string[] }

function table(title: string, check: Check, cases: Case[]): void {
  t.test(title, async (t) => {
    for (const c of cases) t.same(run(check, c.cfg), c.out, c.name);
  });
}

const DR = { lb_kind: 'DR' };

table('checkDataplane', checkDataplane, [
  { name: 'inside differs', cfg: { dataplane: { interface: 'eth0', inside: 'eth1' } }, out: [] },
  { name: 'inside is the default interface', cfg: { dataplane: { inside: 'eth0' } }, out: ['error dataplane.inside: dataplane.inside must differ from dataplane.interface (NAT needs a second interface toward the real servers)'] },
  { name: 'lvs_timeouts twice', cfg: { global_defs: { lvs_timeouts: { tcp: 1 } }, dataplane: { lvs_timeouts: { tcp: 2 } } }, out: ['warning global_defs.lvs_timeouts: lvs_timeouts is set in global_defs and in dataplane (dataplane.lvs_timeouts wins)'] },
]);

table('checkScripts', (cfg, r) => checkScripts(cfg, r, env), [
  { name: 'a program that exists', cfg: { vrrp_scripts: { s: { script: '/bin/sh -c true' } } }, out: [] },
  { name: 'a shell word', cfg: { vrrp_scripts: { s: { script: '[ -f /x ]' } } }, out: ['warning vrrp_scripts.s.script: vrrp script "s" starts with the shell word "[", which is not a program (ulvs runs scripts without a shell: write sh -c "...")'] },
  { name: 'a missing program', cfg: { vrrp_scripts: { s: { script: '/no/such/ulvs-check arg' } } }, out: ['warning vrrp_scripts.s.script: script "/no/such/ulvs-check" not found (it will fail until it exists)'] },
]);

const vi = (extra: Obj) => ({ name: 'A', interface: 'eth0', virtual_router_id: 1, ...extra });
table('checkInstances', (cfg, r) => checkInstances(cfg, gatherNames(cfg), r, env), [
  { name: 'one good instance', cfg: { vrrp_scripts: { s: {} }, vrrp_instances: [vi({ track_script: ['s'], virtual_ipaddress: ['198.18.0.1/32'] })] }, out: [] },
  { name: 'defined twice', cfg: { vrrp_instances: [vi({}), vi({ virtual_router_id: 2 })] }, out: ['error vrrp_instances.1.name: vrrp instance "A" is defined twice (first at @vrrp_instances.0.name)'] },
  { name: 'fractional advert_int with version 2', cfg: { vrrp_instances: [vi({ advert_int: 0.5 })] }, out: ['error vrrp_instances.0.advert_int: advert_int 0.5 is not whole seconds, which VRRP version 2 requires (set version: 3 for fractions of a second)'] },
  { name: 'authentication with version 3 (global)', cfg: { global_defs: { vrrp_version: 3 }, vrrp_instances: [vi({ authentication: { auth_pass: 'x' }, virtual_ipaddress: ['198.18.0.1'] })] }, out: ['warning vrrp_instances.0.authentication: authentication is ignored with VRRP version 3 (RFC 5798 removed it)'] },
  { name: 'long auth_pass', cfg: { vrrp_instances: [vi({ authentication: { auth_pass: '123456789' } })] }, out: ['warning vrrp_instances.0.authentication.auth_pass: auth_pass is longer than 8 characters (only the first 8 are used, as in keepalived)'] },
  { name: 'nopreempt with MASTER', cfg: { vrrp_instances: [vi({ state: 'MASTER', nopreempt: true })] }, out: ['warning vrrp_instances.0.nopreempt: nopreempt has no effect with state MASTER (use state: BACKUP on both directors)'] },
  { name: 'unknown track_script and track_file', cfg: { vrrp_scripts: { chk: {} }, vrrp_instances: [vi({ track_script: [{ name: 'chx' }], track_file: ['f'] })] }, out: ['error vrrp_instances.0.track_script.0: track_script "chx" names no vrrp_scripts entry (did you mean "chk"?)', 'error vrrp_instances.0.track_file.0: track_file "f" names no track_files entry (define it under track_files)'] },
  { name: 'VIP held by static_ipaddress', cfg: { static_ipaddress: [{ address: '198.18.0.1/32' }], vrrp_instances: [vi({ virtual_ipaddress: ['198.18.0.1'] })] }, out: ['error vrrp_instances.0.virtual_ipaddress.0: 198.18.0.1 is already held by static_ipaddress (first at @static_ipaddress.0)'] },
  { name: 'VIP held by another instance', cfg: { vrrp_instances: [vi({ virtual_ipaddress: ['198.18.0.1'] }), vi({ name: 'B', virtual_router_id: 2, virtual_ipaddress_excluded: ['198.18.0.1/24'] })] }, out: ['error vrrp_instances.1.virtual_ipaddress_excluded.0: 198.18.0.1 is already held by vrrp instance "A" (first at @vrrp_instances.0.virtual_ipaddress.0)'] },
  { name: 'VRID twice on a link', cfg: { vrrp_instances: [vi({}), vi({ name: 'B' })] }, out: ['error vrrp_instances.1.virtual_router_id: virtual_router_id 1 is already used on eth0 (by vrrp instance at @vrrp_instances.0.name)'] },
  { name: 'VRID twice, unicast with disjoint peers', cfg: { vrrp_instances: [vi({ unicast_peer: ['198.18.0.2'] }), vi({ name: 'B', unicast_peer: ['198.18.0.3'] })] }, out: [] },
]);

table('checkSyncGroups', (cfg, r) => checkSyncGroups(cfg, gatherNames(cfg), r, env), [
  { name: 'members are instances', cfg: { vrrp_instances: [{ name: 'A' }, { name: 'B' }], vrrp_sync_groups: [{ name: 'G', group: ['A', 'B'] }] }, out: [] },
  { name: 'a member that is no instance', cfg: { vrrp_instances: [{ name: 'VI_1' }], vrrp_sync_groups: [{ name: 'G', group: ['VI_2'] }] }, out: ['error vrrp_sync_groups.0.group.0: sync group member "VI_2" names no vrrp instance (did you mean "VI_1"?)'] },
  { name: 'an instance in two groups, a group twice', cfg: { vrrp_instances: [{ name: 'A' }], vrrp_sync_groups: [{ name: 'G', group: ['A'] }, { name: 'G', group: ['A'] }] }, out: ['error vrrp_sync_groups.1.name: vrrp sync group "G" is defined twice (first at @vrrp_sync_groups.0.name)', 'error vrrp_sync_groups.1.group.0: vrrp instance "A" is already in sync group "G"'] },
]);

table('checkServerGroups', (cfg, r) => checkServerGroups(cfg, gatherNames(cfg), r, env), [
  { name: 'distinct names', cfg: { virtual_server_groups: [{ name: 'a' }, { name: 'b' }] }, out: [] },
  { name: 'a name twice', cfg: { virtual_server_groups: [{ name: 'a' }, { name: 'a' }] }, out: ['error virtual_server_groups.1.name: virtual server group "a" is defined twice (first at @virtual_server_groups.0.name)'] },
]);

const vs = (extra: Obj) => ({ vip: '198.18.0.100', port: 80, ...DR, ...extra });
table('checkServices', (cfg, r) => checkServices(cfg, gatherNames(cfg), r, env), [
  { name: 'a DR service', cfg: { virtual_servers: [vs({ real_servers: [{ ip: '198.18.0.10' }] })] }, out: [] },
  { name: 'no address', cfg: { virtual_servers: [DR] }, out: ['error virtual_servers.0: a virtual server needs "vip" and "port", or "group"'] },
  { name: 'vip and group', cfg: { virtual_server_groups: [{ name: 'g' }], virtual_servers: [vs({ group: 'g', port: undefined })] }, out: ['error virtual_servers.0.group: a virtual server takes one of vip, group or fwmark, not vip and group', 'error virtual_servers.0.vip: port is required for a vip service (leave it out only with persistence_timeout (every port of the VIP), as keepalived)'] },
  { name: 'fwmark alone is an address (its refusal is refused-keys.ts\'s)', cfg: { virtual_servers: [{ fwmark: 1, ...DR }] }, out: [] }, // refused by refused-keys.ts (test/config/key-coverage.test.ts)
  { name: 'unknown group with a port', cfg: { virtual_server_groups: [{ name: 'web' }], virtual_servers: [{ group: 'wev', port: 80, ...DR }] }, out: ['error virtual_servers.0.group: group "wev" names no virtual_server_groups entry (did you mean "web"?)', "error virtual_servers.0.port: port goes with vip, not group (a group's members carry their ports)"] },
  { name: 'port 0 without persistence', cfg: { virtual_servers: [vs({ port: 0 })] }, out: ['error virtual_servers.0.port: port 0 (every port) needs persistence_timeout, as in IPVS'] },
  { name: 'defined twice', cfg: { virtual_servers: [vs({}), vs({})] }, out: ['error virtual_servers.1.vip: service TCP 198.18.0.100:80 is defined twice (first at @virtual_servers.0.vip)'] },
  { name: 'synonyms both set', cfg: { virtual_servers: [vs({ lb_algo: 'rr', lvs_sched: 'rr', lvs_method: 'DR', retry: 1, nb_get_retry: 1 })] }, out: ['error virtual_servers.0.lvs_sched: lvs_sched and lb_algo both set (they are the same setting; keep lb_algo)', 'error virtual_servers.0.lvs_method: lvs_method and lb_kind both set (they are the same setting; keep lb_kind)', 'error virtual_servers.0.nb_get_retry: nb_get_retry and retry both set (nb_get_retry is the old name of retry)'] },
  { name: 'a flag of another scheduler, ops on TCP', cfg: { virtual_servers: [vs({ lb_algo: 'rr', sh_port: true, ops: true })] }, out: ['error virtual_servers.0.sh_port: sh_port is a flag of the sh scheduler, not rr', 'error virtual_servers.0.ops: ops (one-packet scheduling) applies to UDP services, not TCP'] },
  { name: 'granularity without persistence', cfg: { virtual_servers: [vs({ persistence_granularity: '255.255.255.0' })] }, out: ['warning virtual_servers.0.persistence_granularity: persistence_granularity has no effect without persistence_timeout'] },
  { name: 'NAT by default without inside: the director finds it from the routes', cfg: { virtual_servers: [{ vip: '198.18.0.100', port: 80 }] }, out: [] },
  { name: 'inside auto', cfg: { dataplane: { inside: 'auto' }, virtual_servers: [{ vip: '198.18.0.100', port: 80 }] }, out: [] },
  { name: 'NAT with inside', cfg: { dataplane: { inside: 'eth1' }, virtual_servers: [{ vip: '198.18.0.100', port: 80, lb_kind: 'NAT' }] }, out: [] },
  {
    name: 'real servers: twice, thresholds, DR port, retry',
    cfg: { virtual_servers: [vs({ real_servers: [{ ip: '198.18.0.10' }, { ip: '198.18.0.10', port: 80 }, { ip: '198.18.0.11', port: 81, uthreshold: 1, lthreshold: 2, retry: 1, nb_get_retry: 1 }] })] },
    out: ['error virtual_servers.0.real_servers.1.ip: real server 198.18.0.10:80 is listed twice in this service (first at @virtual_servers.0.real_servers.0.ip)',
      'error virtual_servers.0.real_servers.2.uthreshold: uthreshold 1 is below lthreshold 2 (the upper connection limit must be at least the lower)',
      'warning virtual_servers.0.real_servers.2.port: real server port 81 differs from the service port 80 (DR cannot change ports: packets arrive on port 80)',
      'error virtual_servers.0.real_servers.2.nb_get_retry: nb_get_retry and retry both set (nb_get_retry is the old name of retry)'],
  },
]);

const rs = ['virtual_servers', 0, 'real_servers', 0];
const dir = mkdtempSync(join(tmpdir(), 'ulvs-cross-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const plain = join(dir, 'plain.sh');
writeFileSync(plain, 'true\n', { mode: 0o644 });
table('checkCheckers', (cfg, r) => checkCheckers(cfg, rs, gatherNames(cfg), r, env), [
  { name: 'one tcp_check', cfg: { tcp_check: {} }, out: [] },
  { name: 'two checkers', cfg: { tcp_check: {}, http_get: { retry: 1, nb_get_retry: 2 } }, out: ['error virtual_servers.0.real_servers.0.http_get: one checker per real server: tcp_check and http_get both set (keep one)', 'error virtual_servers.0.real_servers.0.http_get.nb_get_retry: nb_get_retry and retry both set (nb_get_retry is the old name of retry)'] },
  { name: 'misc_check that exists', cfg: { misc_check: { misc_path: '/bin/sh -c true' } }, out: [] },
  { name: 'misc_check that does not exist', cfg: { misc_check: { misc_path: '/no/such/ulvs-check' } }, out: ['warning virtual_servers.0.real_servers.0.misc_check.misc_path: misc_path script "/no/such/ulvs-check" does not exist on this machine (a director that cannot run it disables the checker and leaves the real server unchecked, as keepalived does)'] },
  { name: 'misc_check not executable', cfg: { misc_check: { misc_path: plain } }, out: [`warning virtual_servers.0.real_servers.0.misc_check.misc_path: misc_path script "${plain}" is not executable (chmod +x ${plain}; a director that cannot run it disables the checker and leaves the real server unchecked, as keepalived does)`] },
  { name: 'file_check with neither', cfg: { file_check: {} }, out: ['error virtual_servers.0.real_servers.0.file_check: file_check needs exactly one of "file" or "track_file"'] },
  { name: 'file_check naming no track file', cfg: { track_files: { maint: {} }, file_check: { track_file: 'maimt' } }, out: ['error virtual_servers.0.real_servers.0.file_check.track_file: track_file "maimt" names no track_files entry (did you mean "maint"?)'] },
]);

table('checkOverlaps', (cfg, r) => checkOverlaps(cfg, r, env), [
  { name: 'no group: no overlap check', cfg: { virtual_servers: [vs({}), vs({})] }, out: [] },
  {
    name: 'a group range covering a vip',
    cfg: { virtual_server_groups: [{ name: 'g', members: ['198.18.0.99-101 80'] }], virtual_servers: [vs({}), { group: 'g', ...DR }] },
    out: ['error virtual_servers.1.group: TCP "198.18.0.99-101 80" of group "g" overlaps 198.18.0.100:80 (claimed first at @virtual_servers.0.vip)'],
  },
  { name: 'other port, other protocol', cfg: { virtual_server_groups: [{ name: 'g', members: ['198.18.0.100 81'] }], virtual_servers: [vs({}), { group: 'g', ...DR }, vs({ protocol: 'UDP' })] }, out: [] },
  { name: 'port 0 claims every port', cfg: { virtual_server_groups: [{ name: 'g', members: ['198.18.0.100 443'] }], virtual_servers: [vs({ port: 0, persistence_timeout: 60 }), { group: 'g', ...DR }] }, out: ['error virtual_servers.1.group: TCP "198.18.0.100 443" of group "g" overlaps 198.18.0.100:0 (claimed first at @virtual_servers.0.vip)'] },
]);

t.test('crossCheck runs every check, in block order', async (t) => {
  const findings = crossCheck({
    dataplane: { inside: 'eth0' },
    vrrp_instances: [{ name: 'A', track_script: ['none'] }],
    vrrp_sync_groups: [{ name: 'G', group: ['B'] }],
    virtual_servers: [{ vip: '198.18.0.100', port: 80, ...DR, real_servers: [{ ip: '198.18.0.10', tcp_check: {}, udp_check: {} }] }],
  }, env);
  t.same(findings.map((f) => f.path.join('.')), ['dataplane.inside', 'vrrp_instances.0.track_script.0', 'vrrp_sync_groups.0.group.0', 'virtual_servers.0.real_servers.0.udp_check']);
  t.same(crossCheck('not a mapping', env), []);
});
