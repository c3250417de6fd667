// keepalived.conf's language, feature by feature, as keepalived.conf(5) describes it: include
// globs, comments, quoted strings, `@` conditional lines, `$VAR` parameters (also multi-line),
// `~SEQ` / `~LST` blocks, nested blocks; every word keeps its FILE:LINE:COL.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrateError, buildTree, readKeepalivedConfig, type ReadResult } from '../../src/migrate/index.js';
import { expandBraces } from '../../src/migrate/keepalived-reader.js';

function read(text: string, configId = 'main'): ReadResult {
  return readKeepalivedConfig('inline.conf', { configId, readText: () => text });
}
/** Each logical line's words joined by `|` (comment-only lines left out). */
function lines(text: string, configId = 'main'): string[] {
  return read(text, configId).lines.filter((l) => l.tokens.length > 0).map((l) => l.tokens.map((w) => w.text).join('|'));
}
function errorsOf(text: string): string[] {
  try {
    read(text);
  } catch (err) {
    if (err instanceof MigrateError) return err.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    throw err;
  }
  return [];
}

t.test('comments: ! and # anywhere outside quotes, kept with their line', async (t) => {
  const r = read('! header\nrouter_id a # why\nscript "x # not a comment" ! yes\n  # alone\nweight 1!x\n');
  t.same(r.lines.map((l) => [l.tokens.map((w) => w.text), l.comment]), [
    [[], 'header'], [['router_id', 'a'], 'why'], [['script', 'x # not a comment'], 'yes'], [[], 'alone'], [['weight', '1'], 'x'],
  ]);
});

t.test('quoted strings: quotes group words, join with neighbours, escapes as the manual says', async (t) => {
  t.same(lines('abcd" efg h jkl "mnop'), ['abcd efg h jkl mnop']);
  t.same(lines('abcd "efg h jkl" mnop'), ['abcd|efg h jkl|mnop']);
  t.same(lines(`x 'single "inner"' "tab\\there" "q\\"q" "\\x41\\101\\cA"`), ['x|single "inner"|tab\there|q"q|AA\x01']);
  t.same(lines('a "{" b'), ['a|{|b'], 'a quoted brace is a word');
  const tok = read('a "{" b').lines[0].tokens[1];
  t.equal(tok.quoted, true);
});

t.test('braces are words of their own; blocks nest; { may open on the next line', async (t) => {
  t.same(lines('vrrp_instance VI{state MASTER}'), ['vrrp_instance|VI|{|state|MASTER|}']);
  const tree = buildTree(read('a {\n b 1 { c 2 }\n d\n}\ne\n{\n f\n}\n').lines);
  const shape = (s: typeof tree): unknown => s.map((x) => [x.keyword.text, x.args.map((a) => a.text), x.block ? shape(x.block) : null]);
  t.same(shape(tree), [['a', [], [['b', ['1'], [['c', ['2'], null]]], ['d', [], null]]], ['e', [], [['f', [], null]]]]);
});

t.test('every word keeps FILE:LINE:COL', async (t) => {
  const r = read('global_defs {\n\trouter_id   "dir one"\n}\n');
  t.same(r.lines[1].tokens.map((w) => [w.file, w.line, w.col, w.text]), [['inline.conf', 2, 2, 'router_id'], ['inline.conf', 2, 14, 'dir one']]);
});

t.test('@ conditional lines: @id keeps for that config id, @^id for every other', async (t) => {
  const text = '@main router_id main_router\n@backup router_id backup_router\nunicast_peer {\n @^main 1.2.3.4\n @^backup 1.2.3.5\n @^backup2 1.2.3.6\n}\n';
  t.same(lines(text, 'main'), ['router_id|main_router', 'unicast_peer|{', '1.2.3.5', '1.2.3.6', '}']);
  t.same(lines(text, 'backup'), ['router_id|backup_router', 'unicast_peer|{', '1.2.3.4', '1.2.3.6', '}']);
  t.same(lines(text, 'other'), ['unicast_peer|{', '1.2.3.4', '1.2.3.5', '1.2.3.6', '}']);
});

t.test('$VAR: definitions, $NAME before whitespace, ${NAME} anywhere, substituted at use', async (t) => {
  // The manual's example: replacement happens when used, recursively.
  const text = '$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n';
  t.same(lines(text), ['10.2.0.100/32', '10.2.10.100/32']);
  t.same(lines('$P=240\npriority $P\npriority $Px\npriority ${UNDEF}\n'), ['priority|240', 'priority|$Px', 'priority|${UNDEF}'], 'undefined names stay');
  t.same(lines('@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n', 'backup'), ['priority|200'], 'conditional definitions');
  t.same(lines('$IF_MAIN=@main\n$IF_MAIN priority 240\n', 'main'), ['priority|240']);
  t.same(lines('$IF_MAIN=@main\n$IF_MAIN priority 240\n', 'backup'), []);
  t.same(lines('$E=\nweight 1 $E\n'), ['weight|1'], 'empty values are allowed');
  t.same(lines('script "echo ${_HASH}${_BANG}"'), ['script|echo #!']);
  const sub = read('$V=198.18.0.100\n  virtual_ipaddress ${V}/32\n').lines[0].tokens[1];
  t.same([sub.line, sub.col, sub.text], [2, 21, '198.18.0.100/32'], 'substituted words point at the use');
});

t.test('$VAR: multi-line definitions, nested, expanded where named alone on a line', async (t) => {
  const text = [
    '$RS= \\', 'real_server 198.18.0.${RS_NUM} 80 { \\', '    weight ${RS_NUM} \\', '}',
    '$VS= \\', 'virtual_server 198.18.0.${VS_NUM} 80 { \\', '    $RS_NUM=1 \\', '    $RS \\', '    $RS_NUM=2 \\', '    $RS \\', '}',
    '$VS_NUM=100', '$VS', '$VS_NUM=101', '$VS',
  ].join('\n');
  const tree = buildTree(read(text).lines);
  t.same(tree.map((vs) => [vs.args.map((a) => a.text).join(' '), vs.block!.map((rs) => `${rs.args[0].text} w${rs.block![0].args[0].text}`)]), [
    ['198.18.0.100 80', ['198.18.0.1 w1', '198.18.0.2 w2']],
    ['198.18.0.101 80', ['198.18.0.1 w1', '198.18.0.2 w2']],
  ]);
});

t.test('~SEQ and ~LST blocks repeat the rest of the line', async (t) => {
  t.same(lines('~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1'), ['ip_address|10.0.0.1', 'ip_address|10.0.1.1', 'ip_address|10.0.2.1', 'ip_address|10.0.3.1']);
  t.same(lines('~SEQx(SUBNET, 0x90, 0x10, 0xc0) a ${SUBNET}'), ['a|90', 'a|a0', 'a|b0', 'a|c0']);
  t.same(lines('~SEQ(N, 3) n$N'.replace('n$N', 'n${N}')), ['n1', 'n2', 'n3'], 'start and step may be left out');
  t.same(lines('~SEQ(N, 3, 1) n${N}'), ['n3', 'n2', 'n1'], 'counting down');
  t.same(lines('~SEQ(A, 1, 2) ~SEQ(B, 5, 6) ${A}.${B}'), ['1.5', '1.6', '2.5', '2.6'], 'several on one line');
  t.same(lines('~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}'),
    ['192.168.10.1', '192.170.10.1', '192.168.20.4', '192.170.20.4']);
  t.same(lines('$VI= \\\nvrrp_instance VI_${N} { \\\n priority 1${N} \\\n}\n~SEQ(N, 1, 2) $VI\n'),
    ['vrrp_instance|VI_1|{', 'priority|11', '}', 'vrrp_instance|VI_2|{', 'priority|12', '}'], 'a ~SEQ over a multi-line parameter');
  t.same(errorsOf('~SEQ(N, x, 3) a'), ['1:1: ~SEQ needs (var, [start, [step,]] end) with whole numbers, not (N, x, 3)']);
  t.same(errorsOf('~LST(A, {1,2}) a'), ['1:1: ~LST value "{1,2}" has 2 item(s) for 1 variable(s)']);
});

t.test('include: globs (and braces) relative to the including file, in sorted order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-migrate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'conf.d', 'sub'));
  writeFileSync(join(dir, 'main.conf'), 'a 1\ninclude conf.d/*.conf\nb 2\nincluder conf.d/{x,y}.extra\n');
  writeFileSync(join(dir, 'conf.d', '20-b.conf'), 'from_b ${_PWD}\ninclude sub/*.conf\n');
  writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'from_a\n');
  writeFileSync(join(dir, 'conf.d', 'sub', 'deep.conf'), 'from_deep\n');
  writeFileSync(join(dir, 'conf.d', 'x.extra'), 'from_x\n');
  writeFileSync(join(dir, 'conf.d', 'y.extra'), 'from_y\n');
  writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'never\n');
  const r = readKeepalivedConfig(join(dir, 'main.conf'), { configId: 'main' });
  t.same(r.lines.map((l) => l.tokens.map((w) => w.text).join(' ')),
    ['a 1', 'from_a', `from_b ${join(dir, 'conf.d')}`, 'from_deep', 'b 2', 'from_x', 'from_y']);
  t.equal(r.files.length, 6);
  const deep = r.lines[3].tokens[0];
  t.match(deep.file, /conf\.d\/sub\/deep\.conf$/, 'words carry the included file name');
  t.equal(deep.line, 1);
  t.same(expandBraces('{foo/{,cat,dog},bar}'), ['foo/', 'foo/cat', 'foo/dog', 'bar']);
});
