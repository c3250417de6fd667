// Bounded resources (issue 15 part 3), the cheap asserts beside bench/resources.ts's figures:
// a SYN flood of three times the default table leaves the table at its bound and RSS flat once
// the table is full (no growth with more SYNs, after the flood either), and check runs
// (misc_check and tcp_check) leave no file descriptor and no child process behind.
import t from 'tap';
import { checksFigure, synFloodFigure } from '../../bench/resources.js';

t.test('SYN flood of 3x the default table: the table stays at its bound, RSS does not grow once it is full', async (t) => {
  const f = synFloodFigure(3_000_000, 500_000) as { tableSize: number; capacity: number; rssDuringMb: number[]; rssAfter500kMoreMb: number };
  t.equal(f.tableSize, f.capacity, `the table is at its bound (${f.tableSize})`);
  // From the second sample on the table is full (1,048,576 < 1M SYNs): any growth would be a leak.
  const full = f.rssDuringMb[2];
  const peak = Math.max(...f.rssDuringMb.slice(2), f.rssAfter500kMoreMb);
  t.ok(peak <= full * 1.1 + 8, `RSS once full ${full} MB, at most ${peak} MB after 2M more SYNs (bound +10 % + 8 MB) ${JSON.stringify(f.rssDuringMb)}`);
});

t.test('2,000 check runs (misc_check and tcp_check) leave no fd and no child process', async (t) => {
  const c = await checksFigure(2000);
  t.equal(c.failed, 0, 'every check ran and passed');
  t.ok(c.fdsAfter <= c.fdsBefore, `fds ${c.fdsBefore} -> ${c.fdsAfter}`);
  t.equal(c.childrenAfter, c.childrenBefore, `children ${c.childrenBefore} -> ${c.childrenAfter}`);
});
