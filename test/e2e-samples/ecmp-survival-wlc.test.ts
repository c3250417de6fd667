// Connection survival behind ECMP with wlc and connection sync among all directors (issue 19
// part 3), prefix ecb-: every director runs the sample 'lab-ecmp-sync.yaml' unchanged
// (lvs_sync_daemon mode: all). wlc may pick another real server for a moved flow, so only the
// flow sync brought keeps it. With BFD on every BGP session (ulvs lab up --ecmp --bfd).
import { join } from 'node:path';
import t from 'tap';
import { REPO, ULVS } from '../e2e/director.js';
import { labExec } from '../../src/lab/index.js';
import { runSurvival, stats } from '../e2e/ecmp-survival.js';

t.setTimeout(880_000);
const CONFIG = join(REPO, 'configs', 'lab-ecmp-sync.yaml');

t.test('wlc with sync (mode all): connections survive dir3 joining, dir2 drained, dir1 killed', async (t) => {
  await runSurvival(t, {
    prefix: 'ecb-', config: CONFIG, bfd: true, label: 'wlc, sync mode all, BFD',
    async afterJoin(t, rig, ns) {
      const s3 = await stats(ns('dir3'));
      t.ok(s3.sync_applied > 0, `dir3 applied the others' flows (${s3.sync_applied})`);
      t.equal(s3.sync_ignored_own_message, 0, 'no datagram of its own came back');
      const status = await labExec(ns('dir3'), [process.execPath, ULVS, 'status'], { timeoutMs: 90_000 });
      t.match(status.stdout, /sync {2}ALL {2}\(lvs_sync_daemon eth0 mode all id 0\)\n {2}peer 198\.18\.0\.\d {2}last message .*\n {2}peer 198\.18\.0\.\d /,
        'ulvs status: ALL, and a line for each of the other two directors');
      const routerHasBfd = await labExec(rig.lab.router.namespace, ['birdc', '-s', `/etc/bird/bird.ctl`, 'show', 'bfd', 'sessions']);
      t.match(routerHasBfd.stdout, /198\.18\.0\.4 .* Up/, 'the router has an Up BFD session with dir3');
    },
  });
});
