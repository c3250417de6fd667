// lvs_sync_daemon's ulvs-only `mode`: `vrrp` (the default, keepalived's master-to-backup sync,
// which needs an instance) or `all` (every director sends and receives, behind ECMP; an
// instance there would decide nothing, so it is refused rather than ignored).
import t from 'tap';
import { ConfigError, formatDiagnostic, loadConfigText } from '../../src/config/index.js';
import { formatSyncStatus } from '../../src/cli/status.js';
import type { SyncStatus } from '../../src/sync/daemon.js';

const VRRP = `vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress: [ 198.18.0.100 ]
`;

function errors(yaml: string): string[] {
  try {
    loadConfigText(yaml, 'sync.yaml');
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
}

t.test('mode all: no instance needed, every director sends and receives', async (t) => {
  const { config } = loadConfigText('global_defs:\n  lvs_sync_daemon: { interface: eth0, mode: all }\n', 'sync.yaml');
  t.equal(config.global_defs.lvs_sync_daemon?.mode, 'all');
  t.equal(config.global_defs.lvs_sync_daemon?.instance, undefined);
});

t.test('an instance given: keepalived\'s vrrp mode, as before', async (t) => {
  const { config } = loadConfigText(`global_defs:\n  lvs_sync_daemon: { interface: eth0, instance: VI_1 }\n${VRRP}`, 'sync.yaml');
  t.equal(config.global_defs.lvs_sync_daemon?.mode, 'vrrp', 'the default');
  t.equal(config.global_defs.lvs_sync_daemon?.instance, 'VI_1');
});

t.test('mode all with an instance, or neither: FILE:LINE:COL errors that say what to do', async (t) => {
  t.same(errors(`global_defs:\n  lvs_sync_daemon: { interface: eth0, mode: all, instance: VI_1 }\n${VRRP}`), [
    "sync.yaml:2:60: lvs_sync_daemon mode all has no instance: every director sends and receives whatever VRRP says (drop instance, or drop mode for keepalived's master-to-backup sync)",
  ]);
  t.same(errors('global_defs:\n  lvs_sync_daemon: { interface: eth0 }\n'), [
    'sync.yaml:2:20: lvs_sync_daemon needs instance (the vrrp_instance whose MASTER sends) (or mode: all for sync among all active directors (behind ECMP))',
  ]);
  const other = errors('global_defs:\n  lvs_sync_daemon: { interface: eth0, mode: both }\n');
  t.equal(other.length, 1, `one error: ${other.join(' | ')}`);
  t.match(other[0], /^sync\.yaml:2:45: mode must be/);
});

t.test('ulvs status: mode all shows ALL and one line per director heard from', async (t) => {
  const zero = { applied: 0 } as unknown as SyncStatus['counters'];
  const status: SyncStatus = {
    role: 'all', instance: null, interface: 'eth0', syncId: 0, signed: false,
    peer: { address: '198.18.0.3', agoMs: 1000 },
    peers: [{ address: '198.18.0.3', agoMs: 1000 }, { address: '198.18.0.4', agoMs: 3000 }],
    counters: { ...zero, sent: 4, sentRecords: 100, received: 7, receivedRecords: 150, applied: 150, dropped: {}, skipped: {}, ignored: {} } as unknown as SyncStatus['counters'],
  };
  t.equal(formatSyncStatus(status), [
    'sync  ALL  (lvs_sync_daemon eth0 mode all id 0)',
    '  peer 198.18.0.3  last message 1s ago',
    '  peer 198.18.0.4  last message 3s ago',
    '  sent 4 (100 connections)  received 7 (150)  applied 150',
    '',
  ].join('\n'));
});
