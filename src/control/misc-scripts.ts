/**
 * keepalived disables a MISC_CHECK whose script cannot be found or run on the machine it starts
 * on ("Disabling misc script ... since not found/accessible"): the real server is then not
 * checked. check-config only warns, since the machine a config is checked on is often not the
 * director; here, on the director, the checker is taken out and one line says so.
 */
import type pino from 'pino';
import { commandPath } from '../config/cross-checks.js';
import { scriptState, type ScriptState } from '../config/cross-check-kit.js';
import type { UlvsConfig } from '../config/index.js';

export type ScriptProbe = (program: string) => ScriptState;

/** The config with every MISC_CHECK whose script is missing or not executable removed (logged). */
export function withoutMissingMiscScripts(config: UlvsConfig, log: pino.Logger, probe: ScriptProbe = (p) => scriptState(p, process.cwd())): UlvsConfig {
  let changed = false;
  const virtual_servers = config.virtual_servers.map((vs) => ({
    ...vs,
    real_servers: vs.real_servers.map((rs) => {
      const check = rs.check;
      if (check?.checker !== 'misc_check') return rs;
      const program = commandPath(check.misc_path);
      const state = probe(program);
      if (state === 'ok') return rs;
      changed = true;
      log.warn({ realServer: `${rs.ip}:${rs.port}`, script: program, state },
        `MISC_CHECK of ${rs.ip}:${rs.port} disabled: script ${program} ${state === 'missing' ? 'does not exist' : 'is not executable'} on this machine (keepalived disables it too); the real server is not checked`);
      return { ...rs, check: null };
    }),
  }));
  return changed ? { ...config, virtual_servers } : config;
}
