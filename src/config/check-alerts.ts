/**
 * Email alerts at load time: an smtp_server ulvs cannot read is an error, and recipients
 * without a server (or a server without recipients) are said once, since keepalived then
 * sends nothing without a word.
 */
import { parseSmtpServer } from '../alerts/plan.js';
import { list, obj, str, type Findings, type Obj } from './cross-check-kit.js';

export function checkAlerts(cfg: Obj, r: Findings): void {
  const g = obj(cfg.global_defs);
  if (!g) return;
  const server = str(g.smtp_server);
  if (server !== undefined) {
    const parsed = parseSmtpServer(server);
    if ('error' in parsed) r.error(['global_defs', 'smtp_server'], `smtp_server ${parsed.error}`, 'write "IP [PORT]" as keepalived, e.g. 198.18.0.3 25');
  }
  const emails = list(g.notification_email);
  if (emails.length > 0 && server === undefined) {
    r.warn(['global_defs', 'notification_email'], 'notification_email is set but smtp_server is not: no alert mail is sent', 'add smtp_server (keepalived sends nothing either)', true);
  }
}
