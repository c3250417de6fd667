// Test support for the faults-under-load files: a DR lab with a running director, HTTP load
// through the VIP from the client namespace (load-client.mjs), and the fault matrix line each
// test prints (fault x failed requests x recovery time) for the issue notes.
import { join } from 'node:path';
import type { Test } from 'tap';
import { createLab, destroyLab, labExec, type LabTopology } from '../../src/lab/index.js';
import { REPO, labDrConfig, startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';

export const LOAD_CLIENT = join(REPO, 'test/e2e-faults/load-client.mjs');

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** ms from the start of the load. */
  failTimes: number[];
  /** The longest time without an answer, and when it ended (ms from the start). */
  maxGapMs: number;
  gapEndsAtMs: number;
  servers: Record<string, number>;
  /** Date.now() when the client started (failTimes count from it). */
  startedAt: number;
}

/** HTTP load through `url` for `ms` from the namespace; resolves when it is over. */
export async function loadFrom(namespace: string, url: string, ms: number, concurrency = 2): Promise<LoadResult> {
  const r = await labExec(namespace, [process.execPath, LOAD_CLIENT, url, String(ms), String(concurrency)], { timeoutMs: ms + 60_000 });
  if (r.code !== 0) throw new Error(`load client failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadResult;
}

export interface FaultLab {
  lab: LabTopology;
  director: RunningDirector;
  dir1: string;
  client: string;
  url: string;
}

/**
 * The DR lab (rr over rs1..rs3) with a director on `io`; torn down (director, namespaces) at
 * the end of the test, also when it fails.
 */
export async function faultLab(t: Test, prefix: string, o: { io: 'afxdp' | 'tap'; env?: Record<string, string>; yaml?: string }): Promise<FaultLab> {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    // A failed fault test is read from CI's output alone: show what the director said.
    if (!t.passing() && director) t.comment(`director log (${prefix}):\n${director.log().split('\n').slice(-80).join('\n')}`);
    await director?.stop();
    await destroyLab({ prefix });
  });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix });
  const yaml = o.yaml ?? labDrConfig({ lbAlgo: 'rr' }).replace('io: auto', `io: ${o.io}`);
  const saved = { ...process.env };
  Object.assign(process.env, o.env ?? {});
  try {
    director = await startDirector(lab.nodes.dir1.name, writeConfig(yaml));
  } finally {
    for (const k of Object.keys(o.env ?? {})) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
  }
  return { lab, director, dir1: lab.nodes.dir1.name, client: lab.nodes.client.name, url: `http://${lab.vip}/` };
}

/** Runs `cmd` in the namespace; throws with its stderr when it fails. */
export async function must(namespace: string, cmd: string[]): Promise<string> {
  const r = await labExec(namespace, cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${namespace} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** One line of the fault matrix, in the test output (tap comments). */
export function reportFault(t: Test, fault: string, load: LoadResult, extra = ''): void {
  t.comment(`FAULT-MATRIX | ${fault} | requests ${load.ok + load.failed} | failed ${load.failed} ${JSON.stringify(load.errors)} | longest outage ${load.maxGapMs} ms${extra ? ` | ${extra}` : ''}`);
}
