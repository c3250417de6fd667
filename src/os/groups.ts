/** Group names to gids from /etc/group (ulvs runs no NSS lookups: the control socket's group is local). */
import { readFileSync } from 'node:fs';

/** The gid of a group named in /etc/group, or undefined. */
export function groupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try { text = readFileSync(groupFile, 'utf8'); } catch { return undefined; }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
