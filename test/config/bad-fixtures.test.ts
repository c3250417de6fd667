// Broken configs, each with the exact diagnostics it must produce (FILE:LINE:COL: message (hint)).
// Paths in messages are written {dir} (the fixture directory as passed) and {abs} (absolute).
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, formatDiagnostic, loadConfig } from '../../src/config/index.js';

const ABS = resolve(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/bad');
const DIR = relative(process.cwd(), ABS);

const EXPECTED: [string, string[]][] = [
  ["bad-addresses.yaml", [
    "2:5: static_ipaddress[0] \"198.18.0.100/33\" is not an IPv4 (a.b.c.d[/nn]) or IPv6 (2001:2::1[/nnn]) address",
    "3:16: address \"198.18.0.300\" is not an IPv4 (a.b.c.d[/nn]) or IPv6 (2001:2::1[/nnn]) address",
    "6:34: members[1] \"198.18.0.100:443\" is not \"IP [PORT]\", \"IP-LAST [PORT]\" or \"IP/PREFIX [PORT]\"",
    "6:54: members[2]: fwmark members are not supported: ulvs bypasses netfilter, list the VIP and ports instead",
    "8:10: vip \"198.18.0.256\" is not an IPv4 or IPv6 address",
    "12:30: persistence_granularity \"255.0.255.0\" is not a netmask (like 255.255.255.0)",
    "17:39: status_code: \"600\" is not an HTTP status code or range (100-599, like 200 or 200-299)",
    "18:23: path \"health\" must start with \"/\"",
    "18:38: regex \"([a-z\" is not a valid regular expression",
  ]],
  ["bad-enums.yaml", [
    "1:35: io must be one of afxdp, tap, auto, not \"xdp\"",
    "4:12: state must be one of MASTER, BACKUP, not \"master\" (did you mean \"MASTER\"?)",
    "7:14: version must be one of 2, 3, not 4",
    "11:15: protocol must be one of TCP, UDP, SCTP, not \"tcp\" (did you mean \"TCP\"?)",
    "12:14: lb_algo must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos, not \"wrrr\" (did you mean \"wrr\"?)",
    "13:14: lb_kind must be one of DR, NAT, TUN, FNAT, not \"dr\" (did you mean \"DR\"?)",
    "16:28: type must be one of A, NS, CNAME, SOA, MX, TXT, AAAA, not \"PTR\"",
  ]],
  ["bad-fnat-tunnels.yaml", [
    "2:79: local address 198.18.1.1 is on eth1, not on the director's dataplane (eth0) (replies to a local address must reach ulvs: use dev eth0, or name the interface in dataplane.inside)",
    "9:38: tun_type applies to lb_kind TUN, not FNAT (set lb_kind: TUN on the virtual server, or leave the tunnel keys out)",
    "9:53: tun_port applies to lb_kind TUN, not FNAT (set lb_kind: TUN on the virtual server, or leave the tunnel keys out)",
    "9:69: tun_flags applies to lb_kind TUN, not FNAT (set lb_kind: TUN on the virtual server, or leave the tunnel keys out)",
  ]],
  ["bad-tunnels.yaml", [
    "8:48: tun_type gue needs tun_port (the UDP port the real server's fou/GUE receiver listens on, e.g. tun_port: 6080)",
    "9:53: tun_port applies to tun_type gue, not gre (leave tun_port out, or set tun_type: gue)",
    "10:38: tun_flags applies to tun_type gue or gre, not ipip (IPIP has no checksum of its own: leave tun_flags out)",
    "11:53: tun_flags remcsum applies to tun_type gue, not gre (GRE takes nocsum or csum (the GRE checksum))",
  ]],
  ["bad-fnat.yaml", [
    "1:31: lb_kind FNAT needs dataplane.queues 1, not 2 (the real server's reply to a local port can arrive on another queue than its connection)",
    "3:20: local address group \"empty\" has no addresses (Full NAT needs at least one local address: { ip: A.B.C.D, dev: IFACE })",
    "4:69: local address 198.18.0.200 is listed twice (an address belongs to one group: its port pool is that group's)",
    "6:69: laddr_group_name \"g2\" names no local_address_groups entry (did you mean \"g1\"?)",
    "7:45: lb_kind FNAT needs laddr_group_name (name a local_address_groups entry: its addresses are the source the real servers see)",
    "8:49: laddr_group_name applies to lb_kind FNAT, not DR (set lb_kind: FNAT, or leave laddr_group_name out)",
  ]],
  ["binary.yaml", [
    "3:1: not a text file (control byte 0x00) (is this the right file?)",
  ]],
  ["comments-only.yaml", [
    "1:1: config file is empty (expected a mapping such as \"virtual_servers:\")",
  ]],
  ["control-char.yaml", [
    "3:7: not a text file (control byte 0x01) (is this the right file?)",
  ]],
  ["cross-lvs.yaml", [
    "9:5: sh_port is a flag of the sh scheduler, not wrr",
    "10:5: ops (one-packet scheduling) applies to UDP services, not TCP",
    "14:21: uthreshold 10 is below lthreshold 20 (the upper connection limit must be at least the lower)",
    "16:13: real server 198.18.0.10:80 is listed twice in this service (first at {dir}/cross-lvs.yaml:12:13)",
    "19:9: one checker per real server: tcp_check and http_get both set (keep one)",
    "19:47: digest \"c5f42eddf777ef2d2b0f7263c094c20\" must be 32 hex characters (an MD5 from ulvs genhash)",
    "22:10: service TCP 198.18.0.100:80 is defined twice (first at {dir}/cross-lvs.yaml:6:10)",
    "25:12: group \"wbe\" names no virtual_server_groups entry (did you mean \"web\"?)",
  ]],
  ["cross-vrrp.yaml", [
    "10:20: track_script \"chk_http\" names no vrrp_scripts entry (did you mean \"chk_httpd\"?)",
    "13:24: virtual_router_id 51 is already used on eth0 (by vrrp instance at {dir}/cross-vrrp.yaml:6:11)",
    "14:17: advert_int 0.5 is not whole seconds, which VRRP version 2 requires (set version: 3 for fractions of a second)",
    "15:25: 198.18.0.100 is already held by vrrp instance \"VI_1\" (first at {dir}/cross-vrrp.yaml:9:25)",
    "15:42: 198.18.0.50 is already held by static_ipaddress (first at {dir}/cross-vrrp.yaml:4:5)",
    "16:20: track_script \"chk_nothing\" names no vrrp_scripts entry (defined: chk_httpd)",
    "17:11: vrrp instance \"VI_1\" is defined twice (first at {dir}/cross-vrrp.yaml:6:11)",
    "22:19: sync group member \"VI_3\" names no vrrp instance (did you mean \"VI_1\"?)",
  ]],
  ["duplicate-keys.yaml", [
    "4:3: duplicate key \"interface\" (each key may appear once in a mapping)",
  ]],
  ["empty.yaml", [
    "1:1: config file is empty (expected a mapping such as \"virtual_servers:\")",
  ]],
  ["fwmark.yaml", [
    "2:5: fwmark not supported by ulvs (ulvs bypasses netfilter, so there are no firewall marks: list the VIP:ports the iptables rule matched in a virtual_server_groups entry and use \"group:\")",
  ]],
  ["include-duplicates.yaml", [
    "inc-dup.d/more.yaml:1:1: \"dataplane\" is already set in {dir}/include-duplicates.yaml:1:1 (each section may be set in one file only)",
    "inc-dup.d/more.yaml:3:3: vrrp_scripts \"chk\" is already defined at {dir}/include-duplicates.yaml:3:3",
    "inc-dup.d/more.yaml:4:31: unknown key \"wait\" in vrrp_scripts \"other\"",
  ]],
  ["include-loop-a.yaml", [
    "include-loop-b.yaml:2:11: include loop: {dir}/include-loop-a.yaml -> {dir}/include-loop-b.yaml -> {dir}/include-loop-a.yaml",
  ]],
  ["include-loop-b.yaml", [
    "include-loop-a.yaml:2:11: include loop: {dir}/include-loop-b.yaml -> {dir}/include-loop-a.yaml -> {dir}/include-loop-b.yaml",
  ]],
  ["include-missing.yaml", [
    "4:5: included file \"services.yaml\" does not exist (looked for {abs}/services.yaml)",
  ]],
  ["missing-required.yaml", [
    "2:5: missing required key \"interface\" in vrrp_instances[0]",
    "2:5: missing required key \"virtual_router_id\" in vrrp_instances[0]",
    "5:10: port is required for a vip service (leave it out only with persistence_timeout (every port of the VIP), as keepalived)",
    "8:9: missing required key \"ip\" in real_servers[0]",
  ]],
  ["multi-doc.yaml", [
    "3:1: more than one YAML document in one file (remove the \"---\" separator or move the rest to an included file)",
  ]],
  ["not-a-mapping.yaml", [
    "1:1: the top level must be a mapping (key: value), like \"virtual_servers:\"",
  ]],
  ["syntax-error.yaml", [
    "5:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ]],
  ["tabs.yaml", [
    "3:1: tab used for indentation (YAML indents with spaces only)",
  ]],
  ["unknown-keys.yaml", [
    "4:1: unknown key \"virtual_server\" at the top level (did you mean \"virtual_servers\"?)",
    "9:5: unknown key \"lb_algoo\" in virtual_servers[0] (did you mean \"lb_algo\"?)",
    "12:9: unknown key \"wieght\" in real_servers[0] (did you mean \"weight\"?)",
    "13:9: unknown key \"TCP_CHECK\" in real_servers[0] (did you mean \"tcp_check\"?)",
    "15:22: unknown key \"conect_timeout\" in tcp_check (did you mean \"connect_timeout\"?)",
  ]],
  ["wrong-types.yaml", [
    "4:24: virtual_router_id must be at least 1, not 0",
    "5:15: priority must be at most 255, not 300",
    "6:16: nopreempt must be true or false, not \"yes\"",
    "7:17: advert_int must be a number, not \"fast\"",
    "10:11: port must be a number, not \"eighty\"",
    "13:7: real_servers must be a list, not a mapping",
    "19:17: weight must be at least 0, not -1",
    "21:17: weight must be at most 65535, not 70000",
    "22:21: uthreshold must be a whole number, not 1.5",
  ]],
  ["group-overlap.yaml", [
    "11:12: TCP \"198.18.0.100-110 80\" of group \"web\" overlaps 198.18.0.105:80 (claimed first at {dir}/group-overlap.yaml:8:10)",
    "16:12: TCP \"198.18.0.104\" of group \"all\" overlaps \"198.18.0.100-110 80\" of group \"web\" (claimed first at {dir}/group-overlap.yaml:11:12)",
    "19:12: TCP \"198.18.0.100-110 80\" of group \"web\" overlaps 198.18.0.105:80 (claimed first at {dir}/group-overlap.yaml:8:10)",
    "19:12: service TCP group \"web\" is defined twice (first at {dir}/group-overlap.yaml:11:12)",
  ]],
  ["unions.yaml", [
    "9:32: unknown key \"devv\" in virtual_ipaddress[0] (did you mean \"dev\"?)",
    "10:9: virtual_ipaddress[1] must be text or a mapping (key: value), not 12",
    "11:25: missing required key \"name\" in track_script[1]",
    "11:61: weight must be at most 253, not 999",
    "12:32: unicast_peer[1] \"nope\" is not an IPv4 (a.b.c.d) or IPv6 address",
    "20:26: http_protocol must be \"1.0\" or \"1.0C\" or \"1.1\" or 1 or 1.1, not 2",
    "21:48: status_code[1] must be a number or text, not true",
    "23:31: payload \"zz\" must be hex digits",
    "23:52: require_reply must be true or false or text, not 5",
  ]],
  ["latin1.yaml", [
    "2:17: not a text file (invalid UTF-8) (is this the right file?)",
  ]],
  ["bad-operations.yaml", [
    "1:20: metrics.listen 198.18.0.1:9650 is not a loopback address (the metrics name every VIP and real server: set allow_remote: true to serve them beyond this host)",
    "2:24: control.read_group: no group \"mt-no-such-group\" in /etc/group (create it first: groupadd mt-no-such-group)",
  ]],
  ["bad-metrics-listen.yaml", [
    "1:20: listen \"localhost:9650\" is not an address to listen on (IP:PORT, [IPv6]:PORT)",
  ]],
  ["bad-sync-daemon.yaml", [
    "2:49: lvs_sync_daemon instance \"VI_2\" names no vrrp_instances entry (did you mean \"VI_1\"?)",
    "2:59: id must be at most 255, not 300",
    "2:74: auth_key must be at least 8 characters",
  ]],
  ["bad-sloppy-tcp.yaml", [
    "1:43: sloppy_tcp must be \"auto\" or true or false, not \"yes\"",
  ]],
];

function expand(line: string, file: string): string {
  const withFile = /^[\w./-]+\.yaml:\d+:\d+: /.test(line) ? `${DIR}/${line}` : `${DIR}/${file}:${line}`;
  return withFile.replaceAll('{dir}', DIR).replaceAll('{abs}', ABS);
}

function diagnosticsOf(file: string): string[] {
  try {
    loadConfig(join(DIR, file));
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
  return [];
}

for (const [file, lines] of EXPECTED) {
  t.test(file, async (t) => {
    t.same(diagnosticsOf(file), lines.map((l) => expand(l, file)));
  });
}

t.test('every top-level fixture in fixtures/bad has an expectation', async (t) => {
  const listed = new Set(EXPECTED.map(([f]) => f));
  const files = readdirSync(ABS).filter((f) => f.endsWith('.yaml'));
  t.same(files.filter((f) => !listed.has(f)), []);
});
