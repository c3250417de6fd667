// When the stall cover (native/src/advert_cover.h) resends a MASTER's advert: the speaker's
// own timer sends every advert interval; the cover steps in only once the speaker is half an
// interval late, so on time it never sends, and a Backup (which waits 3 intervals + skew) sees
// a gap of at most 1.5 intervals while the main thread is stalled. It gives up after 10 s
// (or 3 intervals, if longer) without a send from the speaker: a main thread that is hung,
// not busy, must not keep the VIP here.
export interface CoverTiming { intervalMs: number; lateMs: number; giveUpMs: number }

export const COVER_GIVE_UP_MS = 10_000;

export function coverTiming(advertIntervalCs: number): CoverTiming {
  const intervalMs = advertIntervalCs * 10;
  return { intervalMs, lateMs: Math.round(intervalMs * 1.5), giveUpMs: Math.max(COVER_GIVE_UP_MS, 3 * intervalMs) };
}
