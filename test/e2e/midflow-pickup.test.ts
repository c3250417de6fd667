// Mid-flow pickup across a failover (IPVS's sloppy_tcp): two ulvs directors (VRRPv3, advert
// 0.1 s, DR, lb_algo mh with mh-port so the 30 connections spread over the three servers), 30
// keep-alive HTTP connections from the client each asking every 50 ms, `kill -9` of the
// MASTER. With the default sloppy_tcp (auto: mh picks up) the backup schedules each
// connection's next segment onto the server the master had chosen and none breaks; with
// sloppy_tcp: false (IPVS's default) the backup drops them and every connection stalls.
import t from 'tap';
import { createLab, destroyLab, labExec, waitForOrFail, type LabTopology } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { CONNECTIONS, brokenStreams, errorTally, stateOf, statsOf as stats, streamingClient, type Stream, type StreamingClient } from './failover-harness.js';

const prefix = 'sy6-';
/** Streaming before the kill, once every connection has been answered. */
const BEFORE_KILL_MS = 1500;
/** Streaming after dir2 says MASTER. */
const AFTER_TAKEOVER_MS = 5000;


function config(state: 'MASTER' | 'BACKUP', priority: number, sloppyTcp: string): string {
  return `dataplane: { interface: eth0, io: auto${sloppyTcp ? `, sloppy_tcp: ${sloppyTcp}` : ''} }
vrrp_instances:
  - name: VI_1
    state: ${state}
    interface: eth0
    virtual_router_id: 61
    version: 3
    priority: ${priority}
    advert_int: 0.1
    # Under the shared machine's load adverts come late and dir2 may briefly take over (and be
    # preempted); the MASTER's GARP refresh brings the client back to it within a second.
    garp_master_refresh: 1
    virtual_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: mh
    mh_port: true
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
      - { ip: 198.18.0.30, port: 80 }
`;
}


interface Outcome { broken: number; errors: Record<string, number>; streams: Stream[]; killedAt: number; backupStats: Record<string, number> }

/** Brings up a fresh lab and both directors, streams, kills dir1 with -9, tears all down. */
async function failover(t: Tap.Test, sloppyTcp: string): Promise<Outcome> {
  let dir1: RunningDirector | null = null;
  let dir2: RunningDirector | null = null;
  let client: StreamingClient | null = null;
  const logs: string[] = [];
  // ip netns delete of the lab also takes the VIP and XDP program the killed dir1 left behind.
  t.teardown(async () => { client?.kill(); await dir1?.stop(); await dir2?.stop(); await destroyLab({ prefix }); });
  t.teardown(() => {
    if (!t.passing()) t.comment(`dir1:\n${logs[0] ?? dir1?.log() ?? ''}\ndir2:\n${dir2?.log() ?? ''}`);
  });
  const lab: LabTopology = await createLab({ prefix });
  // Both directors' kernels ignore the VIP's segments that ulvs does not take (netfilter runs
  // after XDP, so this changes nothing for what ulvs steers). Why: (1) a process killed with -9
  // leaves its host up; its XDP program falls back to XDP_PASS and dir1's kernel, which still
  // holds the VIP, would RST every segment that reaches it before dir2's GARP moves the
  // client; a dead host is silent (what a director does about its own leftovers after a crash
  // is issue 11 part 3). (2) Under the shared machine's load, VRRP at advert 0.1 s flaps (dir2
  // goes MASTER, is preempted), and while the VIP is on dir2's interface but not steered (just
  // before the address goes) its kernel would RST too: a VRRP/address-ordering matter, not the
  // pickup this test is about. Without this, neither scenario could tell pickup from RSTs.
  for (const node of [lab.nodes.dir1.name, lab.nodes.dir2.name]) {
    const silence = await labExec(node, ['nft', '-f', '-'], {
      input: `table ip mfp_quiet {\n  chain input {\n    type filter hook input priority 0;\n    ip daddr ${lab.vip} tcp dport 80 drop\n  }\n}\n`,
    });
    t.equal(silence.code, 0, `${node}'s kernel ignores the VIP's segments ${silence.stderr}`);
  }
  dir1 = await startDirector(lab.nodes.dir1.name, writeConfig(config('MASTER', 150, sloppyTcp)));
  dir2 = await startDirector(lab.nodes.dir2.name, writeConfig(config('BACKUP', 100, sloppyTcp)));
  await waitForOrFail('dir1 MASTER and dir2 BACKUP', async () => stateOf(dir1!) === 'MASTER' && stateOf(dir2!) === 'BACKUP', 15_000);

  client = streamingClient(lab.nodes.client.name, lab.vip);
  await client.ready;
  await new Promise((r) => setTimeout(r, BEFORE_KILL_MS));
  const killedAt = Date.now();
  dir1.process.kill('SIGKILL');
  await dir1.stop();
  logs[0] = dir1.log();
  dir1 = null;
  await waitForOrFail('dir2 to take over', async () => stateOf(dir2!) === 'MASTER', 5000);
  await new Promise((r) => setTimeout(r, AFTER_TAKEOVER_MS));
  const endAt = Date.now();
  const streams = await client.stop();
  client = null;
  t.equal(streams.length, CONNECTIONS, 'the client reports every connection');
  const broken = brokenStreams(streams, endAt);
  const errors = errorTally(streams);
  const backupStats = await stats(lab.nodes.dir2.name);
  const flaps = (dir2.log().match(/VRRP VI_1: BACKUP -> MASTER/g) ?? []).length - 1;
  t.comment(`errors ${JSON.stringify(errors)}; dir2 became MASTER ${flaps} times before the kill; dir2 stats ${JSON.stringify(backupStats)}`);
  return { broken, errors, streams, killedAt, backupStats };
}

t.test('default sloppy_tcp (auto) with mh: a kill -9 of the MASTER breaks 0 of 30 connections', { timeout: 180_000 }, async (t) => {
  const o = await failover(t, '');
  t.equal(o.broken, 0, `${o.broken} of ${CONNECTIONS} connections broke`);
  const servers = new Set(o.streams.flatMap((s) => s.bodies));
  t.ok(servers.size > 1, `mh-port spread the connections over ${[...servers].join(', ')}`);
  t.ok(o.streams.every((s) => s.bodies.length === 1), 'each connection stayed on one server');
  t.ok(o.streams.every((s) => s.answers.filter((a) => a > o.killedAt).length >= 20), 'each kept getting answers after the takeover');
  // At least one pickup per connection, unless a VRRP flap under load (advert 0.1 s) let dir2
  // pick some up earlier and keep their entries.
  t.ok(o.backupStats.sloppy_pickups > 0, `the backup picked them up mid-flow (sloppy_pickups ${o.backupStats.sloppy_pickups})`);
});

t.test('sloppy_tcp: false (IPVS default): the same failover breaks the connections', { timeout: 180_000 }, async (t) => {
  const o = await failover(t, 'false');
  t.ok(o.broken >= CONNECTIONS - 5, `${o.broken} of ${CONNECTIONS} connections broke`);
  t.equal(o.backupStats.sloppy_pickups, 0, 'nothing picked up');
  t.ok(o.backupStats.drop_no_flow > 0, `the backup dropped their segments (drop_no_flow ${o.backupStats.drop_no_flow})`);
});
