// RFM: recency, frequency and monetary scores 1–5 within the shop, and the named segment
// of the usual RFM map. The map and the scores are explained for marketers in docs/lifecycle.md.
import type { CustomerSummaries } from './summary.ts';

export const SEGMENTS = ['Champions', 'Loyal', 'Potential loyalist', 'New', 'Promising', 'Need attention', 'About to sleep', 'At risk', "Can't lose", 'Hibernating', 'Lost'] as const;
export type Segment = (typeof SEGMENTS)[number];

interface SegmentRule {
  segment: Segment;
  /** Inclusive ranges of the recency score and of the FM score (see fmScore). */
  recency: [number, number];
  fm: [number, number];
}

/**
 * The RFM map on the R × FM grid (rows R 5..1, columns FM 1..5):
 *
 *          FM 1            FM 2            FM 3            FM 4         FM 5
 *   R 5    New             Pot. loyalist   Pot. loyalist   Champions    Champions
 *   R 4    Promising       Pot. loyalist   Pot. loyalist   Loyal        Loyal
 *   R 3    About to sleep  About to sleep  Need attention  Loyal        Loyal
 *   R 2    Hibernating     Hibernating     At risk         At risk      Can't lose
 *   R 1    Lost            Lost            At risk         At risk      Can't lose
 *
 * The rules tile the grid: each of the 25 cells matches exactly one (tested).
 */
export const RFM_MAP: readonly SegmentRule[] = [
  { segment: 'Champions', recency: [5, 5], fm: [4, 5] },
  { segment: 'Loyal', recency: [3, 4], fm: [4, 5] },
  { segment: 'Potential loyalist', recency: [4, 5], fm: [2, 3] },
  { segment: 'New', recency: [5, 5], fm: [1, 1] },
  { segment: 'Promising', recency: [4, 4], fm: [1, 1] },
  { segment: 'Need attention', recency: [3, 3], fm: [3, 3] },
  { segment: 'About to sleep', recency: [3, 3], fm: [1, 2] },
  { segment: 'At risk', recency: [1, 2], fm: [3, 4] },
  { segment: "Can't lose", recency: [1, 2], fm: [5, 5] },
  { segment: 'Hibernating', recency: [2, 2], fm: [1, 2] },
  { segment: 'Lost', recency: [1, 1], fm: [1, 2] },
];

/**
 * Quintile score 1–5 of each value within all of them: 1 + ⌊5 · (share of customers with a
 * strictly worse value)⌋. Equal values always get the same score; a large tie takes the score
 * where it starts, so scores can be skipped (60% one-time buyers all get F = 1 and the next
 * frequency F = 4). The worst value always scores 1.
 */
export function quintileScores(values: ArrayLike<number>, higherIsBetter: boolean): Uint8Array {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const scores = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const worse = higherIsBetter ? lowerBound(sorted, v) : n - upperBound(sorted, v);
    scores[i] = 1 + Math.floor((5 * worse) / n);
  }
  return scores;
}

/** Frequency and monetary together: the mean of F and M, rounded down. */
function fmScore(frequency: number, monetary: number): number {
  return Math.floor((frequency + monetary) / 2);
}

export function segmentOf(recency: number, frequency: number, monetary: number): Segment {
  const fm = fmScore(frequency, monetary);
  const rule = RFM_MAP.find((r) => recency >= r.recency[0] && recency <= r.recency[1] && fm >= r.fm[0] && fm <= r.fm[1]);
  if (!rule) throw new RangeError(`no RFM segment for R=${recency} F=${frequency} M=${monetary}`);
  return rule.segment;
}

export interface RfmScores {
  /** Days since the last purchase, as of the reference day. */
  recencyDays: Float64Array;
  recency: Uint8Array;
  frequency: Uint8Array;
  monetary: Uint8Array;
  segment: Segment[];
}

/** R from days since the last purchase (fewer is better), F from orders, M from revenue. */
export function rfmScores(s: CustomerSummaries, asOfDay: number): RfmScores {
  const recencyDays = Float64Array.from(s.lastDay, (d) => asOfDay - d);
  const recency = quintileScores(recencyDays, false);
  const frequency = quintileScores(s.orders, true);
  const monetary = quintileScores(s.revenue, true);
  const segment = Array.from(recency, (r, i) => segmentOf(r, frequency[i], monetary[i]));
  return { recencyDays, recency, frequency, monetary, segment };
}

/** Customers per segment, every segment listed (in map order), zeros included. */
export function segmentCounts(segments: readonly Segment[]): Record<Segment, number> {
  const counts = Object.fromEntries(SEGMENTS.map((s) => [s, 0])) as Record<Segment, number>;
  for (const s of segments) counts[s]++;
  return counts;
}

/** First index with sorted[i] ≥ v. */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with sorted[i] > v. */
function upperBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
