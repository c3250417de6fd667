/**
 * FILE_CHECK as keepalived's track_file for real servers (keepalived.conf(5) "Track files"):
 * the file holds a number. With weight 0, 0 means up and anything else down. Otherwise the
 * value times weight (negated with reverse) is added to the real server's weight when
 * `dynamic` is set (returned as weightDelta), and only a result at or below
 * IPVS_WEIGHT_FAULT (-2^31) is a fault.
 * ulvs is stricter than keepalived in one way: a missing/unreadable file or one that does
 * not start with a number is down (keepalived would read it as 0), so a typo fails safe.
 */
import { readFile, stat } from 'node:fs/promises';
import type { CheckResult, CheckTarget, RunOptions } from './types.js';
import { errorReason } from './types.js';

export interface FileCheckParams {
  /** Path of the tracked file (the config room resolves track_file names to paths). */
  file: string;
  /** keepalived default 1. */
  weight?: number;
  reverse?: boolean;
  dynamic?: boolean;
}

const IPVS_WEIGHT_FAULT = -2147483648;

/** Pure: verdict on the file's text. */
export function judgeFileContent(text: string, params: FileCheckParams): CheckResult {
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (!m) return { ok: false, reason: 'track file does not hold a number' };
  const value = Number(m[1]);
  const weight = params.weight ?? 1;
  if (weight === 0) {
    return value === 0 ? { ok: true, reason: 'track file 0' } : { ok: false, reason: `track file ${value}` };
  }
  const delta = value * weight * (params.reverse ? -1 : 1);
  if (delta <= IPVS_WEIGHT_FAULT) return { ok: false, reason: `track file ${value}: fault` };
  const r: CheckResult = { ok: true, reason: `track file ${value}` };
  if (params.dynamic) r.weightDelta = delta;
  return r;
}

export async function runFileCheck(_target: CheckTarget, params: FileCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  if (opts.signal?.aborted) return { ok: false, reason: 'aborted' };
  try {
    // A FIFO or device would block a libuv worker thread in open(): only regular files.
    if (!(await stat(params.file)).isFile()) return { ok: false, reason: 'track file is not a regular file' };
    const text = await readFile(params.file, { encoding: 'utf8', signal: opts.signal });
    return judgeFileContent(text.slice(0, 64), params);
  } catch (err) {
    return { ok: false, reason: `track file: ${errorReason(err)}` };
  }
}
