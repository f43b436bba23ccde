// SAR's exponential time decay: an event's weight halves every `halfLife`.

/**
 * 2^(-(now - t) / halfLife). A half-life of 0 (or less) disables decay (factor 1).
 * Ages below 0 (events after `now`, e.g. clock skew) count as 0 so no event gains weight.
 */
export function decayFactor(t: number, now: number, halfLifeSeconds: number): number {
  if (!(halfLifeSeconds > 0)) return 1;
  return 2 ** (-Math.max(0, now - t) / halfLifeSeconds);
}
