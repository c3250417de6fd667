// bgp_announce in ulvs.yaml: defaults, and its mistakes as FILE:LINE:COL errors (a VIP the
// director does not serve, the daemon's own config as include_file, a "worse" MED that is not).
import t from 'tap';
import { ConfigError, formatDiagnostic, loadConfigText } from '../../src/config/index.js';

const services = 'virtual_servers:\n  - { vip: 198.18.0.100, port: 80, lb_kind: DR, lb_algo: mh }\n' +
  'virtual_server_groups:\n  - { name: g, members: [ "198.18.0.110-112 80" ] }\n';

function errors(text: string): string[] {
  try {
    loadConfigText(text, 'ecmp.yaml');
    return [];
  } catch (err) {
    return (err as ConfigError).diagnostics.map(formatDiagnostic);
  }
}

t.test('defaults: bird2, the include file beside bird.conf, withdraw when down, rise 3 fall 1', async (t) => {
  const { config } = loadConfigText(`${services}bgp_announce:\n  vips: [198.18.0.100]\n`, 'ecmp.yaml');
  t.match(config.bgp_announce, {
    daemon: 'bird2', include_file: '/etc/bird/ulvs-vips.conf', birdc: 'birdc', protocol: 'ulvs_vips', vips: ['198.18.0.100'],
    interval: 1, rise: 3, fall: 1, when_down: 'withdraw', med: 0, down_med: 1000, disable_file: '/var/lib/ulvs/bgp-disabled', command_timeout: 5,
  });
  t.equal(loadConfigText(services, 'x.yaml').config.bgp_announce, undefined, 'off when absent');
});

t.test('a VIP of a group member is served; one nobody serves is an error at its place', async (t) => {
  const text = 'virtual_servers:\n  - { vip: 198.18.0.100, port: 80, lb_kind: DR }\n  - { group: g, lb_kind: DR }\n' +
    'virtual_server_groups:\n  - { name: g, members: [ "198.18.0.110-112 80" ] }\n' +
    'bgp_announce:\n  vips: [198.18.0.100, 198.18.0.111, 198.18.0.200]\n';
  t.same(errors(text), ['ecmp.yaml:7:38: bgp_announce: 198.18.0.200 is not a VIP of any virtual server here (announce only what this director forwards (a route to it would draw traffic nobody serves))']);
});

t.test("the daemon's config as include_file, a down_med that is not worse, a bad protocol name", async (t) => {
  const got = errors(`${services}bgp_announce:\n  vips: [198.18.0.100]\n  include_file: /etc/bird/bird.conf\n  when_down: med\n  med: 50\n  down_med: 50\n  protocol: "a-b"\n`);
  t.equal(got.length, 3, got.join('\n'));
  t.match(got.find((e) => e.includes('protocol "a-b"')), /^ecmp\.yaml:11:13: protocol "a-b" is not a BIRD protocol name/);
  t.match(got.find((e) => e.includes('include_file')), /^ecmp\.yaml:7:17: bgp_announce\.include_file \/etc\/bird\/bird\.conf is the daemon's own config/);
  t.match(got.find((e) => e.includes('down_med')), /^ecmp\.yaml:10:13: bgp_announce\.down_med 50 is not worse than med 50/);
  t.match(errors(`${services}bgp_announce:\n  vips: [198.18.0.100]\n  daemon: frr\n`)[0], /^ecmp\.yaml:7:11: daemon must be one of bird2/);
  t.match(errors(`${services}bgp_announce:\n  vips: []\n`)[0], /^ecmp\.yaml:6:9: /, 'at least one VIP');
});
