// Waiting for something to happen, for tests and benches: poll a condition instead of sleeping
// for a fixed time, so a fast machine does not wait and a loaded one does not fail.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Pending<T> = T | undefined | null | false;

/**
 * Polls `cond` every `everyMs` until it returns a value (anything but undefined, null or false)
 * and resolves with it; resolves undefined once `timeoutMs` has passed without one.
 */
export async function waitFor<T>(cond: () => Pending<T> | Promise<Pending<T>>, timeoutMs: number, everyMs = 25): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await cond();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(everyMs);
  }
}

/** waitFor that rejects on timeout, naming `what`; resolves with the ms it took. */
export async function waitForOrFail(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const start = Date.now();
  const held = await waitFor(cond, timeoutMs, everyMs);
  if (held === undefined) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  return Date.now() - start;
}
