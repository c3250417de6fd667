// Property: whatever the input, the readers and translators either return or throw their own
// MigrateError, nothing else (no TypeError, no stack trace for the user).
import t from 'tap';
import fc from 'fast-check';
import { MigrateError, migrateFile, readKeepalivedConfig } from '../../src/migrate/index.js';

const PIECES = [
  '{', '}', ' ', ' ', '\n', '\n', '\t', '"', "'", '\\', '!', '#', '$', '${', '$A', '$A=', '$B=\\\n', '@', '@main ', '@^main ', '~SEQ(', '~SEQ(I, 1, 3)', '~LST(', ')', ',',
  '~SEQx(H, 0x0, 0xf)', '${I}', '${_PWD}', '${_RANDOM 1 3}', 'include ', 'include missing*.conf', '*', '\u00a0', '\0',
  'global_defs', 'router_id', 'vrrp_instance', 'VI_1', 'interface', 'eth0', 'virtual_router_id', 'priority', 'state', 'MASTER',
  'virtual_ipaddress', 'track_script', 'weight', 'reverse', 'unicast_peer', 'authentication', 'auth_pass', 'vrrp_script', 'script',
  'vrrp_sync_group', 'group', 'virtual_server', 'virtual_server_group', 'fwmark', 'real_server', 'lb_algo', 'lvs_sched', 'lb_kind', 'lvs_method',
  'persistence_timeout', 'sorry_server', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'FILE_CHECK', 'UDP_CHECK', 'DNS_CHECK',
  'url', 'path', 'status_code', 'digest', 'sh-port', 'flag-1', 'lvs_timeouts', 'tcp', 'udp',
  'rr', 'DR', 'NAT', 'TUN', '198.18.0.100', '198.18.0.10', '80', '0', '-5', '300', '1.5', 'x', 'label', 'dev', 'brd',
];
const keepalivedText = fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 })), { maxLength: 120 }).map((a) => a.join(''));

const LD_PIECES = ['virtual=', 'real=', '198.18.0.100:80', '198.18.0.10:80', ' gate', ' masq', ' ipip', ' 2', '\n', '\n\t', '    ', '=', '"', "'", '#',
  'checktype=', 'negotiate', 'connect', 'ping', 'off', '3', 'service=', 'http', 'request=', 'receive=', 'fallback=', 'quiescent=', 'yes', 'no',
  'scheduler=', 'wrr', 'persistent=', 'netmask=', 'protocol=', 'tcp', 'fwm', 'checkport=', 'autoreload=', 'logfile=', '->', '\0'];
const ldirectordText = fc.array(fc.oneof(fc.constantFrom(...LD_PIECES), fc.string({ maxLength: 3 })), { maxLength: 80 }).map((a) => a.join(''));

function onlyOwnErrors(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (err) {
    if (err instanceof MigrateError) return err.diagnostics.length > 0 && err.diagnostics.every((d) => d.line >= 1 && d.col >= 1);
    throw err;
  }
}

t.test('keepalived: any text migrates or throws MigrateError', async (t) => {
  fc.assert(fc.property(keepalivedText, fc.constantFrom('main', 'backup'), (text, id) =>
    onlyOwnErrors(() => migrateFile('fuzz.conf', { from: 'keepalived', routerId: id, interface: 'eth0', readText: () => text }))), { numRuns: 400 });
  t.pass('400 random configs');
});

t.test('ldirectord: any text migrates or throws MigrateError', async (t) => {
  fc.assert(fc.property(ldirectordText, (text) =>
    onlyOwnErrors(() => migrateFile('fuzz.cf', { from: 'ldirectord', interface: 'eth0', readText: () => text }))), { numRuns: 400 });
  t.pass('400 random files');
});

t.test('plain words come back as they were written, at their columns', async (t) => {
  const word = fc.stringMatching(/^[A-Za-z0-9_.\/:-]{1,8}$/);
  fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.array(fc.constantFrom(' ', '  ', '\t'), { minLength: 8, maxLength: 8 }), (words, gaps) => {
    const line = words.map((w, i) => w + gaps[i]).join('');
    const [read] = readKeepalivedConfig('w.conf', { configId: 'x', readText: () => line }).lines;
    let col = 1;
    return read.tokens.every((tok, i) => {
      const ok = tok.text === words[i] && tok.col === col && tok.line === 1;
      col += words[i].length + gaps[i].length;
      return ok;
    }) && read.tokens.length === words.length;
  }), { numRuns: 300 });
  t.pass('300 lines');
});
