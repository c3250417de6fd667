/**
 * Script users at load time, not at the first run: a `user` of vrrp_script or MISC_CHECK, or
 * global_defs.script_user, that names no user or group is an error (keepalived's "Script user
 * 'x' does not exist"). With enable_script_security, a script that would run as root from a
 * path others can write is reported as keepalived reports it; it then never runs.
 */
import { resolveUser, scriptIdentity, type AccountLookup, systemAccounts } from '../os/script-user.js';
import { scriptRefusal } from '../os/script-security.js';
import { commandPath, list, obj, str, type CrossCheckEnv, type Findings, type Obj, type Path } from './cross-check-kit.js';

interface ScriptUse { path: Path; command: string; user?: string; userPath?: Path }

/** A notify script, written as a line or as `{ script, user }` (its own user). */
function notifyUse(value: unknown, path: Path): ScriptUse | undefined {
  const line = str(value);
  if (line) return { path, command: line };
  const o = obj(value);
  const command = str(o?.script);
  return command ? { path: [...path, 'script'], command, user: str(o?.user), userPath: [...path, 'user'] } : undefined;
}

/** Every script the config runs, with its own `user` where the block or the script has one. */
function scriptUses(cfg: Obj): ScriptUse[] {
  const out: ScriptUse[] = [];
  const notifyKeys = ['notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop'];
  const scripts = obj(cfg.vrrp_scripts) ?? {};
  for (const name of Object.keys(scripts)) {
    const s = obj(scripts[name]);
    const command = str(s?.script);
    if (command) out.push({ path: ['vrrp_scripts', name, 'script'], command, user: str(s?.user), userPath: ['vrrp_scripts', name, 'user'] });
  }
  for (const block of ['vrrp_instances', 'vrrp_sync_groups'] as const) {
    list(cfg[block]).forEach((raw, i) => {
      for (const key of notifyKeys) {
        const use = notifyUse(obj(raw)?.[key], [block, i, key]);
        if (use) out.push(use);
      }
    });
  }
  list(cfg.virtual_servers).forEach((rawVs, i) => {
    const vs = obj(rawVs);
    for (const key of ['quorum_up', 'quorum_down']) {
      const use = notifyUse(vs?.[key], ['virtual_servers', i, key]);
      if (use) out.push(use);
    }
    list(vs?.real_servers).forEach((rawRs, j) => {
      const rs = obj(rawRs);
      for (const key of ['notify_up', 'notify_down']) {
        const use = notifyUse(rs?.[key], ['virtual_servers', i, 'real_servers', j, key]);
        if (use) out.push(use);
      }
      const misc = obj(rs?.misc_check);
      const command = str(misc?.misc_path);
      const base: Path = ['virtual_servers', i, 'real_servers', j, 'misc_check'];
      if (command) out.push({ path: [...base, 'misc_path'], command, user: str(misc?.user), userPath: [...base, 'user'] });
    });
  });
  return out;
}

export function checkScriptUsers(cfg: Obj, r: Findings, env: CrossCheckEnv, lookup: AccountLookup = systemAccounts): void {
  const g = obj(cfg.global_defs);
  const scriptUser = str(g?.script_user);
  let globalOk = true;
  if (scriptUser !== undefined) {
    const got = resolveUser(scriptUser, lookup);
    if ('error' in got) {
      globalOk = false;
      r.error(['global_defs', 'script_user'], got.error, hintFor(got.error), false);
    }
  }
  const security = g?.enable_script_security === true;
  for (const use of scriptUses(cfg)) {
    if (use.user !== undefined) {
      const got = resolveUser(use.user, lookup);
      if ('error' in got) { r.error(use.userPath!, got.error, hintFor(got.error), false); continue; }
    } else if (!globalOk) continue;
    if (!security) continue;
    let id;
    try { id = scriptIdentity({ user: use.user, scriptUser }, lookup); } catch { continue; }
    const uid = id?.uid ?? process.getuid?.() ?? 0;
    const gid = id?.gid ?? process.getgid?.() ?? 0;
    if (uid !== 0 && gid !== 0) continue;
    const program = commandPath(use.command);
    const why = scriptRefusal(program, undefined, env.dirOf(use.path));
    // A script that is not there is the other checks' business (it warns where keepalived warns).
    if (why && !why.startsWith('Cannot find script')) {
      r.warn(use.path, why, 'enable_script_security: a script run as root must be root-owned and not writable by others, nor any directory above it; it does not run until fixed');
    }
  }
}

function hintFor(error: string): string {
  return error.startsWith('Script group') ? 'create the group (groupadd -r) or name another one'
    : error.startsWith('Script user') ? 'create the user (useradd -r) or name another one' : 'write "USER" or "USER GROUP"';
}
