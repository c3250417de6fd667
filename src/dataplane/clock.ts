// The dataplane's clock: whole seconds since this thread started, from the monotonic clock.
// Connection timeouts and persistence templates expire by it, so setting the wall clock an hour
// forward or back (NTP step, an operator's `date -s`) neither expires them early nor keeps them
// an hour too long (test/dataplane/monotonic-clock.test.ts). Small numbers also keep V8 from
// boxing it (flow-table.ts).
import { performance } from 'node:perf_hooks';

export function nowSeconds(): number {
  return Math.floor(performance.now() / 1000);
}
