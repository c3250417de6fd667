// The pure part of email alerts: settings and defaults, which block alerts (keepalived's
// precedence), and the subjects and bodies keepalived writes, from a real ulvs.yaml.
import t from 'tap';
import fc from 'fast-check';
import { loadConfigText } from '../../src/config/load.js';
import {
  checkerBody, formatEndpoint, mailSettings, parseSmtpServer, realServerAlerts, virtualServerAlerts, vrrpAlerts,
} from '../../src/alerts/plan.js';
import { alertIndex, groupMails, instanceMails, quorumMails, realServerMails } from '../../src/alerts/events.js';

const BASE = `
global_defs:
  router_id: LVS_A
  notification_email: [ ops@example.org, noc@example.org ]
  notification_email_from: ulvs@director1
  smtp_server: 198.18.0.3 2525
  smtp_helo_name: director1.lab
  smtp_connect_timeout: 7
`;

t.test('smtp_server: keepalived "IP [PORT]", IP:PORT, [v6]:PORT, host names', async (t) => {
  t.same(parseSmtpServer('198.18.0.3'), { host: '198.18.0.3', port: 25 });
  t.same(parseSmtpServer('198.18.0.3 2525'), { host: '198.18.0.3', port: 2525 });
  t.same(parseSmtpServer('198.18.0.3:587'), { host: '198.18.0.3', port: 587 });
  t.same(parseSmtpServer('[2001:2::3]:26'), { host: '2001:2::3', port: 26 });
  t.same(parseSmtpServer('2001:2::3'), { host: '2001:2::3', port: 25 });
  t.same(parseSmtpServer('mail.example.org 25'), { host: 'mail.example.org', port: 25 });
  t.match(parseSmtpServer('198.18.0.3 99999'), { error: /1-65535/ });
  t.match(parseSmtpServer('198.18.0.3 25 x'), { error: /HOST \[PORT\]/ });
  t.match(parseSmtpServer('198.18.0.3 abc'), { error: /port/ });
});

t.test('property: any IPv4 and port, in all three spellings, reads back the same', async () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  fc.assert(fc.property(ip, fc.integer({ min: 1, max: 65535 }), (host, port) => {
    for (const text of [`${host} ${port}`, `${host}:${port}`, `[${host}]:${port}`]) {
      const got = parseSmtpServer(text);
      if (!('host' in got) || got.host !== host || got.port !== port) return false;
    }
    return true;
  }));
  // Never throws, whatever the text.
  fc.assert(fc.property(fc.string(), (s) => { parseSmtpServer(s); return true; }));
});

t.test('settings: from the config, and keepalived defaults when unset', async (t) => {
  const cfg = loadConfigText(BASE).config;
  t.same(mailSettings(cfg.global_defs), {
    routerId: 'LVS_A', from: 'ulvs@director1', to: ['ops@example.org', 'noc@example.org'],
    host: '198.18.0.3', port: 2525, heloName: 'director1.lab', connectTimeoutMs: 7000,
  });
  const bare = loadConfigText(`
global_defs:
  notification_email: [ ops@example.org ]
  smtp_server: 198.18.0.3
`).config;
  t.same(mailSettings(bare.global_defs, 'dir1', 'root'), {
    routerId: 'dir1', from: 'root@dir1', to: ['ops@example.org'], host: '198.18.0.3', port: 25,
    heloName: 'dir1', connectTimeoutMs: 30_000,
  }, 'router_id and HELO default to the host name, From to user@host, timeout 30 s');
  t.equal(mailSettings(loadConfigText('global_defs: { smtp_server: 198.18.0.3 }').config.global_defs), null, 'no recipients: no mail');
  t.equal(mailSettings(loadConfigText('global_defs: { notification_email: [a@b] }').config.global_defs), null, 'no server: no mail');
});

t.test('which block alerts: keepalived precedence, real servers default on', async (t) => {
  const none = { notification_email: [], smtp_connect_timeout: 30 };
  t.equal(vrrpAlerts(undefined, none), false);
  t.equal(virtualServerAlerts(undefined, none), false);
  t.equal(realServerAlerts(undefined, none), true, 'keepalived keeps real servers on for backward compatibility');
  const global = { ...none, smtp_alert: false };
  t.equal(realServerAlerts(undefined, global), false);
  t.equal(vrrpAlerts(undefined, { ...global, smtp_alert_vrrp: true }), true, 'smtp_alert_vrrp beats smtp_alert');
  t.equal(virtualServerAlerts(undefined, { ...global, smtp_alert_checker: true }), true, 'smtp_alert_checker beats smtp_alert');
  t.equal(realServerAlerts(undefined, { ...none, smtp_alert: true, smtp_alert_checker: false }), false);
  t.equal(vrrpAlerts(false, { ...none, smtp_alert: true, smtp_alert_vrrp: true }), false, 'the block itself wins');
  t.equal(realServerAlerts(true, { ...none, smtp_alert: false, smtp_alert_checker: false }), true);
  t.equal(vrrpAlerts(undefined, { ...none, smtp_alert_checker: true }), false, 'smtp_alert_checker is not for VRRP');
});

const FULL = `${BASE}
  smtp_alert: false
  smtp_alert_vrrp: true
vrrp_instances:
  - { name: VI_1, interface: eth0, virtual_router_id: 51, virtual_ipaddress: [198.18.0.100] }
  - { name: VI_2, interface: eth0, virtual_router_id: 52, smtp_alert: false, virtual_ipaddress: [198.18.0.101] }
  - { name: VI_3, interface: eth0, virtual_router_id: 53, virtual_ipaddress: [198.18.0.102] }
  - { name: VI_4, interface: eth0, virtual_router_id: 54, virtual_ipaddress: [198.18.0.103] }
vrrp_sync_groups:
  - { name: VG_1, group: [VI_1, VI_2] }
  - { name: VG_2, group: [VI_3, VI_4], smtp_alert: false }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    smtp_alert: true
    quorum: 2
    hysteresis: 1
    real_servers:
      - { ip: 198.18.0.11, port: 8080, smtp_alert: true, tcp_check: {} }
      - { ip: 198.18.0.12, port: 8080, misc_check: { misc_path: /bin/true } }
  - vip: 198.18.0.100
    port: 53
    lb_kind: DR
    protocol: UDP
    real_servers:
      - { ip: 198.18.0.11, port: 53, smtp_alert: true, udp_check: {} }
`;

t.test('VRRP instance and sync group mails: keepalived subjects and bodies', async (t) => {
  const index = alertIndex(loadConfigText(FULL).config);
  t.same(instanceMails(index, 'VI_1', 'MASTER'), [{
    subject: '[LVS_A] VRRP Instance VI_1 - Entering MASTER state', body: '=> VRRP Instance is now owning VRRP VIPs <=',
  }]);
  t.same(instanceMails(index, 'VI_1', 'BACKUP')[0].body, '=> VRRP Instance is no longer owning VRRP VIPs <=');
  t.same(instanceMails(index, 'VI_1', 'FAULT')[0].subject, '[LVS_A] VRRP Instance VI_1 - Entering FAULT state');
  t.same(instanceMails(index, 'VI_1', 'STOP'), [{ subject: '[LVS_A] VRRP Instance VI_1 - Stopping', body: '=> VRRP Instance stopping <=' }]);
  t.same(instanceMails(index, 'VI_1', 'INIT'), [], 'INIT is never mailed');
  t.same(instanceMails(index, 'VI_2', 'MASTER'), [], 'the instance turned it off');
  t.same(instanceMails(index, 'VI_9', 'MASTER'), [], 'unknown instance');
  t.same(groupMails(index, 'VG_1', 'MASTER'), [{
    subject: '[LVS_A] VRRP Group VG_1 - Entering MASTER state', body: '=> All VRRP group instances are now in MASTER state <=',
  }]);
  t.same(groupMails(index, 'VG_2', 'MASTER'), [], 'the sync group turned it off');
  t.same(groupMails(index, 'VG_1', 'STOP')[0].body, '=> All VRRP group instances are now stopping <=');
});

t.test('real server mails: one per service, the checker\'s own body', async (t) => {
  const index = alertIndex(loadConfigText(FULL).config);
  t.same(realServerMails(index, { rsKey: '198.18.0.11:8080', serviceIds: ['198.18.0.100:80/TCP'], up: false, checker: 'tcp_check', reason: 'x' }), [{
    subject: '[LVS_A] Realserver [198.18.0.11]:tcp:8080 of virtual server [198.18.0.100]:tcp:80 - DOWN',
    body: '=> TCP CHECK failed on service <=',
  }]);
  t.same(realServerMails(index, { rsKey: '198.18.0.11:53', serviceIds: ['198.18.0.100:53/UDP'], up: true, checker: 'udp_check', reason: 'x' }), [{
    subject: '[LVS_A] Realserver [198.18.0.11]:udp:53 of virtual server [198.18.0.100]:udp:53 - UP',
    body: '=> UDP CHECK succeed on service <=',
  }]);
  t.same(realServerMails(index, { rsKey: '198.18.0.12:8080', serviceIds: ['198.18.0.100:80/TCP'], up: false, checker: 'misc_check', reason: 'misc_check: script exit 1' }), [],
    'smtp_alert: false in global_defs turns real servers off unless they say otherwise');
  t.equal(checkerBody('misc_check', false, 'timed out'), '=> MISC CHECK timed out on service <=');
  t.equal(checkerBody('http_get', false), '=> CHECK failed on service : HTTP/SSL request failed <=');
  t.equal(checkerBody('ping_check', true), '=> ICMP CHECK succeed on service <=');
  t.equal(checkerBody('dns_check', false), '=> DNS_CHECK: failed on service <=');
  t.equal(checkerBody('smtp_check', true), '=> CHECK succeed on service <=');
  t.equal(checkerBody('file_check', false), null, 'keepalived mails nothing for FILE_CHECK');
  t.equal(formatEndpoint('198.18.0.1', 0, 'SCTP'), '[198.18.0.1]:sctp:0');
});

t.test('quorum mails: keepalived wording, starting up is no change', async (t) => {
  const index = alertIndex(loadConfigText(FULL).config);
  t.same(quorumMails(index, { serviceId: '198.18.0.100:80/TCP', quorumUp: false, liveWeight: 1, threshold: 2 }), [{
    subject: '[LVS_A] Virtualserver [198.18.0.100]:tcp:80 - DOWN', body: '=> Lost quorum 2+1=2 <= 1 <=',
  }]);
  t.same(quorumMails(index, { serviceId: '198.18.0.100:80/TCP', quorumUp: true, liveWeight: 3, threshold: 3 })[0].body, '=> Gained quorum 2+1=3 <= 3 <=');
  t.same(quorumMails(index, { serviceId: '198.18.0.100:80/TCP', quorumUp: true, liveWeight: 3, threshold: 2 }, true), []);
  t.same(quorumMails(index, { serviceId: '198.18.0.100:80/TCP', quorumUp: false, liveWeight: 0, threshold: 2 }, true)[0].body, '=> Starting with quorum down 2+1=2 <= 0 <=');
  t.same(quorumMails(index, { serviceId: '198.18.0.100:53/UDP', quorumUp: false, liveWeight: 0, threshold: 1 }), [], 'virtual servers default off');
});

t.test('no settings: nothing is mailed whatever the blocks say', async (t) => {
  const index = alertIndex(loadConfigText(FULL.replace('  smtp_server: 198.18.0.3 2525\n', '')).config);
  t.same(instanceMails(index, 'VI_1', 'MASTER'), []);
  t.same(realServerMails(index, { rsKey: '198.18.0.11:8080', serviceIds: ['198.18.0.100:80/TCP'], up: false, checker: 'tcp_check', reason: '' }), []);
});

t.test('config load: an unreadable smtp_server is an error, recipients without a server a warning', async (t) => {
  t.throws(() => loadConfigText('global_defs:\n  notification_email: [a@b]\n  smtp_server: "198.18.0.3 99999"\n', 'm.yaml'),
    { message: /m\.yaml:3:16: smtp_server port "99999" is not 1-65535/ });
  const w = loadConfigText('global_defs:\n  notification_email: [a@b]\n', 'n.yaml');
  t.match(w.warnings.map((d) => `${d.line}: ${d.message}`), ['2: notification_email is set but smtp_server is not: no alert mail is sent']);
  t.same(loadConfigText(BASE).warnings, [], 'a complete setup says nothing');
});
