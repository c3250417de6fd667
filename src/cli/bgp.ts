// `ulvs bgp status|disable|enable`: the announcements of bgp_announce (src/bgp/). disable and
// enable create or remove the disable file through the running director, which re-decides at
// once; the file outlives the director (a restarted one stays disabled).
import { Command } from 'commander';
import type { BgpStatus } from '../bgp/announcer.js';
import { sessionSummary } from '../bgp/bird.js';
import { controlSocketPath, REFUSED, requestControl } from '../control/socket.js';

export function formatBgpStatus(s: BgpStatus): string {
  const lines = [`bgp  ${s.stopping ? 'STOPPING' : s.disabled ? 'DISABLED' : 'ENABLED'}  daemon bird2 ${s.daemon.state}${s.daemon.error ? `: ${s.daemon.error}` : ''}`];
  lines.push(`  sessions ${sessionSummary(s.sessions)}`);
  for (const v of s.vips) {
    lines.push(`  ${v.vip}  ${v.announced ? `announced med ${v.med}` : 'withdrawn'}  (${v.reason}; ${v.usable} usable real servers)`);
  }
  return lines.join('\n') + '\n';
}

export function bgpCommand(): Command {
  const cmd = new Command('bgp').description('BGP announcements (bgp_announce): status, disable (drain this director), enable');
  for (const action of ['status', 'disable', 'enable'] as const) {
    cmd.addCommand(new Command(action)
      .description(action === 'status' ? 'each VIP\'s announcement, the daemon and its sessions'
        : action === 'disable' ? 'withdraw (or worsen the MED of) every VIP: traffic drains to other directors; kept across restarts'
          : 'announce healthy VIPs again')
      .option('--json', 'JSON output')
      .option('--socket <path>', 'control socket')
      .action(async (opts: { json?: boolean; socket?: string }) => {
        try {
          const reply = await requestControl(controlSocketPath(undefined, opts.socket), 'bgp', action === 'status' ? {} : { action }, 20_000) as BgpStatus;
          process.stdout.write(opts.json ? JSON.stringify(reply, null, 2) + '\n' : formatBgpStatus(reply));
        } catch (err) {
          process.stderr.write(`ulvs: ${(err as Error).message}\n`);
          process.exit((err as NodeJS.ErrnoException).code === REFUSED ? 4 : 1);
        }
      }));
  }
  return cmd;
}
