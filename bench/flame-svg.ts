// An SVG flame graph from a V8 .cpuprofile (node --cpu-prof): no flame graph tool that writes
// SVG is packaged for this machine (0x writes HTML; Brendan Gregg's flamegraph.pl and inferno
// are not in Debian's or npm's lists here), and a .cpuprofile is a tree already. Width is
// samples (a frame's own and its callees'); frames under 0.3 % of the samples are left out.
//   node dist/bench/flame-svg.js PROFILE.cpuprofile OUT.svg [title]
import { readFileSync, writeFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[] }

const WIDTH = 1200;
const ROW = 16;
const MIN_SHARE = 0.003;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function flameSvg(profile: Profile, title: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<number, number>();
  const sum = (id: number): number => {
    const n = byId.get(id)!;
    const t = (n.hitCount ?? 0) + (n.children ?? []).reduce((a, c) => a + sum(c), 0);
    total.set(id, t);
    return t;
  };
  const root = profile.nodes[0];
  const all = sum(root.id);
  const rects: string[] = [];
  let depthMax = 0;
  const draw = (id: number, x: number, depth: number): void => {
    const n = byId.get(id)!;
    const t = total.get(id)!;
    if (t / all < MIN_SHARE) return;
    depthMax = Math.max(depthMax, depth);
    const w = (t / all) * WIDTH;
    const f = n.callFrame;
    const name = `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : ''}`;
    const label = `${name} (${((100 * t) / all).toFixed(1)} %)`;
    const hue = f.url.includes('/src/dataplane/') ? 20 : f.url.includes('/src/conntrack/') ? 45 : f.url.includes('/src/packet/') ? 90 : f.url ? 200 : 0;
    rects.push(`<g><title>${escapeXml(label)}</title><rect x="${x.toFixed(2)}" y="DEPTH${depth}" width="${w.toFixed(2)}" height="${ROW - 1}" fill="hsl(${hue},70%,${60 + (depth % 3) * 5}%)"/>` +
      (w > 40 ? `<text x="${(x + 3).toFixed(2)}" y="DEPTH${depth}T" font-size="11" font-family="monospace">${escapeXml(name.slice(0, Math.floor(w / 7)))}</text>` : '') + '</g>');
    let cx = x;
    for (const c of n.children ?? []) { draw(c, cx, depth + 1); cx += (total.get(c)! / all) * WIDTH; }
  };
  draw(root.id, 0, 0);
  const height = (depthMax + 3) * ROW;
  // Root at the bottom, callees above it, as flamegraph.pl draws them.
  const body = rects.join('\n').replace(/DEPTH(\d+)(T?)"/g, (_, d: string, text: string) =>
    `${height - (Number(d) + 1) * ROW + (text ? ROW - 4 : 0)}"`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">\n` +
    `<text x="4" y="13" font-size="12" font-family="sans-serif">${escapeXml(title)} (${all} samples; hover a frame for its share)</text>\n${body}\n</svg>\n`;
}

if (process.argv[1]?.endsWith('flame-svg.js')) {
  const [input, output, title] = process.argv.slice(2);
  if (!input || !output) { console.error('usage: flame-svg PROFILE.cpuprofile OUT.svg [title]'); process.exit(2); }
  writeFileSync(output, flameSvg(JSON.parse(readFileSync(input, 'utf8')) as Profile, title ?? input));
  console.log(`wrote ${output}`);
}
