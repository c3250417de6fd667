// `ulvs lab ...` as a user runs it: a child process per command (stdio and exit codes are the
// point), running labCommand() from source under the same TypeScript loader tap uses.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { destroyLab, labNodes, runningServerPid } from '../../src/lab/index.js';
import { checkoutReadableByNobody } from '../support/readable-checkout.js';

const PREFIX = 'tlb-c-';
const REPO = fileURLToPath(new URL('../..', import.meta.url));

// Spawned processes run the compiled JS (fast) when dist/ is newer than the sources it comes
// from, else the sources under tap's TypeScript loader (2 s per start), never a stale build.
function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
const sources = ['src/cli/lab.ts', ...readdirSync(join(REPO, 'src/lab')).filter((f) => f.endsWith('.ts')).map((f) => `src/lab/${f}`)];
const distFresh = sources.every((src) => mtime(join(REPO, 'dist', src.replace(/\.ts$/, '.js'))) >= mtime(join(REPO, src)));
const entry = distFresh ? './dist/src/cli/lab.js' : './src/cli/lab.ts';
const loader = distFresh ? [] : ['--import', '@tapjs/typescript/import'];
t.comment(`cli under test: ${entry}`);
const main = (entry: string): string => `
import { Command } from 'commander';
import { labCommand } from '${entry}';
const program = new Command('ulvs');
program.addCommand(labCommand());
await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Checkout { dir: string; entry: string; loader: string[] }

const HERE: Checkout = { dir: REPO, entry, loader };

/** Where nobody runs the cli from: this checkout, or a readable copy of its (fresh) dist/. */
function nobodysCheckout(): Checkout {
  const dir = checkoutReadableByNobody();
  if (dir === REPO) return HERE;
  if (!distFresh) throw new Error('dist/ is older than src/ and the checkout is not readable by nobody: run scripts/setup.sh');
  return { dir, entry: './dist/src/cli/lab.js', loader: [] };
}

function ulvs(args: string[], wrap: string[] = [], checkout = HERE): Promise<Ran> {
  const node = [process.execPath, ...checkout.loader, '--input-type=module', '-e', main(checkout.entry)];
  const [file, ...rest] = [...wrap, ...node, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, { cwd: checkout.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.teardown(() => destroyLab({ prefix: PREFIX }));

t.test('lab up, exec, server stop/start, status, down', async (t) => {
  const up = await ulvs(['lab', 'up', '--prefix', PREFIX]);
  t.equal(up.code, 0, up.stderr);
  t.match(up.stdout, `${PREFIX}rs1`);
  t.match(up.stdout, '198.18.0.10/24 2001:2::10/64 02:18:00:00:00:0a');

  const rs1 = labNodes(PREFIX).rs1.ip;
  const viaShort = await ulvs(['lab', 'exec', 'client', '--prefix', PREFIX, '--', 'curl', '-s', `http://${rs1}/`]);
  t.equal(viaShort.code, 0, viaShort.stderr);
  t.equal(viaShort.stdout, 'rs1\n', 'stdout of the command passes through');

  const viaFull = await ulvs(['lab', 'exec', `${PREFIX}rs2`, '--', 'sh', '-c', 'hostname -I >/dev/null; ip -o -4 addr show dev eth0; exit 7']);
  t.equal(viaFull.code, 7, 'exit code passes through');
  t.match(viaFull.stdout, '198.18.0.20/24', 'ran inside rs2');

  const unknown = await ulvs(['lab', 'exec', 'rs7', '--prefix', PREFIX, '--', 'true']);
  t.equal(unknown.code, 2);
  t.equal(unknown.stderr.trim().split('\n').length, 1, 'one line');
  t.match(unknown.stderr, /unknown lab node 'rs7'.*client, dir1, dir2, rs1, rs2, rs3/);

  const stop = await ulvs(['lab', 'server', 'stop', 'rs3', '--prefix', PREFIX]);
  t.equal(stop.code, 0, stop.stderr);
  t.equal(runningServerPid(`${PREFIX}rs3`), undefined);
  const refused = await ulvs(['lab', 'exec', 'client', '--prefix', PREFIX, '--', 'curl', '-s', `http://${labNodes(PREFIX).rs3.ip}/`]);
  t.equal(refused.code, 7, 'curl: connection refused');
  const start = await ulvs(['lab', 'server', 'start', `${PREFIX}rs3`]);
  t.equal(start.code, 0, start.stderr);
  t.ok(runningServerPid(`${PREFIX}rs3`) !== undefined);
  const badServer = await ulvs(['lab', 'server', 'start', 'dir9', '--prefix', PREFIX]);
  t.equal(badServer.code, 2);

  const status = await ulvs(['lab', 'status', '--prefix', PREFIX, '--json']);
  t.equal(status.code, 0, status.stderr);
  const [parsed] = JSON.parse(status.stdout);
  t.equal(parsed.up, true);
  t.equal(parsed.nodes.filter((n: { serverPid?: number }) => n.serverPid !== undefined).length, 3);
  const human = await ulvs(['lab', 'status', '--prefix', PREFIX]);
  t.match(human.stdout, `lab ${PREFIX}: up`);

  const down = await ulvs(['lab', 'down', '--prefix', PREFIX]);
  t.equal(down.code, 0, down.stderr);
  const again = await ulvs(['lab', 'down', '--prefix', PREFIX]);
  t.equal(again.code, 0, 'down is idempotent');
  const after = await ulvs(['lab', 'status', '--prefix', PREFIX]);
  t.match(after.stdout, `lab ${PREFIX}: down`);
  const noLab = await ulvs(['lab', 'exec', 'client', '--prefix', PREFIX, '--', 'true']);
  t.equal(noLab.code, 1, 'exec into a missing lab fails');
  t.equal(noLab.stderr, `ulvs lab: namespace ${PREFIX}client does not exist (run \`ulvs lab up\` first)\n`);
});

t.test('not root: one clear line', async (t) => {
  // `env -i`: tap injects coverage/processinfo hooks into children's environment, and nobody
  // cannot write their root-owned files.
  const nobody = ['env', '-i', `PATH=${process.env.PATH}`, 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
  const r = await ulvs(['lab', 'up', '--prefix', PREFIX], nobody, nobodysCheckout());
  t.equal(r.code, 1);
  t.equal(r.stderr.trim(), 'ulvs lab: must run as root (network namespaces need CAP_SYS_ADMIN); try sudo');
});
