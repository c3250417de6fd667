// The bench's lab and C tools for real: the harness's own setup with a unique prefix, exact
// packet counts sender -> sinks and through the C reference forwarder, and a teardown that
// leaves no namespace, process or XDP program behind. IPv6 frames are counted as exactly.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ECHO_PORT, leftoverNamespaces, setUpLab, startReference, tearDownLab, traffic } from '../../bench/lab.js';
import { REPO, TOOLS, XDP_OBJECT, killAll } from '../../bench/sys.js';
import { labNamespaceNames } from '../../src/lab/index.js';

const PREFIX = 'tbh-';

t.test('bench lab: set up, exact counts, torn down without leftovers', async (t) => {
  execFileSync('bash', [join(REPO, 'bench/build.sh')], { stdio: 'pipe' });
  for (const tool of ['sender', 'sink', 'rtt', 'ref_forwarder']) t.ok(existsSync(join(TOOLS, tool)), `${tool} built`);
  t.ok(existsSync(XDP_OBJECT), 'ulvs_xdp.o built (npm run build:native)');

  t.teardown(async () => { killAll(); await tearDownLab(PREFIX); });
  const lab = await setUpLab(PREFIX, false);
  t.same(leftoverNamespaces(PREFIX).sort(), labNamespaceNames(PREFIX).sort(), 'every namespace exists');
  const n = lab.nodes;
  const rsMacs = [n.rs1.mac, n.rs2.mac, n.rs3.mac];

  // Fixed rate, 1 s: every frame the sender got out is counted once at the real servers (the
  // sinks ignore frames the bridge floods to ports they are not addressed to).
  const direct = await traffic(lab, { dstMacs: rsMacs, flows: 999, rate: 20_000, seconds: 1 });
  t.ok(direct.sent > 10_000, `sender sent ${direct.sent}`);
  t.equal(direct.delivered, direct.sent, 'sinks counted exactly what was sent');
  // IPv6/UDP (sender --src-ip6/--dst-ip6, sink --ipv6, 80-byte frames): counted exactly too.
  const direct6 = await traffic(lab, { dstMacs: rsMacs, flows: 999, rate: 20_000, seconds: 1, family: 6 });
  t.ok(direct6.sent > 10_000, `sender sent ${direct6.sent} IPv6 frames`);
  t.equal(direct6.delivered, direct6.sent, `IPv6 sinks counted exactly what was sent (${direct6.delivered} of ${direct6.sent})`);

  const ref = await startReference(lab, XDP_OBJECT);
  let viaRef;
  try {
    viaRef = await traffic(lab, { dstMacs: [n.dir1.mac], flows: 999, rate: 20_000, seconds: 1, watchPid: ref.pid });
  } finally {
    await ref.stop();
  }
  t.equal(viaRef.delivered, viaRef.sent, 'the C reference forwards every frame at 20 kpps');
  t.ok(viaRef.processSeconds >= 0);
  const forwarder = JSON.parse(ref.stdout()) as { rx: number; forwarded: number };
  t.equal(forwarder.forwarded, viaRef.sent, 'and says so itself');
  t.equal(execFileSync('ip', ['-n', n.dir1.name, 'link', 'show', 'eth0']).toString().includes('xdp'), false, 'the reference detached its XDP program');

  // DR with a second --port (the latency bench's echo port): both ports are forwarded.
  const ref2 = await startReference(lab, XDP_OBJECT, [ECHO_PORT]);
  let main, echo;
  try {
    main = await traffic(lab, { dstMacs: [n.dir1.mac], flows: 99, rate: 5_000, seconds: 1 });
    echo = await traffic(lab, { dstMacs: [n.dir1.mac], flows: 99, rate: 5_000, seconds: 1, port: ECHO_PORT });
  } finally {
    await ref2.stop();
  }
  t.equal(main.delivered, main.sent, `the first port forwarded (${main.delivered} of ${main.sent})`);
  t.equal(echo.delivered, echo.sent, `the second port forwarded (${echo.delivered} of ${echo.sent})`);
  t.ok(echo.sent > 1_000, `the sender sent ${echo.sent} to the second port`);

  await tearDownLab(PREFIX);
  t.same(leftoverNamespaces(PREFIX), [], 'no namespace left');
  const netns = execFileSync('ip', ['netns', 'list']).toString();
  t.notMatch(netns, new RegExp(`^${PREFIX}`, 'm'));
});
