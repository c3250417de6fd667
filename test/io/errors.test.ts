// describeIoError: one actionable line per common failure; steering rule checks.
import fc from 'fast-check';
import t from 'tap';
import { FallbackFailed, describeIoError } from '../../src/io/errors.js';
import { validateSteeringRules, type SteeringRule } from '../../src/io/port.js';
import { steeringFilterLines } from '../../src/io/tc.js';
import { loadNative } from '../../src/io/native.js';

const coded = (message: string, code: string, syscall: string): Error => Object.assign(new Error(message), { code, syscall });

t.test('describeIoError', async (t) => {
  const table: Array<[string, Error, string]> = [
    ['missing interface', coded('if_nametoindex: No such device (eth9)', 'ENODEV', 'if_nametoindex'), 'interface eth9 does not exist: check dataplane.interface'],
    ['not root', coded('bpf_object__load: Operation not permitted', 'EPERM', 'bpf_object__load'), 'taking packets from eth9 with AF_XDP (bpf_object__load) needs CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_PERFMON, CAP_IPC_LOCK: run as root or grant them'],
    ['attach failed', coded('bpf_xdp_attach: Operation not supported', 'EOPNOTSUPP', 'bpf_xdp_attach'), 'XDP attach failed on eth9 (bpf_xdp_attach: Operation not supported): try dataplane.io: tap'],
    ['socket failed', coded('xsk_socket__create: Invalid argument (queue 3)', 'EINVAL', 'xsk_socket__create'), 'XDP attach failed on eth9 (xsk_socket__create: Invalid argument (queue 3)): try dataplane.io: tap'],
  ];
  for (const [name, err, line] of table) t.equal(describeIoError(err, 'eth9'), line, name);
  t.match(describeIoError(coded('bpf_xdp_query: Device or resource busy (another XDP program is attached: foo)', 'EBUSY', 'bpf_xdp_query'), 'eth9'),
    /^another XDP program is attached to eth9 .*ip link set dev eth9 xdp off.*dataplane.io: tap$/);
  t.match(describeIoError(new Error('strange'), 'eth9'), /eth9.*strange/);
  const both = describeIoError(new FallbackFailed(coded('socket: Operation not permitted', 'EPERM', 'xsk_socket__create'),
    coded('open /dev/net/tun: Operation not permitted', 'EPERM', 'open')), 'eth9');
  t.match(both, /^taking packets from eth9 with AF_XDP \(xsk_socket__create\).*; the TAP fallback failed too: opening \/dev\/net\/tun for TAP on eth9 was refused \(EPERM\)/,
    'io: auto names both failures when the TAP fallback fails too');
  t.match(describeIoError(undefined, 'eth9'), /eth9/);
});

t.test('native errors carry the errno name and the syscall', async (t) => {
  const native = loadNative();
  const err = (() => { try { native.interfaceInfo('tio-nosuch0'); } catch (e) { return e as Error & { code: string; syscall: string }; } })();
  t.equal(err?.code, 'ENODEV');
  t.equal(err?.syscall, 'if_nametoindex');
  t.match(err?.message, /No such device/);
  const bad = (() => { try { native.detachXdp('tio-nosuch0'); } catch (e) { return e as Error & { code: string }; } })();
  t.equal(bad?.code, 'ENODEV');
  t.throws(() => new native.NativePort('tap', { tapName: 'x', frameCount: 64, frameSize: 1000 }), TypeError, 'frameSize must be a power of two');
});

const ruleArb = fc.record({
  kind: fc.constantFrom('service' as const, 'reply' as const),
  ip: fc.integer({ min: 0, max: 0xffffffff }),
  port: fc.integer({ min: 0, max: 0xffff }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
});

t.test('steering rules', async (t) => {
  fc.assert(fc.property(fc.array(ruleArb), (rules: SteeringRule[]) => { validateSteeringRules(rules); }));
  t.throws(() => validateSteeringRules([{ kind: 'service', ip: -1, port: 1, protocol: 'udp' }]), /uint32/);
  t.throws(() => validateSteeringRules([{ kind: 'service', ip: 1, port: 70000, protocol: 'udp' }]), /0-65535/);
  t.throws(() => validateSteeringRules([{ kind: 'nope' as 'service', ip: 1, port: 1, protocol: 'udp' }]), /kind/);
  t.throws(() => validateSteeringRules([{ kind: 'reply', ip: 1, port: 1, protocol: 'icmp' as 'udp' }]), /protocol/);
  // The tc lines match exactly the rule's address, port and protocol, at the right side: the
  // rule's own packets, then ICMP errors quoting them (2 lines); port 0: 14 fragment lines.
  fc.assert(fc.property(ruleArb, (rule) => {
    const lines = steeringFilterLines('eth0', 'ulvst2', 4242, rule);
    if (!lines.every((l) => l.endsWith('action mirred egress redirect dev ulvst2'))) return false;
    const ip = lines[0].match(/match ip (src|dst) (\d+)\.(\d+)\.(\d+)\.(\d+)\/32/);
    const proto = lines[0].match(/match ip protocol (\d+) 0xff/);
    if (!ip || !proto) return false;
    const back = ((+ip[2] << 24) | (+ip[3] << 16) | (+ip[4] << 8) | +ip[5]) >>> 0;
    if (back !== rule.ip || ip[1] !== (rule.kind === 'service' ? 'dst' : 'src') || +proto[1] !== (rule.protocol === 'tcp' ? 6 : 17)) return false;
    if (rule.port === 0) return lines.length === 14 && lines.every((l) => l.includes(`match ip ${ip[1]} ${ip.slice(2).join('.')}/32`));
    const port = lines[0].match(/match u16 (\d+) 0xffff at (\d+)/);
    if (!port || +port[1] !== rule.port || +port[2] !== (rule.kind === 'service' ? 22 : 20)) return false;
    const quoted = `match u32 0x${rule.ip.toString(16).padStart(8, '0')} 0xffffffff at ${rule.kind === 'service' ? 40 : 44}`;
    const quotedPort = `match u16 ${rule.port} 0xffff at ${rule.kind === 'service' ? 48 : 50}`;
    return lines.length === 3 && lines.slice(1).every((l) => l.includes('match ip protocol 1 0xff') && l.includes(quoted) && l.includes(quotedPort)) &&
      lines[1].includes('match u8 3 0xf7 at 20') && lines[2].includes('match u8 4 0xf7 at 20');
  }));
});
