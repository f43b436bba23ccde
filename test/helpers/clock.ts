// For tests whose requests must fall in one clock window (a rate limit's UTC hour, a UTC day of
// click links and buy-again's due-ness): started too close to the window's end, they could
// straddle it and fail once in a long while.
import { setTimeout as sleep } from 'node:timers/promises';

export const HOUR_MS = 3_600_000;

/** Waits, if fewer than `marginMs` are left before the next multiple of `periodMs` (UTC), until just past it. */
export async function clearOfBoundary(periodMs: number, marginMs = 10_000): Promise<void> {
  const left = periodMs - (Date.now() % periodMs);
  if (left < marginMs) await sleep(left + 50);
}
