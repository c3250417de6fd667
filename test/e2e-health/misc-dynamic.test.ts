// Issue 4: misc_check with misc_dynamic: a script exiting 2+N sets the real server's weight to
// N (seen in `ulvs list -n` and in the wrr shares of new connections), exit 1 takes it down.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { httpFrom, tally, ulvsIn } from '../e2e/director.js';
import { drConfig, labWithDirector, waitFor, watchTable } from './support.js';

const PREFIX = 'hmd-';
const work = mkdtempSync(join(tmpdir(), 'ulvs-hmd-'));
const script = (rs: string): string => join(work, `${rs}.sh`);
const setExit = (rs: string, code: number): void => writeFileSync(script(rs), `exit ${code}\n`);

// Configured weights are 5 so that every weight seen below comes from a script.
const check = (rs: string): string => `misc_check: { misc_path: "/bin/sh ${script(rs)}", misc_timeout: 1, misc_dynamic: true }`;
const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 5, ${check('rs1')} }`,
  `{ ip: 198.18.0.20, port: 80, weight: 5, ${check('rs2')} }`,
  `{ ip: 198.18.0.30, port: 80, weight: 5, ${check('rs3')} }`,
], 'delay_loop: 1');

const same = (a: Record<string, number> | undefined, b: Record<string, number>): boolean =>
  a !== undefined && JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('misc_dynamic exit codes set weights', async (t) => {
  setExit('rs1', 3);
  setExit('rs2', 4);
  setExit('rs3', 5);
  const { dir1, client } = await labWithDirector(t, PREFIX, config);
  const table = watchTable(t, dir1);
  const weights = { '198.18.0.10:80': 1, '198.18.0.20:80': 2, '198.18.0.30:80': 3 };
  t.ok(await waitFor(() => same(table.current(), weights), 6000), 'exits 3/4/5 give weights 1/2/3', { table: table.current() });
  const list = await ulvsIn(dir1, ['list', '-n']);
  for (const [n, w] of [[10, 1], [20, 2], [30, 3]]) {
    t.match(list.stdout, new RegExp(`198\\.18\\.0\\.${n}:80 +Route +${w} `), `\`ulvs list -n\` shows .${n} with weight ${w}`);
  }
  // wrr 1:2:3 repeats every 6 connections: 60 new connections split exactly 10/20/30.
  const shares = await httpFrom(client, 'http://198.18.0.100/', 60, 'new');
  t.same(tally(shares.bodies), { rs1: 10, rs2: 20, rs3: 30 }, 'new connections split 10/20/30 by the scripts\' weights');

  setExit('rs2', 1);
  setExit('rs3', 12);
  const next = { '198.18.0.10:80': 1, '198.18.0.30:80': 10 };
  t.ok(await waitFor(() => same(table.current(), next), 6000), 'exit 1 takes rs2 out, exit 12 gives rs3 weight 10', { table: table.current() });
  const more = await httpFrom(client, 'http://198.18.0.100/', 22, 'new');
  t.same(tally(more.bodies), { rs1: 2, rs3: 20 }, 'new connections split 2/20 by the new weights');
});
