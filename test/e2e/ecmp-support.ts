// What the ECMP e2e files share: the --ecmp lab with a ulvs director per director namespace
// (configs/lab-ecmp.yaml, unchanged on each), and the router's view of the VIP route.
import { join } from 'node:path';
import { kernelNextHops } from '../../src/lab/bird.js';
import { createEcmpLab, destroyEcmpLab, type EcmpLab } from '../../src/lab/ecmp.js';
import { waitForOrFail } from '../../src/lab/wait.js';
import { REPO, startDirector, type RunningDirector } from './director.js';

export const ECMP_CONFIG = join(REPO, 'configs/lab-ecmp.yaml');
export const VIP = '198.18.0.100';

export interface EcmpRig {
  lab: EcmpLab;
  directors: Map<string, RunningDirector>;
  start(short: 'dir1' | 'dir2' | 'dir3'): Promise<RunningDirector>;
  hops(): Promise<string[]>;
  /** Waits until the router's route to the VIP has exactly these directors as next hops; the ms it took. */
  waitHops(what: string, shorts: readonly string[], timeoutMs?: number): Promise<number>;
  ip(short: string): string;
  teardown(): Promise<void>;
}

/** The lab with `prefix`; every director runs `config` (default configs/lab-ecmp.yaml); `bfd` on every session. */
export async function ecmpRig(prefix: string, options: { config?: string; bfd?: boolean } = {}): Promise<EcmpRig> {
  const config = options.config ?? ECMP_CONFIG;
  const lab = await createEcmpLab({ prefix, bfd: options.bfd ?? false });
  const directors = new Map<string, RunningDirector>();
  const ip = (short: string): string => lab.directors.find((d) => d.short === short)!.ip;
  const hops = () => kernelNextHops(lab.router.namespace, VIP);
  return {
    lab, directors, ip, hops,
    async start(short) {
      const d = await startDirector(lab.directors.find((x) => x.short === short)!.namespace, config, 90_000);
      directors.set(short, d);
      return d;
    },
    waitHops(what, shorts, timeoutMs = 30_000) {
      const want = JSON.stringify(shorts.map(ip).sort());
      return waitForOrFail(what, async () => JSON.stringify(await hops()) === want, timeoutMs, 10);
    },
    async teardown() {
      for (const d of directors.values()) await d.stop().catch(() => undefined);
      await destroyEcmpLab({ prefix });
    },
  };
}
