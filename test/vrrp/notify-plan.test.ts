import t from 'tap';

import type { VrrpInstanceConfig } from '../../src/vrrp/config.js';
import { groupNotifications, instanceNotifications } from '../../src/vrrp/notify-plan.js';

const base: VrrpInstanceConfig = { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: [] };
const shell = (line: string, ...args: string[]): string[] => ['/bin/sh', '-c', `${line} "$@"`, 'sh', ...args];

t.test('instance: notify_<state> with no arguments, then notify with INSTANCE NAME STATE PRIORITY', async (t) => {
  const cfg: VrrpInstanceConfig = { ...base, notify_master: '/n.sh master', notify_stop: '/stop.sh', notify: 'echo >>/log' };
  t.same(instanceNotifications(cfg, 'MASTER', 150), [
    { line: '/n.sh master', argv: shell('/n.sh master') },
    { line: 'echo >>/log', argv: shell('echo >>/log', 'INSTANCE', 'VI_1', 'MASTER', '150') },
  ]);
  t.same(instanceNotifications(cfg, 'STOP', 1).map((c) => c.line), ['/stop.sh', 'echo >>/log']);
  t.same(instanceNotifications(cfg, 'BACKUP', 100).map((c) => c.line), ['echo >>/log'], 'no notify_backup: the generic one only');
  t.same(instanceNotifications(base, 'FAULT', 100), [], 'nothing configured, nothing run');
});

t.test('sync group: notify_<state>, then notify with GROUP NAME STATE', async (t) => {
  const group = { name: 'VG_1', group: ['VI_1'], notify_fault: '/f.sh', notify: 'echo >>/g' };
  t.same(groupNotifications(group, 'FAULT'), [
    { line: '/f.sh', argv: shell('/f.sh') },
    { line: 'echo >>/g', argv: shell('echo >>/g', 'GROUP', 'VG_1', 'FAULT', '0') },
  ]);
  t.same(groupNotifications({ name: 'VG_2', group: [] }, 'MASTER'), []);
});
