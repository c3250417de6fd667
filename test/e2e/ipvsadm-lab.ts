// The lab both ipvsadm e2e files start from: a DR director (rr over rs1 and rs2) in its own lab,
// `ulvs` and `ulvs ipvsadm` run inside the director's namespace, and a reader of -Ln's counts.
import type { Test } from 'tap';
import { createLab, destroyLab, labExec, type ExecResult, type LabTopology } from '../../src/lab/index.js';
import { labDrConfig, startDirector, ULVS, writeConfig, type RunningDirector } from './director.js';

export const VIP = '198.18.0.100:80';

export interface IpvsadmLab {
  lab: LabTopology;
  dir1: string;
  client: string;
  url: string;
  director: RunningDirector;
  /** ulvs in the director's namespace, with room for a node start-up on the shared machine. */
  ulvs(args: string[], input?: string): Promise<ExecResult>;
  ipvsadm(args: string[], input?: string): Promise<ExecResult>;
  /** ActiveConn + InActConn of one real server in an -Ln listing (-1 when it is not listed). */
  inact(listing: string, ip: string): number;
}

/** Builds the lab and starts the director; the test's teardown stops both. */
export async function startIpvsadmLab(t: Test, prefix: string): Promise<IpvsadmLab> {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const file = writeConfig(labDrConfig({ lbAlgo: 'rr', weights: [[10, 1], [20, 1]] }));
  director = await startDirector(dir1, file, 120_000); // a loaded machine starts it slowly
  const ulvs = (args: string[], input?: string) => labExec(dir1, [process.execPath, ULVS, ...args], { timeoutMs: 120_000, input });
  return {
    lab, dir1, client: lab.nodes.client.name, url: `http://${lab.vip}/`, director, ulvs,
    ipvsadm: (args, input) => ulvs(['ipvsadm', ...args], input),
    inact: (listing, ip) => {
      const m = new RegExp(`-> ${ip.replace(/\./g, '\\.')}:80 +Route +\\d+ +(\\d+) +(\\d+)`).exec(listing);
      return m ? Number(m[1]) + Number(m[2]) : -1;
    },
  };
}
