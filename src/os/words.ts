// keepalived's quoted-string splitting, shared by MISC_CHECK and checker notify scripts: both
// run a configured line as argv, with no shell, as keepalived does.

/** Whitespace separates words; "..." and '...' group (the quotes themselves are dropped). */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let quote: string | null = null;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null; else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c; have = true;
    } else if (/\s/.test(c)) {
      if (have) { out.push(cur); cur = ''; have = false; }
    } else {
      cur += c; have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}
