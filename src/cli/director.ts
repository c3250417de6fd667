/** `ulvs run`: a director in the foreground (the control-socket commands: director-client.ts). */
import { Command } from 'commander';
import { ConfigError } from '../config/index.js';
import { Director, DirectorError } from '../control/director.js';
import { ServiceNotifier } from '../appliance/sd-notify.js';
import { loadNative } from '../io/native.js';
import { createLogger } from '../log.js';
import { reportConfigErrorAndExit } from './check-config.js';

export function runCommand(): Command {
  return new Command('run')
    .description('run a director in the foreground')
    .requiredOption('-c, --config <file>', 'ulvs YAML configuration')
    .action(async (opts: { config: string }) => {
      const log = createLogger();
      const director = new Director({ configPath: opts.config, log });
      // systemd Type=notify (packaging/ulvs.service); a no-op outside a unit.
      const systemd = new ServiceNotifier((socket, message) => loadNative().sdNotify(socket, message), (message) => log.warn(message));
      let signalled = false;
      const onSignal = (sig: NodeJS.Signals): void => {
        if (signalled) return;
        signalled = true;
        log.info({ signal: sig }, 'stopping');
        systemd.stopping();
        void director.stop().then(() => process.exit(0));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // SIGHUP reloads, as it does for keepalived; a rejected config is logged and changes nothing.
      process.on('SIGHUP', () => {
        systemd.reloading();
        void director.reload().finally(() => systemd.ready('forwarding (reloaded)'));
      });
      try {
        await director.start();
        log.info({ config: opts.config }, 'director running');
        systemd.ready('forwarding');
        if (systemd.watchdogIntervalMs !== undefined) log.info({ intervalMs: systemd.watchdogIntervalMs }, 'pinging the systemd watchdog');
      } catch (err) {
        if (err instanceof ConfigError) reportConfigErrorAndExit(err);
        const known = err instanceof DirectorError || (err as NodeJS.ErrnoException).code !== undefined;
        process.stderr.write(`ulvs: ${(err as Error).message}\n`);
        if (!known && process.env.ULVS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
        process.exit(1);
      }
    });
}
