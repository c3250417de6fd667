/** Fuzz target: the keepalived.conf reader and translator (ulvs migrate). */
import { migrateText } from './migrate-common.js';

export function fuzz(data: Buffer): void {
  migrateText(data.toString('utf8'), '/nonexistent/ulvs-fuzz/keepalived.conf', 'keepalived');
}
