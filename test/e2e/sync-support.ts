// Two ulvs directors with connection sync (lvs_sync_daemon) in the lab: configs and one run of
// "stream 30 keep-alive connections, kill -9 the MASTER, optionally restart it (failback)".
import type { Test } from 'tap';
import { createLab, destroyLab, sleep, waitForOrFail, type LabTopology } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import {
  CONNECTIONS, STALL_MS, brokenStreams, errorTally, silentBetween, stateOf, statsOf, streamingClient,
  type Stream, type StreamingClient,
} from './failover-harness.js';

export const SYNC_KEY = 'lab-sync-key-0123456789';
/** `ulvs run` to "director running": node alone takes seconds to start on the shared, loaded machine. */
export const START_MS = 90_000;
/** Streaming after each takeover before the next step. */
const AFTER_TAKEOVER_MS = 4000;

export interface SyncPairOptions {
  lbAlgo: string; kind: 'DR' | 'NAT'; sync: boolean;
  /** persistence_timeout of the service (none by default). */
  persistence?: number;
  /** dataplane.queues (the lab must be made with as many directorQueues). */
  queues?: number;
  /** 6: the service, its real servers and the VRRP instance are the lab's IPv6 ones (2001:2::100). */
  family?: 6;
}

/** The VIP the client streams to. */
export const vipOf = (o: Pick<SyncPairOptions, 'family'>, lab: LabTopology): string => (o.family === 6 ? '2001:2::100' : lab.vip);

/** The config of one of the two lab directors (dir1 MASTER 150, dir2 BACKUP 100) the sync tests run. */
export function syncPairConfig(o: SyncPairOptions, state: 'MASTER' | 'BACKUP', priority: number): string {
  const nat = o.kind === 'NAT';
  const v6 = o.family === 6;
  const rs = (n: number): string => (v6 ? `"${nat ? '2001:2:0:1::' : '2001:2::'}${n}"` : `${nat ? '198.18.1' : '198.18.0'}.${n}`);
  const vips = v6
    ? `      - { address: "2001:2::100/128", dev: eth0 }${nat ? '\n      - { address: "2001:2:0:1::254/64", dev: eth1 }' : ''}`
    : `      - { address: 198.18.0.100/32, dev: eth0 }${nat ? '\n      - { address: 198.18.1.254/24, dev: eth1 }' : ''}`;
  return `${o.sync ? `global_defs:
  lvs_sync_daemon: { interface: eth0, instance: VI_1, id: 7, auth_key: "${SYNC_KEY}" }
` : ''}dataplane: { interface: eth0,${nat ? ' inside: eth1,' : ''} io: auto, sloppy_tcp: false${o.queues ? `, queues: ${o.queues}` : ''} }
vrrp_instances:
  - name: VI_1
    state: ${state}
    interface: eth0
    virtual_router_id: 62
    version: 3
    priority: ${priority}
    advert_int: 0.1
    # Under the shared machine's load adverts come late and dir2 may briefly take over (and be
    # preempted); the MASTER's GARP refresh brings the client back within a second.
    garp_master_refresh: 1
    virtual_ipaddress:
${vips}
virtual_servers:
  - vip: ${v6 ? '"2001:2::100"' : '198.18.0.100'}
    port: 80
    protocol: TCP
    lb_algo: ${o.lbAlgo}
    lb_kind: ${o.kind}${o.persistence ? `\n    persistence_timeout: ${o.persistence}` : ''}
    real_servers:
      - { ip: ${rs(10)}, port: 80 }
      - { ip: ${rs(20)}, port: 80 }
      - { ip: ${rs(30)}, port: 80 }
`;
}

export interface SyncRun {
  lab: LabTopology;
  streams: Stream[];
  /** Connections silent for STALL_MS right before the restart (or the end): lost in the failover. */
  brokenByFailover: number;
  /** Connections broken at the end (after the failback, when there was one). */
  brokenAtEnd: number;
  /** ms from the start of streaming until dir2 held every connection (sync only). */
  syncedAfterMs?: number;
  dir1Stats?: Record<string, number>;
  dir2Stats: Record<string, number>;
}

/** One lab, two directors, 30 streams, kill -9 of dir1, then (failback) dir1 started again. */
export async function syncFailover(t: Test, prefix: string, o: SyncPairOptions & { failback: boolean },
  beforeKill?: (lab: LabTopology) => Promise<void>, afterTakeover?: (lab: LabTopology) => Promise<void>): Promise<SyncRun> {
  let dir1: RunningDirector | null = null;
  let dir2: RunningDirector | null = null;
  let client: StreamingClient | null = null;
  const logs: string[] = [];
  t.teardown(async () => { client?.kill(); await dir1?.stop(); await dir2?.stop(); await destroyLab({ prefix }); });
  t.teardown(() => {
    if (!t.passing()) t.comment(`dir1 (first run):\n${logs[0] ?? ''}\ndir1:\n${dir1?.log() ?? ''}\ndir2:\n${dir2?.log() ?? ''}`);
  });
  const lab = await createLab({ prefix, nat: o.kind === 'NAT', directorQueues: o.queues });
  const dir1Config = writeConfig(syncPairConfig(o, 'MASTER', 150));
  dir1 = await startDirector(lab.nodes.dir1.name, dir1Config, START_MS);
  dir2 = await startDirector(lab.nodes.dir2.name, writeConfig(syncPairConfig(o, 'BACKUP', 100)), START_MS);
  await waitForOrFail('dir1 MASTER and dir2 BACKUP', () => stateOf(dir1!) === 'MASTER' && stateOf(dir2!) === 'BACKUP', 20_000);

  const streamingAt = Date.now();
  client = streamingClient(lab.nodes.client.name, vipOf(o, lab));
  await client.ready;
  let syncedAfterMs: number | undefined;
  if (o.sync) {
    // 60 s: a `ulvs stats` call alone takes seconds on the loaded machine (one that times out counts as "not yet").
    await waitForOrFail('dir2 to hold every connection', async () => ((await statsOf(lab.nodes.dir2.name).catch(() => null))?.sync_applied ?? 0) >= CONNECTIONS, 60_000, 200);
    syncedAfterMs = Date.now() - streamingAt;
  } else {
    await sleep(1500);
  }
  if (beforeKill) await beforeKill(lab);
  dir1.process.kill('SIGKILL');
  await dir1.stop();
  logs[0] = dir1.log();
  dir1 = null;
  await waitForOrFail('dir2 to take over', () => stateOf(dir2!) === 'MASTER', 10_000);
  await sleep(AFTER_TAKEOVER_MS);
  if (afterTakeover) await afterTakeover(lab);
  const failoverEnd = Date.now();
  let dir1Stats: Record<string, number> | undefined;
  if (o.failback) {
    dir1 = await startDirector(lab.nodes.dir1.name, dir1Config, START_MS);
    await waitForOrFail('dir1 MASTER again and dir2 BACKUP', () => stateOf(dir1!) === 'MASTER' && stateOf(dir2!) === 'BACKUP', 30_000);
    await sleep(AFTER_TAKEOVER_MS);
    dir1Stats = await statsOf(lab.nodes.dir1.name);
  }
  const endAt = Date.now();
  const dir2Stats = await statsOf(lab.nodes.dir2.name);
  const streams = await client.stop();
  client = null;
  t.equal(streams.length, CONNECTIONS, 'the client reports every connection');
  t.comment(`errors ${JSON.stringify(errorTally(streams))}; synced after ${syncedAfterMs ?? '-'} ms; dir2 ${JSON.stringify(dir2Stats)}`);
  return {
    lab, streams, syncedAfterMs, dir1Stats, dir2Stats,
    brokenByFailover: silentBetween(streams, failoverEnd - STALL_MS, failoverEnd),
    brokenAtEnd: brokenStreams(streams, endAt),
  };
}
