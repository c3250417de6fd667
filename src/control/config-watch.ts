/** dataplane.autoreload: reload when the config or an included file changes (ldirectord's autoreload). */
import { watch, type FSWatcher } from 'node:fs';
import type pino from 'pino';

/** Editors write files in several steps: wait for the writes to settle before reloading. */
const SETTLE_MS = 300;

/** Watches every file; `onChange` runs once the writes to any of them have settled. */
export function watchConfigFiles(files: readonly string[], onChange: () => void, log: pino.Logger): FSWatcher[] {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | null = null;
  for (const file of files) {
    try {
      watchers.push(watch(file, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(onChange, SETTLE_MS);
      }));
    } catch (err) {
      log.warn({ file, err: (err as Error).message }, 'cannot watch config file');
    }
  }
  return watchers;
}
