// Nothing is dropped in silence: every VRRP, LVS and checker keyword of keepalived.conf(5)
// (keepalived 2.2) either changes the YAML or is reported at its own line, and none is taken
// for an unknown word.
import t from 'tap';
import { migrateFile } from '../../src/migrate/index.js';

interface Place {
  name: string;
  /** the config around the keyword: `@@` marks the keyword's line */
  template: string;
  keywords: string[];
  /** the enclosing block is reported as a whole (then its report covers its keywords) */
  wholeBlockReported?: boolean;
}

const INSTANCE = 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n@@\n}\nvrrp_script s {\n script /bin/true\n}\n';
const VS = (inner: string) => `virtual_server 198.18.0.100 80 {\n lb_kind DR\n${inner}\n}\n`;
const RS = (inner: string) => VS(` real_server 198.18.0.10 80 {\n${inner}\n }`);
const CHECKER = (kind: string) => RS(`  ${kind} {\n@@\n  }`);
const COMMON = ['connect_ip 198.18.0.11', 'connect_port 81', 'bindto 198.18.0.2', 'bind_if eth0', 'bind_port 5000', 'fwmark 7', 'alpha',
  'connect_timeout 4', 'retry 2', 'delay_before_retry 2', 'warmup 1', 'delay_loop 5', 'log_all_failures'];

const PLACES: Place[] = [
  { name: 'vrrp_script', template: 'vrrp_script s {\n script /bin/false\n@@\n}\n', keywords: ['script /bin/true', 'interval 2', 'timeout 3', 'weight -5', 'rise 2', 'fall 2', 'user root', 'init_fail'] },
  {
    name: 'vrrp_sync_group',
    template: INSTANCE.replace('@@', '') + 'vrrp_sync_group G {\n group {\n  VI_1\n }\n@@\n}\n',
    keywords: ['notify /x.sh', 'notify_backup /x.sh', 'notify_deleted', 'notify_fault /x.sh', 'notify_master /x.sh', 'notify_priority_changes on', 'notify_stop /x.sh',
      'smtp_alert', 'global_tracking', 'sync_group_tracking_weight', 'track_bfd {\n b\n }', 'track_file {\n f\n }', 'track_interface {\n eth0\n }',
      'track_process {\n p\n }', 'track_script {\n s\n }'],
  },
  {
    name: 'vrrp_instance', template: INSTANCE,
    keywords: ['accept', 'advert_int 2', 'authentication {\n auth_type PASS\n auth_pass x\n }', 'check_unicast_src', 'debug 1', 'dont_track_primary',
      'down_timer_adverts 4', 'garp_extra_if 100', 'garp_lower_prio_delay 5', 'garp_lower_prio_repeat 2', 'garp_master_delay 3', 'garp_master_refresh 60',
      'garp_master_refresh_repeat 2', 'garp_master_repeat 3', 'higher_prio_send_advert', 'kernel_rx_buf_size 4096', 'linkbeat_use_polling',
      'lower_prio_no_advert', 'mcast_dst_ip 224.0.0.19', 'mcast_src_ip 198.18.0.2', 'native_ipv6', 'no_accept', 'nopreempt', 'notify /x.sh',
      'notify_backup /x.sh', 'notify_fault /x.sh', 'notify_master /x.sh', 'notify_master_rx_lower_pri /x.sh', 'notify_priority_changes on',
      'notify_stop /x.sh', 'old_unicast_checksum', 'preempt', 'preempt_delay 10', 'priority 120', 'promote_secondaries', 'skip_check_adv_addr on',
      'smtp_alert', 'state MASTER', 'strict_mode on', 'track_bfd {\n b\n }', 'track_file {\n f\n }', 'track_interface {\n eth1\n }',
      'track_process {\n p\n }', 'track_script {\n s\n }', 'track_src_ip', 'unicast_fault_no_peer', 'unicast_peer {\n 198.18.0.3\n }',
      'unicast_src_ip 198.18.0.2', 'unicast_ttl 10', 'use_ipvlan', 'use_vmac', 'use_vmac_addr', 'version 3',
      'virtual_ipaddress {\n 198.18.0.100\n }', 'virtual_ipaddress_excluded {\n 198.18.0.150\n }', 'virtual_routes {\n 10.0.0.0/8 via 198.18.0.1\n }',
      'virtual_rules {\n from 10.0.0.0/8 table 1\n }', 'vmac_xmit_base', 'vrf red'],
  },
  {
    name: 'virtual_server', template: VS('@@\n real_server 198.18.0.10 80 {\n }'),
    keywords: ['lvs_sched rr', 'lb_algo rr', 'flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'ops', 'lvs_method TUN',
      'lb_kind TUN', 'persistence_engine sip', 'persistence_timeout 5', 'persistence_granularity 255.255.255.0', 'protocol UDP', 'ha_suspend',
      'smtp_alert', 'virtualhost example', 'snmp_name web', 'alpha', 'omega', 'quorum 2', 'hysteresis 1', 'quorum_up /x.sh', 'quorum_down /x.sh',
      'ip_family inet', 'sorry_server 198.18.0.2 80', 'sorry_server_inhibit', 'sorry_server_lvs_method NAT', 'connect_timeout 3', 'retry 2',
      'nb_get_retry 2', 'delay_before_retry 2', 'warmup 1', 'delay_loop 3', 'inhibit_on_failure', 'nat_mask 255.255.255.0'],
  },
  {
    name: 'real_server', template: RS('@@'),
    keywords: ['weight 2', 'lvs_method NAT', 'notify_up /x.sh', 'notify_down /x.sh', 'uthreshold 5', 'lthreshold 1', 'smtp_alert', 'virtualhost x',
      'snmp_name x', 'alpha', 'connect_timeout 3', 'retry 2', 'delay_before_retry 2', 'warmup 1', 'delay_loop 3', 'inhibit_on_failure',
      'TCP_CHECK {\n }', 'HTTP_GET {\n url {\n path /\n }\n }', 'SSL_GET {\n url {\n path /\n }\n }', 'SMTP_CHECK {\n }', 'DNS_CHECK {\n }',
      'MISC_CHECK {\n misc_path /bin/true\n }', 'BFD_CHECK {\n name b\n }', 'PING_CHECK {\n }', 'UDP_CHECK {\n }', 'FILE_CHECK {\n track_file f\n }'],
  },
  { name: 'TCP_CHECK', template: CHECKER('TCP_CHECK'), keywords: COMMON },
  { name: 'HTTP_GET', template: CHECKER('HTTP_GET'), keywords: [...COMMON, 'http_protocol 1.1', 'fast_recovery', 'virtualhost x', 'url {\n path /\n }'] },
  { name: 'SSL_GET', template: CHECKER('SSL_GET'), keywords: ['enable_sni', 'http_protocol 1.0C'] },
  { name: 'SMTP_CHECK', template: CHECKER('SMTP_CHECK'), keywords: ['helo_name x'] },
  { name: 'DNS_CHECK', template: CHECKER('DNS_CHECK'), keywords: ['type MX', 'name example.com'] },
  { name: 'MISC_CHECK', template: CHECKER('MISC_CHECK'), keywords: ['misc_path /bin/true', 'misc_timeout 3', 'misc_dynamic', 'user root', 'alpha', 'retry 1'] },
  { name: 'BFD_CHECK', template: CHECKER('BFD_CHECK'), keywords: ['name b'], wholeBlockReported: true },
  { name: 'UDP_CHECK', template: CHECKER('UDP_CHECK'), keywords: ['payload 0a0b', 'require_reply', 'require_reply 0a', 'min_reply_length 1', 'max_reply_length 9'] },
  { name: 'FILE_CHECK', template: CHECKER('FILE_CHECK'), keywords: ['track_file f', 'dynamic', 'weight 3 reverse'] },
  {
    name: 'url', template: CHECKER('HTTP_GET').replace('@@', '   url {\n@@\n   }'),
    keywords: ['path /x', 'digest c5f42eddf777ef2d2b0f7263c094c20e', 'status_code 200-299 301', 'virtualhost x', 'regex ok', 'regex_no_match',
      'regex_options caseless', 'regex_stack 1 2', 'regex_min_offset 1', 'regex_max_offset 2'],
  },
  { name: 'virtual_server_group', template: 'virtual_server_group g {\n 198.18.0.100 80\n@@\n}\n', keywords: ['198.18.0.101 80', '198.18.0.110-120 80', '198.18.0.128/29 80', 'fwmark 5'] },
  { name: 'the top level', template: '@@\n', keywords: ['SSL {\n ca /x\n }', 'static_routes {\n 10.0.0.0/8 via 198.18.0.1\n }', 'static_rules {\n from 10.0.0.0/8 table 1\n }',
    'linkbeat_interfaces {\n eth0\n }', 'vrrp_track_process p {\n process nginx\n }', 'bfd_instance b {\n neighbor_ip 198.18.0.3\n }', 'garp_group {\n garp_interval 1\n }',
    'track_file f {\n file /tmp/f\n }', 'static_ipaddress {\n 198.18.0.99/32 dev eth0\n }', 'global_defs {\n router_id r\n }'] },
];

function migrate(text: string) {
  return migrateFile('k.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => text });
}

for (const place of PLACES) {
  t.test(`${place.name}: every keyword is translated or reported`, async (t) => {
    const baseline = migrate(place.template.replace('@@', '')).yaml;
    const keywordLine = place.template.split('\n').findIndex((l) => l.includes('@@')) + 1;
    for (const kw of place.keywords) {
      const r = migrate(place.template.replace('@@', kw));
      const first = kw.split(/\s/)[0];
      const unknown = r.reports.filter((d) => /unknown keyword/.test(d.message));
      t.same(unknown.map((d) => d.message), [], `${first} is a keyword ulvs knows`);
      const from = place.wholeBlockReported ? keywordLine - 1 : keywordLine;
      const reported = r.reports.some((d) => d.line >= from && d.line < keywordLine + kw.split('\n').length);
      t.ok(reported || r.yaml !== baseline, `${first}: translated or reported at its line`);
    }
  });
}
