// GrowthBook-compatible bucketing (its SDK spec, hash versions 1 and 2), so a shop that already
// runs GrowthBook gets the very same buckets for the same seed, user id and weights.
// Checked against GrowthBook's published SDK test cases (test/fixtures/experiments/) and their SDK.
import type { HashVersion } from './definition.ts';

/** [start, end) of the unit interval; a user whose bucket falls inside gets that variant. */
export type BucketRange = readonly [number, number];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, over UTF-16 code units (as JavaScript strings hold them: what the SDKs hash). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return hash;
}

/**
 * A user's bucket in [0, 1): hash version 2 is `fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000`
 * (version 1, `fnv1a32(value + seed) % 1000 / 1000`, is there for GrowthBook experiments that still
 * use it). Uniform to 1e-4; the double hashing breaks the correlation v1 had between similar ids.
 */
export function bucketOf(seed: string, value: string, version: HashVersion = 2): number {
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return (fnv1a32(String(fnv1a32(seed + value))) % 10_000) / 10_000;
}

/**
 * GrowthBook's getBucketRanges: variant i owns [cumulative weight before i, + coverage × weight i).
 * Coverage is clamped to [0, 1]; weights of the wrong length, or not summing to 1 within 0.01,
 * fall back to equal weights (as the SDKs do).
 */
export function bucketRanges(variants: number, coverage = 1, weights?: readonly number[]): BucketRange[] {
  const share = Math.min(1, Math.max(0, coverage));
  let w = weights && weights.length === variants ? weights : equalWeights(variants);
  const sum = w.reduce((a, b) => a + b, 0);
  if (sum < 0.99 || sum > 1.01) w = equalWeights(variants);
  let cumulative = 0;
  return w.map((weight) => {
    const start = cumulative;
    cumulative += weight;
    return [start, start + share * weight] as const;
  });
}

function equalWeights(variants: number): number[] {
  return Array.from({ length: variants }, () => 1 / variants);
}

/** Index of the range holding `bucket`, or -1 (outside the coverage). */
export function chooseVariation(bucket: number, ranges: readonly BucketRange[]): number {
  return ranges.findIndex(([start, end]) => bucket >= start && bucket < end);
}
