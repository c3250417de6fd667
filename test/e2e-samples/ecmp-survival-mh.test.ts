// Connection survival behind ECMP with mh and no sync (issue 19 part 3), prefix eca-: every
// director runs the sample 'lab-ecmp.yaml' unchanged; identical Maglev tables and mid-flow
// pickup (sloppy_tcp auto) keep each moved flow on its real server. No BFD here: the host-death
// figure is the BGP hold time (compare ecmp-survival-wlc.test.ts, with BFD).
import t from 'tap';
import { ECMP_CONFIG } from '../e2e/ecmp-support.js';
import { runSurvival, stats } from '../e2e/ecmp-survival.js';

// A lab, three director starts and four events: many minutes on a loaded 2-core machine.
t.setTimeout(880_000);

t.test('mh without sync: connections survive dir3 joining, dir2 drained, dir1 killed', async (t) => {
  t.match(ECMP_CONFIG, /\/lab-ecmp\.yaml$/);
  await runSurvival(t, {
    prefix: 'eca-', config: ECMP_CONFIG, bfd: false, label: 'mh, no sync',
    async afterJoin(t, _rig, ns) {
      t.ok((await stats(ns('dir3'))).sloppy_pickups > 0, 'dir3 picked the moved flows up mid-flow (sloppy_pickups)');
    },
  });
});
