/**
 * The control commands behind `ulvs ipvsadm`'s changes: `ipvsadm` (one change, or a whole
 * `-R` restore, applied all or nothing) and `runtime` (the overrides and what they apply to).
 * The director carries them out (Director.applyRuntime); this file only shapes request and reply.
 */
import { applyEdit, dormantOverrides, RuntimeRefusal, touchedServices, type RuntimeEdit, type RuntimeOverrides } from './runtime-overrides.js';
import { mergeOverrides } from './runtime-overrides.js';
import { validateServices } from './runtime-validate.js';
import type { UlvsConfig } from '../config/index.js';

/** One change of a restore file, with the line it came from (1-based; 0 = the command line). */
export interface NumberedEdit { line: number; edit: RuntimeEdit }

export type RuntimeReply = { ok: true; version: number } | { ok: false; error: string; status: number; line?: number };

/**
 * Applies every edit in order to a copy of the overrides; the first refusal (ipvsadm's,
 * check-config's or the reload planner's) rejects the lot. Pure: the director adopts the result.
 */
export function planRuntime(config: UlvsConfig, overrides: RuntimeOverrides, edits: readonly NumberedEdit[]):
  { ok: true; overrides: RuntimeOverrides; effective: UlvsConfig } | { ok: false; error: string; status: number; line?: number } {
  let next = overrides;
  for (const { line, edit } of edits) {
    try {
      next = applyEdit(config, next, edit);
    } catch (err) {
      if (!(err instanceof RuntimeRefusal)) throw err;
      return { ok: false, error: err.message, status: err.status, ...(line ? { line } : {}) };
    }
    const problems = validateServices(mergeOverrides(config, next), touchedServices(edit));
    if (problems.length) return { ok: false, error: problems.join('\n'), status: 2, ...(line ? { line } : {}) };
  }
  return { ok: true, overrides: next, effective: mergeOverrides(config, next) };
}

/** `runtime`: the overrides as kept, and those whose target the config no longer has. */
export function runtimeReport(config: UlvsConfig, overrides: RuntimeOverrides): { overrides: RuntimeOverrides; dormant: string[] } {
  return { overrides, dormant: dormantOverrides(config, overrides) };
}

/** The overrides as ipvsadm lines (what `ulvs list` shows under the table). */
export function describeOverrides(overrides: RuntimeOverrides): string[] {
  const lines: string[] = [];
  for (const s of overrides.services) {
    const svc = `${s.protocol === 'UDP' ? '-u' : '-t'} ${s.vip}:${s.port}`;
    if (s.deleted) { lines.push(`-D ${svc}`); continue; }
    const f = s.fields;
    const keys = Object.entries(f).map(([k, v]) => `${k}=${v}`);
    if (keys.length) lines.push(`-E ${svc}  (${keys.join(' ')})`);
    for (const r of s.servers) {
      if (r.deleted) lines.push(`-d ${svc} -r ${r.ip}:${r.port}`);
      else lines.push(`-e ${svc} -r ${r.ip}:${r.port}  (${Object.entries(r.fields).map(([k, v]) => `${k}=${v}`).join(' ')})`);
    }
  }
  return lines;
}
