// A token bucket for ICMP errors, as the kernel's icmp_global_allow (net.ipv4.icmp_msgs_per_sec
// 1000, icmp_msgs_burst 50): a storm of packets that each earn an ICMP error (or a storm of
// errors to forward) costs at most `perSecond` messages a second, `burst` at once. Pure: the
// caller passes the time in milliseconds (one performance.now() per ICMP decision, never per
// ordinary packet), so tests drive it with any clock.

export const ICMP_MSGS_PER_SEC = 1000;
export const ICMP_MSGS_BURST = 50;

export class TokenBucket {
  private tokens: number;
  private last = -Infinity;

  constructor(readonly perSecond = ICMP_MSGS_PER_SEC, readonly burst = ICMP_MSGS_BURST) {
    this.tokens = burst;
  }

  /** True (and one token spent) when a message may go at time `nowMs`. */
  allow(nowMs: number): boolean {
    if (nowMs > this.last) {
      const earned = this.last === -Infinity ? this.burst : ((nowMs - this.last) * this.perSecond) / 1000;
      this.tokens = Math.min(this.burst, this.tokens + earned);
      this.last = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
