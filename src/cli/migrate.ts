/**
 * `ulvs migrate FILE`: keepalived.conf or ldirectord.cf -> ulvs YAML on stdout; on stderr,
 * `FILE:LINE: KEYWORD not supported by ulvs (why)` for everything not translated. Exit 0 when
 * the YAML validates and holds every virtual server, real server, VRRP instance and checker of
 * the input; 3 when it validates but some were dropped (a summary line says what; 0 with
 * --allow-partial); 1 when it does not validate (its check-config errors follow); 2 when the
 * input cannot be parsed (FILE:LINE:COL errors). Never a stack trace.
 */
import { Command, Option } from 'commander';
import { formatDiagnostic } from '../config/index.js';
import { MigrateError, formatLosses, formatMigrateDiagnostic, formatReport, migrateFile, type MigrateOptions } from '../migrate/index.js';

interface Writer {
  write(text: string): unknown;
}

export const EXIT_MIGRATED = 0;
export const EXIT_INVALID_OUTPUT = 1;
export const EXIT_UNPARSEABLE = 2;
export const EXIT_PARTIAL = 3;

export interface RunMigrateOptions extends MigrateOptions {
  /** exit 0 even when services, instances or checkers were dropped */
  allowPartial?: boolean;
}

export function runMigrate(file: string, opts: RunMigrateOptions, out: Writer = process.stdout, err: Writer = process.stderr): number {
  try {
    const result = migrateFile(file, opts);
    out.write(result.yaml);
    for (const r of result.reports) err.write(formatReport(r) + '\n');
    for (const w of result.warnings) err.write(`${formatDiagnostic(w)} (warning in the migrated YAML)\n`);
    if (result.errors.length > 0) {
      for (const e of result.errors) err.write(`${formatDiagnostic(e)}\n`);
      err.write(`the migrated YAML does not pass check-config (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}): fix the lines above\n`);
      return EXIT_INVALID_OUTPUT;
    }
    if (result.lost.length > 0) {
      err.write(`${formatLosses(result.lost)}: see the reports above${opts.allowPartial ? ' (--allow-partial: the rest is migrated)' : '; --allow-partial to take the rest anyway'}\n`);
      return opts.allowPartial ? EXIT_MIGRATED : EXIT_PARTIAL;
    }
    return EXIT_MIGRATED;
  } catch (e) {
    if (e instanceof MigrateError) {
      for (const d of e.diagnostics) err.write(formatMigrateDiagnostic(d) + '\n');
      err.write(`${e.diagnostics.length} error${e.diagnostics.length === 1 ? '' : 's'}: ${file} cannot be migrated\n`);
    } else {
      err.write(`ulvs migrate: ${(e as Error)?.message ?? String(e)}\n`);
    }
    return EXIT_UNPARSEABLE;
  }
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('translate keepalived.conf or ldirectord.cf into ulvs YAML (stdout); reports on stderr')
    .argument('<file>', 'keepalived.conf or ldirectord.cf')
    .addOption(new Option('--from <format>', 'input format (default: detected)').choices(['keepalived', 'ldirectord']))
    .option('--interface <if>', 'dataplane.interface (default: the first vrrp_instance\'s interface)')
    .option('--inside <if>', 'dataplane.inside: the interface toward NAT real servers')
    .option('--router-id <id>', 'keepalived config id (-i): which @id lines are kept (default: host name)')
    .option('--iptables <file>', 'iptables-save output whose MARK rules give fwmark services their VIP:ports')
    .option('--allow-partial', 'exit 0 even when virtual servers, real servers, instances or checkers were dropped (exit 3 otherwise)')
    .action((file: string, o: { from?: 'keepalived' | 'ldirectord'; interface?: string; inside?: string; routerId?: string; iptables?: string; allowPartial?: boolean }) => {
      process.exitCode = runMigrate(file, {
        ...(o.allowPartial ? { allowPartial: true } : {}),
        ...(o.from ? { from: o.from } : {}),
        ...(o.interface ? { interface: o.interface } : {}),
        ...(o.inside ? { inside: o.inside } : {}),
        ...(o.routerId ? { routerId: o.routerId } : {}),
        ...(o.iptables ? { iptables: o.iptables } : {}),
      });
    });
}
