/**
 * ipvsadm 1.31's command line, parsed as its parse_options()/process_options() do (popt rules:
 * the command comes first, short options cluster, -p takes an optional value), with its
 * messages and exit codes: fail() exits 2, popt errors and "Try ... -h" exit 255 (-1).
 * Pure: names are resolved through the `names` argument (ipvsadm-names.ts reads /etc files).
 */

export type IpvsCommandName = 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'list' | 'add-server'
  | 'delete-server' | 'edit-server' | 'set' | 'start-daemon' | 'stop-daemon' | 'restore' | 'save' | 'zero' | 'help' | 'version';

export type Forward = 'DR' | 'NAT' | 'TUN' | 'FNAT';
export type Proto = 'TCP' | 'UDP' | 'SCTP';

export interface ServiceAddress { protocol: Proto; vip: string; port: number; fwmark?: number }

export interface ListFormat {
  numeric: boolean; stats: boolean; rate: boolean; thresholds: boolean; persistentConn: boolean;
  noSort: boolean; exact: boolean;
}

export interface IpvsCommand {
  command: IpvsCommandName;
  service?: ServiceAddress;
  scheduler: string;
  /** Seconds; 0 = not persistent. */
  persistent: number;
  netmask: string;
  ops: boolean;
  schedFlags: string[];
  server?: { ip: string; port: number };
  forward: Forward;
  weight: number;
  uthreshold: number;
  lthreshold: number;
  format: ListFormat;
  connections: boolean;
  timeout: boolean;
  daemon: boolean;
  /** --set tcp tcpfin udp */
  timeouts?: { tcp: number; tcpfin: number; udp: number };
  /** The options given, by ipvsadm's names (for messages and for -E/-e semantics). */
  given: Set<string>;
}

/** ipvsadm's exit: message on stderr (or stdout for -h/-v) and status. */
export class IpvsadmExit extends Error {
  constructor(message: string, readonly status: number, readonly toStdout = false) { super(message); }
}

export interface NameResolver {
  /** Host name -> dotted quad, or undefined (gethostbyname). */
  host(name: string): string | undefined;
  /** Service name -> port for "tcp"/"udp", or undefined (getservbyname). */
  service(name: string, proto: 'tcp' | 'udp' | 'sctp'): number | undefined;
}

const MAX_TIMEOUT = 86400 * 31;
const IPVS_SVC_PERSISTENT_TIMEOUT = 300;
const INT_MAX = 2147483647;

/** ipvsadm's optnames[] in bit order (OPT_NUMERIC = bit 0 ...). */
const OPTNAMES = ['numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon', 'stats', 'rate',
  'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags'] as const;
type OptName = typeof OPTNAMES[number];

/** commands_v_options[][]: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional. */
const LEGAL: Record<IpvsCommandName, string> = {
  'add-service':    'xx+   xxxxxxxxxxxxxxx   ',
  'edit-service':   'xx+   xxxxxxxxxxxxxxx   ',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxx',
  'flush':          'xxxxxxxxxxxxxxxxxxxxxxxx',
  'list':           ' 11xxxxxxxxx11       xxx',
  'add-server':     'xx+xxx+    xxxxxxxxxxxxx',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+    xxxxxxxxxxxxx',
  'set':            'xxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx xxxxxxx xxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx xxxx',
  'restore':        'xxxxxxxxxxxxxxxxxxxxxxxx',
  'save':           ' xxxxxxxxxxxxxxxxxxxxxxx',
  'zero':           'xx xxxxxxxxxxxxxxxxxxxxx',
  'help':           '                        ',
  'version':        '                        ',
};

interface OptSpec { long: string; short?: string; arg: 'none' | 'required' | 'optional'; tag: string }
const OPTIONS: OptSpec[] = [
  { long: 'add-service', short: 'A', arg: 'none', tag: 'A' }, { long: 'edit-service', short: 'E', arg: 'none', tag: 'E' },
  { long: 'delete-service', short: 'D', arg: 'none', tag: 'D' }, { long: 'clear', short: 'C', arg: 'none', tag: 'C' },
  { long: 'list', short: 'L', arg: 'none', tag: 'L' }, { long: 'list', short: 'l', arg: 'none', tag: 'L' },
  { long: 'zero', short: 'Z', arg: 'none', tag: 'Z' }, { long: 'add-server', short: 'a', arg: 'none', tag: 'a' },
  { long: 'edit-server', short: 'e', arg: 'none', tag: 'e' }, { long: 'delete-server', short: 'd', arg: 'none', tag: 'd' },
  { long: 'set', arg: 'none', tag: 'set' }, { long: 'help', short: 'h', arg: 'none', tag: 'h' },
  { long: 'version', short: 'v', arg: 'none', tag: 'v' }, { long: 'restore', short: 'R', arg: 'none', tag: 'R' },
  { long: 'save', short: 'S', arg: 'none', tag: 'S' }, { long: 'start-daemon', arg: 'required', tag: 'start-daemon' },
  { long: 'stop-daemon', arg: 'required', tag: 'stop-daemon' }, { long: 'tcp-service', short: 't', arg: 'required', tag: 't' },
  { long: 'udp-service', short: 'u', arg: 'required', tag: 'u' }, { long: 'sctp-service', arg: 'required', tag: 'sctp' },
  { long: 'fwmark-service', short: 'f', arg: 'required', tag: 'f' }, { long: 'scheduler', short: 's', arg: 'required', tag: 's' },
  { long: 'persistent', short: 'p', arg: 'optional', tag: 'p' }, { long: 'netmask', short: 'M', arg: 'required', tag: 'M' },
  { long: 'real-server', short: 'r', arg: 'required', tag: 'r' }, { long: 'masquerading', short: 'm', arg: 'none', tag: 'm' },
  { long: 'ipip', short: 'i', arg: 'none', tag: 'i' }, { long: 'gatewaying', short: 'g', arg: 'none', tag: 'g' },
  { long: 'weight', short: 'w', arg: 'required', tag: 'w' }, { long: 'u-threshold', short: 'x', arg: 'required', tag: 'x' },
  { long: 'l-threshold', short: 'y', arg: 'required', tag: 'y' }, { long: 'numeric', short: 'n', arg: 'none', tag: 'n' },
  { long: 'connection', short: 'c', arg: 'none', tag: 'c' }, { long: 'mcast-interface', arg: 'required', tag: 'mcast' },
  { long: 'syncid', arg: 'required', tag: 'I' }, { long: 'timeout', arg: 'none', tag: 'timeout' },
  { long: 'daemon', arg: 'none', tag: 'daemon' }, { long: 'stats', arg: 'none', tag: 'stats' },
  { long: 'rate', arg: 'none', tag: 'rate' }, { long: 'thresholds', arg: 'none', tag: 'thresholds' },
  { long: 'persistent-conn', arg: 'none', tag: 'persistent-conn' }, { long: 'nosort', arg: 'none', tag: 'nosort' },
  { long: 'sort', arg: 'none', tag: 'sort' }, { long: 'exact', short: 'X', arg: 'none', tag: 'X' },
  { long: 'ipv6', short: '6', arg: 'none', tag: '6' }, { long: 'ops', short: 'o', arg: 'none', tag: 'o' },
  { long: 'pe', arg: 'required', tag: 'pe' }, { long: 'sched-flags', short: 'b', arg: 'required', tag: 'b' },
  // DPVS's ipvsadm: --fullnat (its short -b is ipvsadm 1.31's --sched-flags here) and its local
  // address commands (long names only: -P/-Q/-G/-z/-F are not ipvsadm 1.31's), refused below.
  { long: 'fullnat', arg: 'none', tag: 'fullnat' },
  { long: 'add-laddr', arg: 'none', tag: 'laddr-cmd' }, { long: 'del-laddr', arg: 'none', tag: 'laddr-cmd' },
  { long: 'get-laddr', arg: 'none', tag: 'laddr-cmd' }, { long: 'laddr', arg: 'required', tag: 'laddr-cmd' },
  { long: 'ifname', arg: 'required', tag: 'laddr-cmd' },
];

/** Why DPVS's local address commands are refused: ulvs's pools are sized at start. */
export const LADDR_REFUSAL = 'local addresses come from local_address_groups in the config file (ulvs sizes their port pools at start): ' +
  'add the address there, name the group in the service\'s laddr_group_name, and restart ulvs';

interface Token { tag: string; value?: string; text: string }

/** popt's view of argv: options (in order) and the leftover arguments, or popt's own error. */
function tokenize(args: readonly string[]): { tokens: Token[]; rest: string[]; error?: { text: string; message: string } } {
  const tokens: Token[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') { rest.push(...args.slice(i + 1)); break; }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = OPTIONS.find((o) => o.long === name);
      if (!spec) return { tokens, rest, error: { text: arg, message: 'unknown option' } };
      let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
      if (spec.arg === 'none' && value !== undefined) return { tokens, rest, error: { text: arg, message: 'option does not take an argument' } };
      if (spec.arg === 'required' && value === undefined) {
        if (i + 1 >= args.length) return { tokens, rest, error: { text: arg, message: 'missing argument' } };
        value = args[++i];
      }
      if (spec.arg === 'optional' && value === undefined && i + 1 < args.length && !args[i + 1].startsWith('-')) value = args[++i];
      tokens.push({ tag: spec.tag, value, text: arg });
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const spec = OPTIONS.find((o) => o.short === arg[j]);
        if (!spec) return { tokens, rest, error: { text: arg, message: 'unknown option' } };
        if (spec.arg === 'none') { tokens.push({ tag: spec.tag, text: arg }); continue; }
        let value: string | undefined = arg.slice(j + 1) || undefined;
        if (value === undefined && i + 1 < args.length && (spec.arg === 'required' || !args[i + 1].startsWith('-'))) value = args[++i];
        if (value === undefined && spec.arg === 'required') return { tokens, rest, error: { text: arg, message: 'missing argument' } };
        tokens.push({ tag: spec.tag, value, text: arg });
        break;
      }
      continue;
    }
    rest.push(arg);
  }
  return { tokens, rest };
}

const COMMAND_OF: Record<string, IpvsCommandName> = {
  A: 'add-service', E: 'edit-service', D: 'delete-service', a: 'add-server', e: 'edit-server', d: 'delete-server',
  C: 'flush', L: 'list', Z: 'zero', set: 'set', R: 'restore', S: 'save', 'start-daemon': 'start-daemon', 'stop-daemon': 'stop-daemon',
};

const fail = (message: string): never => { throw new IpvsadmExit(message, 2); };
const tryHelp = (program: string): never => {
  throw new IpvsadmExit(`Try \`${program} -h' or '${program} --help' for more information.`, 255);
};

/** string_to_number(): a whole decimal number within [min, max], else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?\d+$/.test(s)) return -1;
  const n = Number(s.trim());
  return n >= min && n <= max ? n : -1;
}

function parseTimeout(buf: string | undefined, min: number, max: number): number {
  if (buf === undefined) return IPVS_SVC_PERSISTENT_TIMEOUT;
  const n = stringToNumber(buf, min, max);
  if (n === -1) fail(`invalid timeout value \`${buf}' specified`);
  return n;
}

const DOTTED = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** parse_service(): "host[:port]" -> address and port (port undefined when not given), or null. */
export function parseServiceAddress(buf: string, proto: Proto, names: NameResolver): { ip: string; port?: number } | null {
  if (/^\d*$/.test(buf)) return null;
  if (buf.startsWith('[')) return null; // IPv6: ulvs forwards IPv4 only (refused by the caller)
  const colon = buf.lastIndexOf(':');
  const host = colon < 0 ? buf : buf.slice(0, colon);
  const ip = DOTTED.test(host) ? host.split('.').map(Number).join('.') : names.host(host);
  if (ip === undefined) return null;
  if (colon < 0) return { ip };
  const portText = buf.slice(colon + 1);
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1) port = names.service(portText, proto.toLowerCase() as 'tcp' | 'udp' | 'sctp') ?? -1;
  return port === -1 ? null : { ip, port };
}

function parseNetmask(buf: string, names: NameResolver): string | null {
  if (DOTTED.test(buf)) return buf.split('.').map(Number).join('.');
  return names.host(buf) ?? null;
}

function parseSchedFlags(sched: string, arg: string): string[] {
  const flags: string[] = [];
  for (const flag of arg.split(',').filter((f) => f !== '')) {
    if (flag === 'flag-1' || flag === 'flag-2' || flag === 'flag-3') flags.push(flag);
    else if (flag === 'sh-fallback' || flag === 'sh-port' || flag === 'mh-fallback' || flag === 'mh-port') {
      if (sched !== flag.slice(0, 2)) fail(`incompatible scheduler flag \`${flag}'`);
      flags.push(flag);
    } else fail(`invalid scheduler flag \`${flag}'`);
  }
  return flags;
}

/** Parses one ipvsadm command line (without argv[0]); throws IpvsadmExit as ipvsadm exits. */
export function parseIpvsadm(args: readonly string[], names: NameResolver, program = 'ipvsadm'): IpvsCommand {
  const { tokens, rest, error } = tokenize(args);
  const first = tokens[0];
  if (!first) return tryHelp(program);
  if (first.tag === 'h') throw new IpvsadmExit(usage(program), 0, true);
  if (first.tag === 'v') throw new IpvsadmExit(VERSION, 0, true);
  if (first.tag === 'laddr-cmd') fail(`${first.text}: ${LADDR_REFUSAL}`);
  const command = COMMAND_OF[first.tag];
  if (!command) return tryHelp(program);
  const ce: IpvsCommand = {
    command, scheduler: '', persistent: 0, netmask: '255.255.255.255', ops: false, schedFlags: [],
    forward: 'DR', weight: 1, uthreshold: 0, lthreshold: 0, connections: false, timeout: false, daemon: false,
    format: { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, noSort: false, exact: false },
    given: new Set(),
  };
  if (command === 'start-daemon' || command === 'stop-daemon') {
    if (first.value !== 'master' && first.value !== 'backup') fail(command === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
  }
  let schedFlagsArg = '';
  const set = (opt: OptName): void => {
    if (ce.given.has(opt)) fail(`multiple '${opt}' options specified`);
    ce.given.add(opt);
  };
  for (const t of tokens.slice(1)) {
    const v = t.value ?? '';
    switch (t.tag) {
      case 't': case 'u': case 'sctp': {
        set('service-address');
        const protocol: Proto = t.tag === 't' ? 'TCP' : t.tag === 'u' ? 'UDP' : 'SCTP';
        const parsed = parseServiceAddress(v, protocol, names);
        if (!parsed) fail('illegal virtual server address[:port] specified');
        ce.service = { protocol, vip: parsed!.ip, port: parsed!.port ?? 0 };
        break;
      }
      case 'f': {
        set('service-address');
        const mark = stringToNumber(v, 1, 4294967295);
        if (mark === -1) fail(`invalid fwmark value \`${v}' specified`);
        ce.service = { protocol: 'TCP', vip: '0.0.0.0', port: 0, fwmark: mark };
        break;
      }
      case 's': set('scheduler'); ce.scheduler = v.slice(0, 15); break;
      case 'p': set('persistent'); ce.persistent = parseTimeout(t.value, 1, MAX_TIMEOUT); break;
      case 'M': {
        set('netmask');
        const mask = parseNetmask(v, names);
        if (mask === null) fail('illegal virtual server persistent mask specified');
        ce.netmask = mask!;
        break;
      }
      case 'r': {
        set('real-server');
        const parsed = parseServiceAddress(v, ce.service?.protocol ?? 'TCP', names);
        if (!parsed) fail('illegal real server address[:port] specified');
        ce.server = { ip: parsed!.ip, port: parsed!.port ?? ce.service?.port ?? 0 };
        break;
      }
      case 'i': set('forwarding-method'); ce.forward = 'TUN'; break;
      case 'g': set('forwarding-method'); ce.forward = 'DR'; break;
      case 'm': set('forwarding-method'); ce.forward = 'NAT'; break;
      case 'fullnat': set('forwarding-method'); ce.forward = 'FNAT'; break;
      case 'w': set('weight'); ce.weight = stringToNumber(v, 0, 65535); if (ce.weight === -1) fail('illegal weight specified'); break;
      case 'x': set('u-threshold'); ce.uthreshold = stringToNumber(v, 0, INT_MAX); if (ce.uthreshold === -1) fail('illegal u_threshold specified'); break;
      case 'y': set('l-threshold'); ce.lthreshold = stringToNumber(v, 0, INT_MAX); if (ce.lthreshold === -1) fail('illegal l_threshold specified'); break;
      case 'c': set('connection'); ce.connections = true; break;
      case 'n': set('numeric'); ce.format.numeric = true; break;
      case 'mcast': set('mcast-interface'); break;
      case 'I': set('syncid'); if (stringToNumber(v, 0, 255) === -1) fail('illegal syncid specified'); break;
      case 'timeout': set('timeout'); ce.timeout = true; break;
      case 'daemon': set('daemon'); ce.daemon = true; break;
      case 'stats': set('stats'); ce.format.stats = true; break;
      case 'rate': set('rate'); ce.format.rate = true; break;
      case 'thresholds': set('thresholds'); ce.format.thresholds = true; break;
      case 'persistent-conn': set('persistent-conn'); ce.format.persistentConn = true; break;
      case 'nosort': set('nosort'); ce.format.noSort = true; break;
      case 'sort': break;
      case 'X': set('exact'); ce.format.exact = true; break;
      case '6': if (ce.service?.fwmark === undefined) fail('-6 used before -f\n'); break;
      case 'o': set('ops'); ce.ops = true; break;
      case 'pe': set('pe'); break;
      case 'b': set('sched-flags'); schedFlagsArg = v; break;
      case 'laddr-cmd': fail(`${t.text}: ${LADDR_REFUSAL}`); break;
      default: fail(`invalid option \`${t.text}'`);
    }
  }
  if (error) throw new IpvsadmExit(`${error.text}: ${error.message}`, 255);
  const leftovers = [...rest];
  if (command === 'set') {
    if (leftovers.length < 3) fail('--set option requires 3 timeout values');
    const [tcp, tcpfin, udp] = leftovers.splice(0, 3).map((x) => parseTimeout(x, 0, MAX_TIMEOUT));
    ce.timeouts = { tcp, tcpfin, udp };
  }
  if (leftovers.length) fail(`unexpected argument ${leftovers[0]}`);
  if (schedFlagsArg) ce.schedFlags = parseSchedFlags(ce.scheduler || 'wlc', schedFlagsArg);
  checkCombination(command, ce.given);
  return finish(ce);
}

/** generic_opt_check(): the option table's '+', 'x' and '1' rules, in optnames order. */
function checkCombination(command: IpvsCommandName, given: ReadonlySet<string>): void {
  const row = LEGAL[command];
  let last: OptName | null = null;
  OPTNAMES.forEach((opt, j) => {
    if (!given.has(opt)) {
      if (row[j] === '+') fail(`You need to supply the '${opt}' option for the '${command}' command`);
      return;
    }
    if (row[j] === 'x') fail(`Illegal '${opt}' option with the '${command}' command`);
    if (row[j] === '1') {
      if (last === null) { last = opt; return; }
      fail(`The option '${opt}' conflicts with the '${last}' option in the '${command}' command`);
    }
  });
}

/** process_options()'s checks and defaults after parsing. */
function finish(ce: IpvsCommand): IpvsCommand {
  const svc = ce.service;
  if (ce.command === 'add-service' || ce.command === 'edit-service') {
    if (svc && svc.fwmark === undefined && svc.port === 0 && ce.persistent === 0) fail('Zero port specified for non-persistent service');
    if (ce.ops && svc && svc.fwmark === undefined && svc.protocol !== 'UDP') fail('One-Packet Scheduling is only for UDP virtual services');
    if (!ce.scheduler) ce.scheduler = 'wlc';
  }
  if ((ce.command === 'add-server' || ce.command === 'edit-server') && svc && svc.fwmark === undefined && ce.server && ce.forward !== 'NAT') {
    ce.server = { ...ce.server, port: svc.port };
  }
  if (ce.command === 'list') {
    const f = ce.format;
    if (((ce.connections || ce.timeout || ce.daemon) && (f.stats || f.rate || f.thresholds)) || ((ce.timeout || ce.daemon) && f.persistentConn)) {
      fail('options conflicts in the list command');
    }
  }
  return ce;
}

export const VERSION = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)';

export function usage(program: string): string {
  const p = program;
  return `${VERSION}
Usage:
  ${p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ${p} -D virtual-service
  ${p} -C
  ${p} -R
  ${p} -S [-n]
  ${p} -a|e virtual-service -r server-address [options]
  ${p} -d virtual-service -r server-address
  ${p} -L|l [virtual-service] [options]
  ${p} -Z [virtual-service]
  ${p} --set tcp tcpfin udp
  ${p} --start-daemon {master|backup} [daemon-options]
  ${p} --stop-daemon {master|backup}
  ${p} -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --fullnat                           Full NAT (DPVS's -b; the service needs laddr_group_name in the config)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
`;
}
