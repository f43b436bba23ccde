// Revenue per visitor's interval: a BCa bootstrap of the mean (bias-corrected and accelerated;
// Efron & Tibshirani 1993, ch. 14), the method scipy.stats.bootstrap uses by default. Per-visitor
// revenue is mostly zeros with a long right tail: a t interval runs below 0 and is too short on
// the right, while bootstrap quantiles stay within what the data can produce (≥ 0) and BCa
// corrects their bias and skew. Seeded, so the same data always gives the same interval.
//
// Only the non-zero values are kept: of n visitors drawn with replacement, the number landing on
// a non-zero value is Binomial(n, k/n), drawn as geometric gaps, and each such draw is a non-zero
// value picked uniformly. A resample then costs O(k) for k buyers, not O(n) for every visitor.
import { fnv1a32 } from './hash.ts';
import { normalCdf, normalQuantile } from './special.ts';
import type { Interval } from './stats.ts';

/**
 * Resamples per interval: the ends' Monte Carlo error is then a few percent of the mean's standard
 * error (up to ~15% for the far upper end of a very skewed sample; scipy's default is 9,999).
 */
export const RESAMPLES = 5000;

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): uint32s from a string seed. */
export function seededUint32(seed: string): () => number {
  let a = fnv1a32(seed);
  let b = 0x9e3779b9;
  let c = 0x243f6a88;
  let d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  };
  // Mix the seed through the state before the first output.
  for (let i = 0; i < 12; i++) next();
  return next;
}

const TWO_32 = 4294967296;

/**
 * The means of `resamples` bootstrap resamples of n visitors whose non-zero values are `values`,
 * sorted ascending.
 */
export function bootstrapMeans(values: readonly number[], n: number, resamples: number, random: () => number): Float64Array {
  const k = values.length;
  const means = new Float64Array(resamples);
  if (k === 0) return means;
  // log P(a draw lands on a zero); -Infinity when every visitor has a value (every gap is then 0).
  const logMiss = Math.log1p(-k / n);
  // Zeros drawn before the next non-zero value: geometric, by inversion of a uniform in (0, 1].
  const zerosBefore = () => Math.floor(Math.log((random() + 1) / TWO_32) / logMiss);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = zerosBefore(); i < n; i += 1 + zerosBefore()) sum += values[Math.floor((random() / TWO_32) * k)];
    means[b] = sum / n;
  }
  return means.sort();
}

/** numpy's default ("linear", Hyndman–Fan 7) quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/**
 * BCa's acceleration for the mean of n visitors whose non-zero values are `values`: from the
 * jackknife, which for a mean is closed-form, a = Σ(x − x̄)³ / (6·(Σ(x − x̄)²)^1.5). NaN without spread.
 */
export function meanAcceleration(values: readonly number[], n: number): number {
  const zeros = n - values.length;
  const mean = values.reduce((s, x) => s + x, 0) / n;
  let squares = zeros * mean * mean;
  let cubes = -zeros * mean ** 3;
  for (const x of values) {
    squares += (x - mean) ** 2;
    cubes += (x - mean) ** 3;
  }
  return cubes / (6 * squares ** 1.5);
}

/**
 * The BCa interval of the mean of n visitors whose non-zero values are `values`, from `resamples`
 * resamples drawn with a generator seeded by `seed`. null when the values do not vary at all
 * (the bootstrap distribution is then a single point).
 */
export function bcaMeanInterval(values: readonly number[], n: number, seed: string, level = 0.95, resamples = RESAMPLES): Interval | null {
  const acceleration = meanAcceleration(values, n);
  if (Number.isNaN(acceleration)) return null;
  const mean = values.reduce((s, x) => s + x, 0) / n;
  const means = bootstrapMeans(values, n, resamples, seededUint32(seed));
  // Bias correction from the share of resample means below the estimate (ties count half, as scipy).
  let below = 0;
  let atOrBelow = 0;
  for (const m of means) {
    if (m < mean) below++;
    if (m <= mean) atOrBelow++;
  }
  const z0 = normalQuantile((below + atOrBelow) / (2 * resamples));
  const end = (z: number) => normalCdf(z0 + (z0 + z) / (1 - acceleration * (z0 + z)));
  const zAlpha = normalQuantile((1 - level) / 2);
  return { low: quantileSorted(means, end(zAlpha)), high: quantileSorted(means, end(-zAlpha)) };
}
