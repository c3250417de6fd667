/**
 * IPVS's per-service and per-real-server counters and rates as the control socket reports them
 * (`ipvsadm -Ln --stats` / `--rate`, the metrics endpoint). The dataplane keeps the counters; the
 * control plane sums them across workers and runs IPVS's rate estimator (ip_vs_est.c).
 * Out counters are zero for DR and TUN, as in IPVS (the replies do not cross the director).
 */
export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/** Per second, as ip_vs_est.c estimates them (2-second samples, exponentially weighted). */
export interface IpvsRates {
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export const ZERO_STATS: Readonly<IpvsStats> = Object.freeze({ conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 });
export const ZERO_RATES: Readonly<IpvsRates> = Object.freeze({ cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
