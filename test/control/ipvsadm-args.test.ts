// ipvsadm 1.31's command line: popt's rules, the option table, and ipvsadm's messages and
// exit codes (fail() = 2, popt errors and "Try ... -h" = 255).
import t from 'tap';
import fc from 'fast-check';
import { IpvsadmExit, parseIpvsadm, parseServiceAddress } from '../../src/cli/ipvsadm-args.js';
import { nameTables } from '../../src/cli/ipvsadm-names.js';

const names = nameTables('198.18.0.100 web\n', 'http 80/tcp\ndomain 53/udp\n');
const parse = (line: string) => parseIpvsadm(line.split(' ').filter(Boolean), names);
const exitOf = (line: string): { message: string; status: number } => {
  try { parse(line); } catch (e) { if (e instanceof IpvsadmExit) return { message: e.message, status: e.status }; throw e; }
  throw new Error(`"${line}" parsed`);
};

t.test('listing: clustered short options and long ones', async (t) => {
  const c = parse('-Ln --stats --exact');
  t.equal(c.command, 'list');
  t.match(c.format, { numeric: true, stats: true, exact: true, rate: false });
  t.equal(parse('-lnc').connections, true);
  t.equal(parse('-L --timeout').timeout, true);
  t.same(parse('-L -n -t 198.18.0.100:80').service, { protocol: 'TCP', vip: '198.18.0.100', port: 80 });
  t.same(parse('-Ln --tcp-service=web:http').service, { protocol: 'TCP', vip: '198.18.0.100', port: 80 });
  t.same(parse('-Ln -u web:domain').service, { protocol: 'UDP', vip: '198.18.0.100', port: 53 });
  t.same(parse('-Ln --sctp-service 198.18.0.1:9').service, { protocol: 'SCTP', vip: '198.18.0.1', port: 9 });
  t.equal(parse('-Ln --sort').format.noSort, false);
  t.equal(parse('-Ln --nosort').format.noSort, true);
});

t.test('changes: defaults as process_options sets them', async (t) => {
  const a = parse('-A -t 198.18.0.100:80');
  t.match(a, { command: 'add-service', scheduler: 'wlc', persistent: 0, netmask: '255.255.255.255' });
  t.equal(parse('-A -t 198.18.0.100:80 -p').persistent, 300, '-p without a value is 300 s');
  t.equal(parse('-A -t 198.18.0.100:80 -p 60 -s rr').persistent, 60, '-p takes the next word when it is not an option');
  t.equal(parse('-A -t 198.18.0.100:0 -p').service!.port, 0, 'port 0 with persistence');
  const e = parse('-e -t 198.18.0.100:80 -r 198.18.0.10:8080 -w 0');
  t.match(e, { command: 'edit-server', forward: 'DR', weight: 0, server: { ip: '198.18.0.10', port: 80 } }, 'DR: the server port is the service port');
  t.match(parse('-a -t 198.18.0.100:80 -r 198.18.1.10:8080 -m -w 3 -x 100 -y 10'),
    { forward: 'NAT', weight: 3, uthreshold: 100, lthreshold: 10, server: { port: 8080 } });
  t.match(parse('-a -t 198.18.0.100:80 -r 198.18.1.10').server, { port: 80 }, 'no port: the service port');
  t.same(parse('--set 900 120 300').timeouts, { tcp: 900, tcpfin: 120, udp: 300 });
  t.same(parse('-A -t 198.18.0.100:80 -s sh -b sh-port,sh-fallback').schedFlags, ['sh-port', 'sh-fallback']);
  t.equal(parse('-Z').command, 'zero');
  t.equal(parse('-C').command, 'flush');
  t.equal(parse('-Sn').format.numeric, true);
});

t.test('ipvsadm\'s messages and exit codes', async (t) => {
  const cases: [string, string, number][] = [
    ['-n -L', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.", 255],
    ['', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.", 255],
    ['--bogus', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.", 255],
    ['-L --bogus', '--bogus: unknown option', 255],
    ['-A -t', '-t: missing argument', 255],
    ['-L -L', "invalid option `-L'", 2],
    ['-A -t 198.18.0.100:80 -t 198.18.0.100:81', "multiple 'service-address' options specified", 2],
    ['-A', "You need to supply the 'service-address' option for the 'add-service' command", 2],
    ['-a -t 198.18.0.100:80', "You need to supply the 'real-server' option for the 'add-server' command", 2],
    ['-D -t 198.18.0.100:80 -s rr', "Illegal 'scheduler' option with the 'delete-service' command", 2],
    ['-L -c --timeout', "The option 'timeout' conflicts with the 'connection' option in the 'list' command", 2],
    ['-L -c --stats', 'options conflicts in the list command', 2],
    ['-a -t 198.18.0.100:80 -r 198.18.0.10 -w 65536', 'illegal weight specified', 2],
    ['-a -t 198.18.0.100:80 -r 198.18.0.10 -w x', 'illegal weight specified', 2],
    ['-A -t nosuchhost:80', 'illegal virtual server address[:port] specified', 2],
    ['-A -t 198.18.0.100:nosuchport', 'illegal virtual server address[:port] specified', 2],
    ['-a -t 198.18.0.100:80 -r 80', 'illegal real server address[:port] specified', 2],
    ['-A -t 198.18.0.100:80 -p 0', "invalid timeout value `0' specified", 2],
    ['-A -t 198.18.0.100:0', 'Zero port specified for non-persistent service', 2],
    ['-A -t 198.18.0.100:80 -o', 'One-Packet Scheduling is only for UDP virtual services', 2],
    ['-A -t 198.18.0.100:80 -s rr -b sh-port', "incompatible scheduler flag `sh-port'", 2],
    ['-A -t 198.18.0.100:80 -b nope', "invalid scheduler flag `nope'", 2],
    ['-A -t 198.18.0.100:80 -M 1.2.3', 'illegal virtual server persistent mask specified', 2],
    ['--set 1 2', '--set option requires 3 timeout values', 2],
    ['-L extra', 'unexpected argument extra', 2],
    ['-A -f 0', "invalid fwmark value `0' specified", 2],
    ['-L -6', '-6 used before -f\n', 2],
    ['--start-daemon sideways', 'illegal start-daemon parameter specified', 2],
  ];
  for (const [line, message, status] of cases) t.same(exitOf(line), { message, status }, line);
});

t.test('-h and -v print to stdout and exit 0', async (t) => {
  for (const flag of ['-h', '--help', '-v', '--version']) {
    try { parse(flag); t.fail(flag); } catch (e) { t.match(e, { status: 0, toStdout: true }); }
  }
});

t.test('property: any dotted quad and port round-trips through parse_service', async (t) => {
  fc.assert(fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), fc.nat(65535), (ip, port) => {
    const text = ip.join('.');
    const parsed = parseServiceAddress(`${text}:${port}`, 'TCP', names);
    return parsed !== null && parsed.ip === text && parsed.port === port;
  }));
});

t.test('property: any argv either parses or exits with ipvsadm\'s statuses (0, 2, 255), never throws otherwise', async (t) => {
  const words = fc.constantFrom('-A', '-E', '-D', '-a', '-e', '-d', '-L', '-l', '-n', '-c', '-t', '-u', '-r', '-w', '-p', '-s', '--stats',
    '--rate', '--set', '198.18.0.100:80', '198.18.0.10', 'rr', '5', '-Ln', '-x', '--timeout', '-Z', '-C', '-S', '-R', '-m', '-g', '-i', 'junk');
  fc.assert(fc.property(fc.array(words, { maxLength: 8 }), (argv) => {
    try { parseIpvsadm(argv, names); return true; } catch (e) { return e instanceof IpvsadmExit && [0, 2, 255].includes(e.status); }
  }));
});
