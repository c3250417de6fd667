/**
 * `ulvs check-config FILE`: validate only, like `keepalived -t`. Prints every mistake as
 * FILE:LINE:COL: message (hint), warnings too; exit 2 on errors, 0 otherwise; never a stack trace.
 */
import { Command } from 'commander';
import { ConfigError, formatDiagnostic, formatWarning, loadConfig, type UlvsConfig } from '../config/index.js';

export const EXIT_CONFIG_ERROR = 2;

interface Writer {
  write(text: string): unknown;
}

function summary(config: UlvsConfig): string {
  const services = config.virtual_servers.length;
  const reals = config.virtual_servers.reduce((n, vs) => n + vs.real_servers.length, 0);
  const instances = config.vrrp_instances.length;
  return `${services} virtual server${services === 1 ? '' : 's'}, ${reals} real server${reals === 1 ? '' : 's'}, ` +
    `${instances} vrrp instance${instances === 1 ? '' : 's'}`;
}

/** Prints a ConfigError's diagnostics (warnings after errors) to `err`. */
export function printConfigError(error: ConfigError, err: Writer = process.stderr): void {
  for (const d of error.diagnostics) err.write(formatDiagnostic(d) + '\n');
  for (const w of error.warnings) err.write(formatWarning(w) + '\n');
  const n = error.diagnostics.length;
  err.write(`${n} error${n === 1 ? '' : 's'} in configuration\n`);
}

/** The whole command as a function: returns the exit code. */
export function runCheckConfig(file: string, out: Writer = process.stdout, err: Writer = process.stderr): number {
  try {
    const { config, warnings, files } = loadConfig(file);
    for (const w of warnings) err.write(formatWarning(w) + '\n');
    const extra = files.length > 1 ? ` (${files.length} files)` : '';
    out.write(`${file}: OK${extra}: ${summary(config)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      printConfigError(e, err);
    } else {
      err.write(`${file}: ${(e as Error)?.message ?? String(e)}\n`);
    }
    return EXIT_CONFIG_ERROR;
  }
}

/**
 * For `ulvs run` and reload: print what is wrong with the config and exit 2 (a ConfigError),
 * or print one line and exit 1 (anything else). Never prints a stack trace.
 */
export function reportConfigErrorAndExit(error: unknown): never {
  if (error instanceof ConfigError) {
    printConfigError(error);
    process.exit(EXIT_CONFIG_ERROR);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`ulvs: ${message}\n`);
  process.exit(1);
}

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('check a configuration file and exit (like keepalived -t): 0 when valid, 2 on errors')
    .argument('<file>', 'ulvs YAML configuration')
    .action((file: string) => {
      process.exitCode = runCheckConfig(file);
    });
}
