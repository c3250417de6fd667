/**
 * Who runs a script, as keepalived decides (core/notify.c): the block's own `user USER [GROUP]`,
 * else global_defs.script_user, else `keepalived_script` if that user exists, else ulvs's own
 * user (root). The group defaults to the user's; a group written `:GROUP` (or `:` alone) also
 * gives the user's supplementary groups (getgrouplist), otherwise the script has none. Users
 * are read through NSS (getent), so LDAP/sssd users work as they do for keepalived.
 */
import { spawnSync } from 'node:child_process';
import { scriptRefusal } from './script-security.js';

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

export interface UserSpec { user: string; group?: string; supplementary: boolean }

export interface ScriptIdentity { user: string; uid: number; gid: number; groups: number[] }

/** How a runner is told whom to run as: the block's spec, the global one, and security. */
export interface RunAs {
  /** The block's own `user` ("USER [GROUP]"). */
  user?: string;
  /** global_defs.script_user. */
  scriptUser?: string;
  /** global_defs.enable_script_security. */
  security?: boolean;
}

/** `USER [GROUP]` as keepalived reads it; null when it is not one or two words. */
export function parseUserSpec(text: string): UserSpec | null {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length < 1 || words.length > 2) return null;
  const [user, rawGroup] = words;
  if (rawGroup === undefined) return { user, supplementary: false };
  if (rawGroup.startsWith(':')) return { user, supplementary: true, ...(rawGroup.length > 1 ? { group: rawGroup.slice(1) } : {}) };
  return { user, group: rawGroup, supplementary: false };
}

/** What the system answers about names: a seam, so the rules can be tested without NSS. */
export interface AccountLookup {
  passwd(name: string): { uid: number; gid: number } | null;
  group(name: string): number | null;
  /** The user's groups as getgrouplist gives them (primary included). */
  groupList(name: string): number[];
}

function getent(db: string, key: string): string[] | null {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || !r.stdout) return null;
  return r.stdout.trim().split('\n')[0].split(':');
}

export const systemAccounts: AccountLookup = {
  passwd(name) {
    const f = getent('passwd', name);
    return f && f.length >= 4 ? { uid: Number(f[2]), gid: Number(f[3]) } : null;
  },
  group(name) {
    const f = getent('group', name);
    return f && f.length >= 3 ? Number(f[2]) : null;
  },
  groupList(name) {
    const r = spawnSync('id', ['-G', name], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout.trim().split(/\s+/).filter(Boolean).map(Number) : [];
  },
};

/** keepalived's messages for a user or group that is not there. */
export function resolveUser(text: string, lookup: AccountLookup = systemAccounts): ScriptIdentity | { error: string } {
  const spec = parseUserSpec(text);
  if (!spec) return { error: `"${text}" is not "USER [GROUP]"` };
  const pw = lookup.passwd(spec.user);
  if (!pw) return { error: `Script user '${spec.user}' does not exist` };
  let gid = pw.gid;
  if (spec.group !== undefined) {
    const g = lookup.group(spec.group);
    if (g === null) return { error: `Script group '${spec.group}' does not exist` };
    gid = g;
  }
  return { user: spec.user, uid: pw.uid, gid, groups: spec.supplementary ? lookup.groupList(spec.user) : [] };
}

const cache = new Map<string, ScriptIdentity | null>();

/**
 * The identity a script runs as; null = ulvs's own (no switch). Looked up once per spec and
 * process: the config load already refused names that do not exist.
 */
export function scriptIdentity(runAs: RunAs, lookup: AccountLookup = systemAccounts): ScriptIdentity | null {
  const spec = runAs.user ?? runAs.scriptUser ?? DEFAULT_SCRIPT_USER;
  if (cache.has(spec) && lookup === systemAccounts) return cache.get(spec)!;
  const got = resolveUser(spec, lookup);
  let id: ScriptIdentity | null;
  if ('error' in got) {
    // Only the implicit default may be missing (keepalived then runs the script as itself).
    if (spec !== DEFAULT_SCRIPT_USER) throw new Error(got.error);
    id = null;
  } else id = got;
  if (lookup === systemAccounts) cache.set(spec, id);
  return id;
}

export interface PreparedScript {
  file: string;
  args: string[];
  uid?: number;
  gid?: number;
}

const ownUid = (): number => process.getuid?.() ?? 0;
const ownGid = (): number => process.getgid?.() ?? 0;

/**
 * argv ready to spawn as the identity, or keepalived's reason to refuse it. Node's spawn sets
 * uid/gid and clears supplementary groups (libuv); when the user's groups are wanted,
 * setpriv(1) sets all three before it execs the script.
 */
export function prepareScript(argv: readonly string[], runAs: RunAs, lookup?: AccountLookup): PreparedScript | { refused: string } {
  const [file, ...args] = argv;
  if (file === undefined || file === '') return { refused: 'empty command' };
  let id: ScriptIdentity | null;
  try { id = scriptIdentity(runAs, lookup); } catch (err) { return { refused: (err as Error).message }; }
  const uid = id?.uid ?? ownUid();
  const gid = id?.gid ?? ownGid();
  // keepalived checks the path only for scripts that run as root (user or group 0).
  if (runAs.security && (uid === 0 || gid === 0)) {
    const why = scriptRefusal(securityTarget(argv));
    if (why) return { refused: why };
  }
  if (!id || (id.uid === ownUid() && id.gid === ownGid() && id.groups.length === 0)) return { file, args };
  if (id.groups.length > 0) {
    return { file: 'setpriv', args: [`--reuid=${id.uid}`, `--regid=${id.gid}`, `--groups=${id.groups.join(',')}`, '--', file, ...args] };
  }
  return { file, args, uid: id.uid, gid: id.gid };
}

/** The program whose path must be safe: for `/bin/sh -c LINE`, the line's first word. */
function securityTarget(argv: readonly string[]): string {
  if (argv[0] === '/bin/sh' && argv[1] === '-c' && argv[2] !== undefined) {
    return argv[2].trim().split(/\s+/)[0].replace(/^["']|["']$/g, '');
  }
  return argv[0];
}
