// Translation: every checker and block of keepalived.conf(5) lands on its ulvs key; what ulvs
// lacks is reported as `FILE:LINE: KEYWORD not supported by ulvs (why)`; comments survive;
// the YAML passes check-config.
import t from 'tap';
import { parse } from 'yaml';
import { formatReport, migrateFile, type MigrateOptions } from '../../src/migrate/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function migrateText(text: string, opts: MigrateOptions = {}) {
  const r = migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => text, ...opts });
  return { ...r, doc: parse(r.yaml) as Any, reportLines: r.reports.map(formatReport) };
}

t.test('features.conf: every checker, groups, sync groups, tracking, static addresses', async (t) => {
  const path = 'test/migrate/fixtures/features.conf';
  const r = migrateFile(path, { routerId: 'lab' });
  t.same(r.errors, [], 'passes check-config');
  const doc = parse(r.yaml);
  t.same(doc.global_defs, { router_id: 'lab_dir1', vrrp_version: 2, lvs_timeouts: { tcp: 7200, tcpfin: 120, udp: 300 }, script_user: 'root' });
  t.same(doc.static_ipaddress, [{ address: '198.18.0.200/32', dev: 'eth0', scope: 'global' }]);
  t.same(doc.vrrp_scripts, { chk_web: { script: '/bin/true', interval: 2, weight: -20, reverse: true, rise: 2, fall: 3 } });
  t.same(doc.track_files, { maint: { file: '/tmp/ulvs-maint', weight: 1 } });
  const web = doc.vrrp_instances[0];
  t.match(web, {
    name: 'VI_WEB', state: 'BACKUP', nopreempt: true, unicast_src_ip: '198.18.0.2', unicast_peer: ['198.18.0.3'],
    virtual_ipaddress: [{ address: '198.18.0.100/32', dev: 'eth0', label: 'eth0:0' }, { address: '198.18.0.101/32', brd: '198.18.0.255', dev: 'eth0' }],
    track_interface: ['eth0', { name: 'eth1', weight: -10 }], track_script: [{ name: 'chk_web', weight: -30 }],
    track_file: [{ name: 'maint', weight: 5 }], notify: { script: '/usr/local/bin/notify.sh', user: 'root' },
  });
  t.same(doc.vrrp_sync_groups, [{ name: 'VG_1', group: ['VI_WEB', 'VI_DNS'], notify_master: '/usr/local/bin/notify.sh group master' }]);
  t.same(doc.virtual_server_groups, [{ name: 'web_group', members: ['198.18.0.100 443', '198.18.0.110-112 443'] }]);
  const [grouped, http, smtp, dns] = doc.virtual_servers;
  t.match(grouped, { group: 'web_group', lvs_sched: 'sh', sh_port: true, lvs_method: 'DR', persistence_timeout: 360 });
  t.same(grouped.real_servers[0].ssl_get, {
    url: [{ path: '/health', digest: 'c5f42eddf777ef2d2b0f7263c094c20e', status_code: '200-299 301' }, { path: '/other', regex: 'ok.*' }],
    enable_sni: true,
  });
  t.match(http, { quorum: 2, hysteresis: 1, quorum_up: '/usr/local/bin/quorum.sh up' });
  t.same(http.real_servers.map((rs: Any) => Object.keys(rs).filter((k) => k.endsWith('_check') || k.endsWith('_get'))), [['http_get'], ['misc_check'], ['file_check']]);
  t.same(http.real_servers[0].http_get, { url: [{ path: '/test.html', digest: 'c5f42eddf777ef2d2b0f7263c094c20e' }], http_protocol: '1.1', connect_timeout: 3, retry: 2 });
  t.same(http.real_servers[1].misc_check, { misc_path: '/bin/true --quiet', misc_timeout: 5, misc_dynamic: true });
  t.same(http.real_servers[2].file_check, { track_file: 'maint', weight: 2, reverse: true });
  t.same(smtp.real_servers.map((rs: Any) => rs.smtp_check ?? rs.ping_check), [{ helo_name: 'director.example', connect_timeout: 5 }, { delay_loop: 2 }]);
  t.same(dns.real_servers[0].dns_check, { type: 'A', name: 'example.com' });
  t.same(dns.real_servers[1].udp_check, { payload: '00 01 02', require_reply: true, min_reply_length: 1 });
  t.same(r.reports.map(formatReport), [
    `${path}:7: enable_snmp_vrrp not supported by ulvs (ulvs has no SNMP agent; use \`ulvs stats\` and \`ulvs list\`)`,
    `${path}:52: use_vmac not supported by ulvs (ulvs sends VRRP from the interface itself; no macvlan/ipvlan VMACs)`,
    `${path}:82: SSL_GET_UNUSED_FLAG: unknown keyword in virtual_server, not translated`,
    `${path}:119: a second checker (TCP_CHECK) not supported by ulvs (ulvs runs one checker per real server; http_get is kept)`,
    `${path}:172: BFD_CHECK not supported by ulvs (ulvs has no BFD; track a vrrp_script instead)`,
  ]);
});

// keyword line (inside its block) -> the report it must give. Line 3 of the generated file.
const UNSUPPORTED: { block: string; line: string; report: RegExp }[] = [
  { block: 'global_defs', line: 'lvs_flush', report: /lvs_flush not supported by ulvs \(ulvs owns its tables/ },
  { block: 'global_defs', line: 'nftables', report: /nftables not supported by ulvs \(ulvs takes packets before netfilter/ },
  { block: 'global_defs', line: 'enable_dbus', report: /enable_dbus not supported by ulvs \(ulvs has no D-Bus/ },
  { block: 'vrrp_instance VI_1', line: 'virtual_routes {\n 10.0.0.0/8 via 198.18.0.1\n }', report: /virtual_routes not supported by ulvs \(ulvs manages no routes/ },
  { block: 'vrrp_instance VI_1', line: 'track_process {\n nginx\n }', report: /track_process not supported by ulvs/ },
  { block: 'vrrp_instance VI_1', line: 'unicast_peer {\n 198.18.0.3 min_ttl 250\n }', report: /unicast_peer min_ttl 250 not supported by ulvs/ },
  { block: 'vrrp_instance VI_1', line: 'virtual_ipaddress {\n 198.18.0.100/32 dev eth0 no_track\n }', report: /no_track not supported by ulvs/ },
  { block: 'vrrp_instance VI_1', line: 'strict_mode on', report: /strict_mode not supported by ulvs/ },
  { block: 'vrrp_sync_group G', line: 'global_tracking', report: /global_tracking not supported by ulvs \(deprecated/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'lb_algo fancy', report: /scheduler "fancy" not supported by ulvs/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'lvs_method TUN type gue port 6080', report: /tunnel options "type gue port 6080" not supported by ulvs \(tunnel options on a real server only/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'persistence_engine sip', report: /persistence_engine not supported by ulvs/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'ip_family inet6', report: /ip_family not supported by ulvs \(ulvs takes the address family from the addresses themselves/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'snmp_name web', report: /snmp_name not supported by ulvs \(ulvs has no SNMP agent/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'real_server 198.18.0.10 80 {\n lvs_method NAT\n }', report: /lvs_method NAT on a real server not supported by ulvs/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'real_server 198.18.0.10 80 {\n HTTP_GET {\n url {\n path /\n regex_options caseless\n }\n }\n }', report: /regex_options not supported by ulvs/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'real_server 198.18.0.10 80 {\n TCP_CHECK {\n fwmark 5\n }\n }', report: /fwmark not supported by ulvs \(checks leave from ulvs's own sockets/ },
  { block: 'virtual_server 198.18.0.100 80', line: 'flag-1', report: /flag-1 not supported by ulvs \(flag-1 means something only to the sh and mh schedulers/ },
];

for (const { block, line, report } of UNSUPPORTED) {
  t.test(`reported with its line: ${block} { ${line.split('\n')[0]} }`, async (t) => {
    const extra = block.startsWith('virtual_server') ? (line.startsWith('lvs_method') ? '' : 'lb_kind DR\n')
      : block.startsWith('vrrp_instance') ? 'interface eth0\n virtual_router_id 9\n'
      : block.startsWith('vrrp_sync') ? 'group {\n VI_9\n }\n' : '';
    const text = `! generated\n${block} {\n${line}\n${extra}}\n${block.startsWith('vrrp_sync') ? 'vrrp_instance VI_9 {\n interface eth0\n virtual_router_id 9\n}\n' : ''}`;
    const r = migrateText(text);
    const hit = r.reportLines.find((l) => report.test(l));
    t.ok(hit, `reported: ${r.reportLines.join(' | ')}`);
    t.match(hit, /^in\.conf:\d+: /);
    const lineNo = Number(hit?.split(':')[1]);
    t.ok(lineNo >= 3, 'points into the block, at the keyword');
    t.same(r.errors, [], 'the rest still validates');
  });
}

t.test('a real server\'s lvs_method TUN type gue|gre|ipip [port N] [flags] becomes tun_type, tun_port, tun_flags', async (t) => {
  const r = migrateText('virtual_server 198.18.0.100 80 {\n lb_kind TUN\n real_server 198.18.0.10 80 {\n  lvs_method TUN type gue port 6080 csum\n }\n'
    + ' real_server 198.18.0.20 80 {\n  lvs_method TUN type gre nocsum\n }\n real_server 198.18.0.30 80 {\n  lvs_method TUN type gue port 0\n }\n}\n');
  t.match(r.yaml, /- ip: 198\.18\.0\.10\n\s+port: 80\n\s+tun_type: gue\n\s+tun_port: 6080\n\s+tun_flags: csum\n/, 'gue with its port and flags', { yaml: r.yaml });
  t.match(r.yaml, /- ip: 198\.18\.0\.20\n\s+port: 80\n\s+tun_type: gre\n\s+tun_flags: nocsum\n/, 'gre with its flags');
  t.ok(r.reportLines.some((l) => /^in\.conf:10: lvs_method: "0" is not a whole number/.test(l)), `port 0 reported: ${r.reportLines.join(' | ')}`);
  t.same(r.errors, [], 'the translation loads');
});

t.test('unknown keywords are reported with a did-you-mean, at every level', async (t) => {
  const r = migrateText('global_defs {\n routr_id x\n}\nvrrp_instanse VI_1 {\n}\nvirtual_server 198.18.0.100 80 {\n lb_kind DR\n delay_lop 3\n real_server 198.18.0.10 80 {\n wieght 2\n }\n}\n');
  t.same(r.reportLines, [
    'in.conf:2: routr_id: unknown keyword in global_defs, not translated (did you mean router_id?)',
    'in.conf:4: vrrp_instanse: unknown keyword in the top level, not translated (did you mean vrrp_instance?)',
    'in.conf:8: delay_lop: unknown keyword in virtual_server, not translated (did you mean delay_loop?)',
    'in.conf:10: wieght: unknown keyword in real_server, not translated (did you mean weight?)',
  ]);
});

t.test('bad values are reported, not passed on', async (t) => {
  const r = migrateText('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 300\n priority high\n state LEADER\n}\n');
  t.same(r.reportLines, [
    'in.conf:3: virtual_router_id: "300" is not a whole number 1..255, not translated',
    'in.conf:4: priority: "high" is not a whole number 1..255, not translated',
    'in.conf:5: state: "LEADER" is not MASTER or BACKUP, not translated',
  ]);
  t.notOk('virtual_router_id' in r.doc.vrrp_instances[0]);
  t.ok(r.errors.length > 0, 'a vrrp_instance without a virtual_router_id then fails check-config, which says so');
});

t.test('comments survive on kept lines; comments of dropped lines do not leak', async (t) => {
  const r = migrateText('! the web tier\nvirtual_server 198.18.0.100 80 { # public VIP\n  lb_kind DR ! direct routing\n  # three real servers follow\n  real_server 198.18.0.10 80 {\n    weight 2 # the big one\n  }\n}\n');
  t.match(r.yaml, '# the web tier\n');
  t.match(r.yaml, 'vip: 198.18.0.100 # public VIP');
  t.match(r.yaml, 'lb_kind: DR # direct routing');
  t.match(r.yaml, '# three real servers follow\n');
  t.match(r.yaml, 'weight: 2 # the big one');
  t.same(r.errors, []);
});

t.test('NAT: without --inside dataplane.inside is auto (found from the routes); --inside names it', async (t) => {
  const text = 'virtual_server 198.18.0.100 80 {\n lb_algo rr\n real_server 198.18.1.10 80 {\n }\n}\n';
  const without = migrateText(text);
  t.same(without.reportLines, [], 'nothing to report: keepalived\'s default NAT needs no flag');
  t.same(without.errors, []);
  t.same(without.doc.dataplane, { interface: 'eth0', inside: 'auto' });
  const withInside = migrateText(text, { inside: 'eth1' });
  t.same(withInside.errors, []);
  t.same(withInside.doc.dataplane, { interface: 'eth0', inside: 'eth1' });
});

t.test('--interface overrides the vrrp_instance interface; otherwise the first instance gives it', async (t) => {
  const text = 'vrrp_instance VI_1 {\n interface ens3\n virtual_router_id 9\n}\n';
  t.equal(migrateFile('in.conf', { from: 'keepalived', readText: () => text }).yaml.includes('interface: ens3'), true);
  t.same(migrateText(text, { interface: 'eth7' }).doc.dataplane, { interface: 'eth7' });
});

t.test('ldirectord: quiescent default, masq -> NAT, checktypes, unknown settings', async (t) => {
  const text = [
    'virtual=198.18.0.100:80', '\treal=198.18.1.10:80 masq 3', '\treal=198.18.1.20:80 masq', '\tchecktype=connect', '\tcheckport=8080',
    'virtual=198.18.0.100:53', '\treal=198.18.1.10:53 masq', '\tprotocol=udp', '\tchecktype=ping', '\tpersistent=60', '\tnetmask=255.255.255.0', '\tschedular=rr',
  ].join('\n');
  const r = migrateFile('x.cf', { interface: 'eth0', inside: 'eth1', readText: () => text });
  t.equal(r.from, 'ldirectord');
  t.same(r.errors, []);
  const doc = parse(r.yaml);
  const [web, dns] = doc.virtual_servers;
  t.match(web, { lb_kind: 'NAT', lb_algo: 'wrr', inhibit_on_failure: true });
  t.same(web.real_servers, [
    { ip: '198.18.1.10', port: 80, weight: 3, tcp_check: { connect_port: 8080 } },
    { ip: '198.18.1.20', port: 80, weight: 1, tcp_check: { connect_port: 8080 } },
  ]);
  t.match(dns, { protocol: 'UDP', persistence_timeout: 60, persistence_granularity: '255.255.255.0' });
  t.same(dns.real_servers[0].ping_check, {});
  t.same(r.reports.map(formatReport), ['x.cf:12: schedular: unknown ldirectord setting, not translated (did you mean scheduler?)']);
});

t.test('lvs_sync_daemon is translated, and so is the old lvs_sync_daemon_interface inside a vrrp_instance', async (t) => {
  const instance = 'vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress { 198.18.0.100 }\n';
  const modern = migrateText(`global_defs {\n  lvs_sync_daemon eth0 VI_1 id 5 maxlen 1400 port 8849 ttl 2 group 224.0.0.82\n}\n${instance}}\n`);
  t.same(modern.errors, []);
  t.match(modern.yaml, /lvs_sync_daemon: \{ interface: eth0, instance: VI_1, id: 5, maxlen: 1400, port: 8849, ttl: 2, group: 224\.0\.0\.82 \}/);
  const old = migrateText(`${instance}  lvs_sync_daemon_interface eth0\n}\n`);
  t.same(old.errors, []);
  t.same(old.reportLines, []);
  t.match(old.yaml, /lvs_sync_daemon: \{ interface: eth0, instance: VI_1 \}/);
  const bad = migrateText(`global_defs {\n  lvs_sync_daemon eth0 VI_1 id 300 colour blue\n}\n${instance}}\n`);
  t.ok(bad.reportLines.some((l) => /in\.conf:2: .*colour/.test(l)), bad.reportLines.join(' | '));
});

t.test('a vrrp_script without a script is removed with a warning and its track_script ignored, as keepalived', async (t) => {
  // keepalived's doc/samples/keepalived.conf.conditional_conf run without -i: every script line is under @high/@low.
  const r = migrateText('vrrp_script chk {\n@high script /bin/true\n interval 1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 198.18.0.100/32\n }\n track_script {\n chk\n }\n}\n');
  t.same(r.errors, [], 'passes check-config');
  t.same(r.reportLines, [
    'in.conf:1: vrrp_script chk has no script: removed, as keepalived removes it (its track_script entries are ignored)',
    'in.conf:13: track_script chk: its vrrp_script was removed (no script), ignored as keepalived ignores it',
  ]);
  t.equal(r.doc.vrrp_scripts, undefined);
  t.same(r.doc.vrrp_instances[0].track_script ?? [], [], 'no track_script entry left');
  const high = migrateText('vrrp_script chk {\n@high script /bin/true\n interval 1\n}\n', { routerId: 'high' });
  t.equal(high.doc.vrrp_scripts.chk.script, '/bin/true', 'with the config id (--router-id high) the script is kept');
});

t.test('an IPv6 vrrp_instance and vrrp_gna_interval are translated (VRRPv3 over IPv6)', async (t) => {
  const r = migrateText('global_defs {\n  vrrp_gna_interval 0.5\n}\nvrrp_instance VI6 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    2001:2::100/64 dev eth0\n  }\n}\n');
  t.same(r.errors, []);
  t.same(r.reportLines, []);
  t.match(r.yaml, /vrrp_gna_interval: 0\.5/);
  t.match(r.yaml, /2001:2::100\/64/);
});

t.test('vrrp_mcast_group6 is translated to global_defs and passes check-config', async (t) => {
  const r = migrateText('global_defs {\n vrrp_mcast_group6 ff02::1:12\n}\nvrrp_instance V6 {\n interface eth0\n virtual_router_id 2\n priority 100\n virtual_ipaddress {\n  2001:2::100/64\n }\n}\n');
  t.equal(r.doc.global_defs.vrrp_mcast_group6, 'ff02::1:12');
  t.same(r.errors, [], 'passes check-config');
  t.notOk(r.reportLines.some((l) => l.includes('vrrp_mcast_group6')), 'not reported as unsupported');
});
