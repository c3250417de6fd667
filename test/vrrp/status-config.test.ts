import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../../src/config/index.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { formatStatus, formatStatusJson } from '../../src/cli/status.js';
import type { InstanceStatus } from '../../src/vrrp/speaker.js';

// Seed 003's double master, as ulvs.yaml.
const SEED_003 = `
global_defs: { router_id: centos7s, vrrp_mcast_group4: 224.0.4.18 }
vrrp_scripts:
  chk_down: { script: "[[ -f /etc/keepalived/down ]] && exit 1 || exit 0", interval: 2, weight: -5 }
  chk_httpd: { script: "killall -0 httpd", interval: 2, weight: -5 }
vrrp_instances:
  - name: VI_1
    state: MASTER
    interface: eth0
    virtual_router_id: 151
    priority: 100
    advert_int: 1
    authentication: { auth_type: PASS, auth_pass: frSAmesXYSSFmw }
    virtual_ipaddress: [ { address: 10.1.10.7, dev: eth0, label: "eth0:0" } ]
    track_script: [ chk_down, { name: chk_httpd, weight: -20 } ]
    notify_master: "/etc/keepalived/notify.sh master"
  - name: VI_2
    state: BACKUP
    interface: eth0
    virtual_router_id: 152
    priority: 98
    advert_int: 1
    authentication: { auth_type: PASS, auth_pass: frSAmesXYSSymw }
    virtual_ipaddress: [ { address: 10.1.10.77, dev: eth0, label: "eth0:1" } ]
vrrp_sync_groups:
  - { name: VG_1, group: [VI_1, VI_2], track_interface: [eth0] }
`;

t.test('ulvs.yaml (seed 003) -> speaker config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tvrc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ulvs.yaml');
  writeFileSync(file, SEED_003);
  const vrrp = vrrpConfigFrom(loadConfig(file).config);
  t.equal(vrrp.vrrp_mcast_group4, '224.0.4.18');
  t.equal(vrrp.vrrp_instances.length, 2);
  const [vi1, vi2] = vrrp.vrrp_instances;
  t.match(vi1, {
    name: 'VI_1', state: 'MASTER', interface: 'eth0', virtual_router_id: 151, priority: 100, advert_int: 1, version: 2,
    nopreempt: false, authentication: { auth_type: 'PASS', auth_pass: 'frSAmesXYSSFmw' },
    mcast_dst_ip: '224.0.4.18', notify_master: '/etc/keepalived/notify.sh master',
    garp_master_delay: 5, garp_master_repeat: 5,
  });
  t.same(vi1.virtual_ipaddress, [{ address: '10.1.10.7/32', dev: 'eth0', label: 'eth0:0' }]);
  t.match(vi1.track_script, [{ name: 'chk_down' }, { name: 'chk_httpd', weight: -20 }]);
  t.match(vi1.track_interface, [{ name: 'eth0' }], 'the sync group\'s track_interface applies to members');
  t.match(vi2, { name: 'VI_2', state: 'BACKUP', priority: 98 });
  t.match(vrrp.vrrp_scripts, { chk_down: { interval: 2, weight: -5 } });
  t.same(vrrp.vrrp_sync_groups?.map((g) => g.group), [['VI_1', 'VI_2']]);
});

const statuses: InstanceStatus[] = [
  {
    name: 'VI_1', interface: 'eth0', vrid: 151, version: 2, state: 'MASTER', priority: 95, configuredPriority: 100,
    masterIp: '198.18.0.1', vips: ['10.1.10.7/32'],
    lastTransition: { at: '2026-11-23T15:00:00.000Z', from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' },
    drops: { auth_failure: 3 }, advertsSent: 10, advertsReceived: 2,
  },
  {
    name: 'VI_2', interface: 'eth0', vrid: 152, version: 3, state: 'BACKUP', priority: 98, configuredPriority: 98,
    masterIp: null, vips: [], lastTransition: null, drops: {}, advertsSent: 0, advertsReceived: 0,
  },
];

t.test('ulvs status: text', async (t) => {
  const text = formatStatus(statuses, new Date('2026-11-23T15:01:05.000Z'));
  t.equal(text, [
    'VI_1  MASTER',
    '  interface eth0  vrid 151  version 2  priority 95 (configured 100)',
    '  master 198.18.0.1  vips 10.1.10.7/32',
    '  last transition BACKUP -> MASTER 1m5s ago (2026-11-23T15:00:00.000Z): master down timer expired',
    '  adverts sent 10 received 2  dropped auth_failure=3',
    'VI_2  BACKUP',
    '  interface eth0  vrid 152  version 3  priority 98',
    '  master -  vips -',
    '  last transition -',
    '  adverts sent 0 received 0',
    '',
  ].join('\n'));
  t.equal(formatStatus([]), 'no vrrp_instances configured\n');
});

t.test('ulvs status --json round-trips', async (t) => {
  t.same(JSON.parse(formatStatusJson(statuses)), { vrrp: statuses });
});
