/**
 * ulvs(8), generated from the command tree's own help (commander), so the man page cannot
 * drift from `ulvs --help`. packaging/build-deb.mjs writes it into the .deb.
 */
import type { Command, Option } from 'commander';

/** roff-escapes a line of help text. */
export function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

function optionLines(options: readonly Option[]): string[] {
  const lines: string[] = [];
  for (const o of options) {
    if (o.hidden) continue;
    lines.push('.TP', `.B ${roff(o.flags)}`, roff(o.description + (o.defaultValue !== undefined && o.defaultValue !== false && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0) ? ` (default: ${String(o.defaultValue)})` : '')));
  }
  return lines;
}

function commandLines(command: Command, path: string[]): string[] {
  const name = [...path, command.name()].join(' ');
  const lines = [`.SS "${roff(`${name} ${command.usage()}`.trim())}"`, roff(command.description())];
  lines.push(...optionLines(command.options));
  for (const sub of command.commands) lines.push(...commandLines(sub, [...path, command.name()]));
  return lines;
}

export function renderManPage(program: Command, version: string, date: string): string {
  const lines = [
    `.TH ULVS 8 "${date}" "ulvs ${version}" "System Administration"`,
    '.SH NAME',
    `ulvs \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B ulvs',
    '.I command',
    '[\\fIoptions\\fR]',
    '.br',
    '.B /usr/lib/ulvs/ipvsadm',
    '[\\fIipvsadm arguments\\fR]',
    '.SH DESCRIPTION',
    roff('ulvs does in one process what LVS/IPVS, keepalived, ldirectord, ipvsadm and genhash do on a Linux director: it takes the virtual services\' packets with AF_XDP (TAP as fallback), schedules and forwards them (DR, NAT, TUN), speaks VRRP and runs health checks. The configuration is YAML in keepalived\'s vocabulary.'),
    '.SH COMMANDS',
  ];
  for (const command of program.commands) lines.push(...commandLines(command, ['ulvs']));
  lines.push(
    '.SH FILES',
    '.TP', '.I /etc/ulvs/ulvs.yaml', 'the director configuration (ulvs.service reads it)',
    '.TP', '.I /usr/share/ulvs/ulvs.schema.json', 'JSON Schema of the configuration (for editors)',
    '.TP', '.I /run/ulvs/', 'what a running director holds (adopted after a crash) and the realserver records',
    '.TP', '.I /var/cache/ulvs/', 'the addon and XDP program, extracted from the executable at start',
    '.SH SIGNALS',
    '.TP', '.B SIGHUP', 'reload the configuration (a rejected file keeps the running one)',
    '.TP', '.B SIGTERM, SIGINT', 'stop: give back addresses and XDP programs, then exit',
    '.SH EXIT STATUS',
    roff('0 success; 1 failure; 2 bad usage or configuration errors (FILE:LINE:COL: message); realserver status exits 3 when something is missing.'),
    '.SH SEE ALSO',
    '.BR keepalived (8),',
    '.BR ipvsadm (8),',
    '.BR systemd.exec (5)',
  );
  return lines.join('\n') + '\n';
}
