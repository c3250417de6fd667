/**
 * keepalived's `fwmark N` services get their packets from an iptables MARK rule; ulvs has no
 * marks (it takes packets before netfilter), so a fwmark service becomes a group of the VIPs
 * and ports that rule matched. This reads such rules (iptables commands or iptables-save lines)
 * and answers: which "VIP [PORT]" group members does mark N stand for?
 */

export interface MarkRule {
  mark: number;
  /** group members as virtual_server_groups writes them: "IP PORT", or "IP" for every port */
  members: string[];
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  /** where the rule was read, for the YAML comment */
  where: string;
}

/** Ranges wider than this are not spelled out port by port. */
const MAX_PORTS_PER_RULE = 64;

function option(words: string[], names: string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) if (names.includes(words[i])) return words[i + 1];
  return undefined;
}

function ports(spec: string): number[] | null {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?::(\d+))?$/.exec(part);
    if (!m) return null;
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    if (to < from || from < 1 || to > 65535 || to - from + out.length >= MAX_PORTS_PER_RULE) return null;
    for (let p = from; p <= to; p++) out.push(p);
  }
  return out;
}

/** One rule from a line, or null when the line is not a usable MARK rule. */
export function parseMarkRule(line: string, where: string): MarkRule | null {
  if (!/-j\s+MARK\b/.test(line)) return null;
  const words = line.trim().split(/\s+/);
  const markText = option(words, ['--set-mark', '--set-xmark']);
  const dest = option(words, ['-d', '--destination']);
  if (markText === undefined || dest === undefined) return null;
  const mark = Number(markText.split('/')[0]);
  if (!Number.isInteger(mark) || mark <= 0) return null;
  const ip = dest.replace(/\/32$/, '');
  if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(ip)) return null;
  const proto = option(words, ['-p', '--protocol'])?.toUpperCase();
  const protocol = proto === 'TCP' || proto === 'UDP' || proto === 'SCTP' ? proto : undefined;
  const portSpec = option(words, ['--dport', '--destination-port', '--dports', '--destination-ports']);
  if (portSpec === undefined) return { mark, members: [ip], ...(protocol ? { protocol } : {}), where };
  const list = ports(portSpec);
  if (list === null) return null;
  return { mark, members: list.map((p) => `${ip} ${p}`), ...(protocol ? { protocol } : {}), where };
}

/** Every MARK rule in `text`, merged per mark (several rules may set the same mark). */
export function collectMarkRules(lines: { text: string; where: string }[]): Map<number, MarkRule> {
  const byMark = new Map<number, MarkRule>();
  for (const { text, where } of lines) {
    const rule = parseMarkRule(text, where);
    if (!rule) continue;
    const known = byMark.get(rule.mark);
    if (!known) byMark.set(rule.mark, rule);
    else for (const m of rule.members) if (!known.members.includes(m)) known.members.push(m);
  }
  return byMark;
}
