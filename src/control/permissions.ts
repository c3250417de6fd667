/**
 * Who may use the control socket, decided on the peer's kernel credentials (SO_PEERCRED) and
 * its effective capabilities, never on what the request says. IPVS needs CAP_NET_ADMIN for
 * every change; ulvs asks the same of reload, timeout set, zero and every command that is not
 * in the explicit read list. Reading needs root, CAP_NET_ADMIN or the configured read group.
 * decide() is pure; peerOf() is the thin shell that reads /proc.
 */
import { readFileSync } from 'node:fs';
import type pino from 'pino';
import { loadNative } from '../io/native.js';
import { socketFd, type ControlGuard, type ControlRequest } from './socket.js';

/** Commands that only read (`runtime`: the overrides `ulvs list` prints), and `timeout` without `set`; everything else is a change. */
export const READ_COMMANDS: ReadonlySet<string> = new Set(['list', 'conns', 'stats', 'status', 'timeout', 'runtime', 'bgp']);
export const CAP_NET_ADMIN = 12;

export type Access = 'read' | 'change';

export function accessNeeded(req: ControlRequest): Access {
  if (!READ_COMMANDS.has(req.command)) return 'change';
  if (req.command === 'timeout' && req.args?.set !== undefined) return 'change';
  if (req.command === 'bgp' && req.args?.action !== undefined && req.args.action !== 'status') return 'change';
  return 'read';
}

export interface Peer {
  pid: number; uid: number; gid: number;
  /** Supplementary groups of the peer process. */
  groups: readonly number[];
  /** CapEff of the peer process. */
  capEff: bigint;
}

/** null = allowed; else the one-line refusal the client prints. */
export function decide(peer: Peer, req: ControlRequest, readGid: number | undefined): string | null {
  const admin = peer.uid === 0 || ((peer.capEff >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
  if (admin) return null;
  const access = accessNeeded(req);
  if (access === 'read' && readGid !== undefined && (peer.gid === readGid || peer.groups.includes(readGid))) return null;
  const what = req.command === 'timeout' && access === 'change' ? 'timeout set' : req.command;
  return access === 'change'
    ? `permission denied: ${what} changes the director and needs root or CAP_NET_ADMIN (uid ${peer.uid})`
    : `permission denied: ${what} needs root, CAP_NET_ADMIN${readGid !== undefined ? ' or the control read_group' : ''} (uid ${peer.uid})`;
}

/**
 * Groups and CapEff from /proc/PID/status. The pid race: SO_PEERCRED names the pid that
 * connected; if it exited and the pid was reused before this read, /proc shows another
 * process. The Uid line must then still show the peer's effective uid, or the peer is refused
 * (a reused pid of another user cannot lend its capabilities); the remaining window is a
 * process of the same uid reusing the pid, which gains nothing that uid could not do.
 */
export function peerOf(cred: { pid: number; uid: number; gid: number }, proc = '/proc'): Peer | null {
  let status: string;
  try { status = readFileSync(`${proc}/${cred.pid}/status`, 'utf8'); } catch { return null; }
  const field = (name: string): string | undefined => status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1];
  const uids = (field('Uid') ?? '').split(/\s+/).map(Number);
  if (uids[1] !== cred.uid) return null;
  const capEff = field('CapEff');
  if (!capEff || !/^[0-9a-f]+$/i.test(capEff)) return null;
  const groups = (field('Groups') ?? '').split(/\s+/).filter(Boolean).map(Number);
  return { ...cred, groups, capEff: BigInt(`0x${capEff}`) };
}

/** The director's guard: SO_PEERCRED through the addon, /proc for the rest; refusals logged. */
export function controlGuard(log: pino.Logger, readGid: () => number | undefined): ControlGuard {
  return (conn, req) => {
    const fd = socketFd(conn);
    if (fd < 0) return 'permission denied: the connection\'s file descriptor is not available to check its peer';
    const cred = loadNative().peerCredentials(fd);
    const peer = peerOf(cred);
    const refusal = peer ? decide(peer, req, readGid())
      : `permission denied: the credentials of pid ${cred.pid} cannot be checked (uid ${cred.uid})`;
    if (refusal !== null) log.warn({ uid: cred.uid, gid: cred.gid, pid: cred.pid, command: req.command }, 'control request refused');
    return refusal;
  };
}
