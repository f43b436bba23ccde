// The report's statistics, as pure functions of per-visitor sufficient statistics:
// - a proportion (conversion rate, CTR) with Wilson's score interval: always inside [0, 1], and
//   not of zero width at 0 or n successes (a normal interval gives [0, 0] for 0 of 98 and goes
//   below 0 for 1 of 98);
// - treatment vs control: Welch's t interval and p-value on the difference of means (unequal
//   variances, Welch–Satterthwaite degrees of freedom) and the relative lift (treatment / control − 1)
//   with Fieller's interval at the same t quantile. Fieller's interval excludes 0 exactly when
//   Welch's does (at ratio 1 its pivot is Welch's statistic), so the two never disagree on
//   significance, which the delta method cannot promise. Both lean on the normal approximation,
//   which fails with a handful of non-zero values (a side with none has a plug-in variance of 0):
//   with fewer than MIN_NON_ZERO on either side, or a control mean not distinguishable from 0
//   (Fieller's set is then unbounded), the comparison says why instead of giving an interval;
// - sample ratio mismatch: chi-square goodness of fit of visitors against the weights.
// Revenue per visitor's own interval is a bootstrap (bootstrap.ts): it is mostly zeros and skewed.
import { chiSquareSurvival, normalQuantile, studentTCritical, studentTTwoSided } from './special.ts';

/** Per-visitor values of one variant, summarised: count, sum, sum of squares, and how many are not 0. */
export interface Sample {
  n: number;
  sum: number;
  sumSquares: number;
  nonZero: number;
}

export interface Interval {
  low: number;
  high: number;
}

/** Non-zero values (converters, buyers) each side needs before a lift gets an interval (the usual np ≥ 5). */
export const MIN_NON_ZERO = 5;

/**
 * Whether the relative lift could be estimated: `ok`; `clamped` (Fieller's low end was below −100%,
 * which no metric ≥ 0 can reach, and is cut there); or why not: the control mean is 0, too few
 * non-zero values on a side, or Fieller's set is unbounded.
 */
export type RelativeStatus = 'ok' | 'clamped' | 'control-zero' | 'too-few' | 'unbounded';

export interface RelativeLift {
  /** null unless the status is ok or clamped. */
  estimate: number | null;
  interval: Interval | null;
  status: RelativeStatus;
}

export interface Comparison {
  /** Treatment mean − control mean. */
  difference: number;
  /** Welch's interval, p-value and degrees of freedom; null with too few non-zero values. */
  differenceCi: Interval | null;
  pValue: number | null;
  df: number | null;
  relative: RelativeLift;
}

/** A 0/1 outcome (converted or not) per visitor: the sum of squares equals the sum. */
export function proportionSample(successes: number, n: number): Sample {
  return { n, sum: successes, sumSquares: successes, nonZero: successes };
}

/** Per-visitor values given as the non-zero ones among n visitors (the others are 0). */
export function sparseSample(nonZeroValues: readonly number[], n: number): Sample {
  let sum = 0;
  let sumSquares = 0;
  for (const x of nonZeroValues) {
    sum += x;
    sumSquares += x * x;
  }
  return { n, sum, sumSquares, nonZero: nonZeroValues.length };
}

export function mean(s: Sample): number {
  return s.sum / s.n;
}

/** Sample variance (n − 1 denominator); 0 where rounding would make it negative. */
export function variance(s: Sample): number {
  return Math.max(0, (s.sumSquares - (s.sum * s.sum) / s.n) / (s.n - 1));
}

/** The two-sided normal quantile of a confidence level: 0.95 → 1.959963984540054. */
function zCritical(level: number): number {
  return normalQuantile(0.5 + level / 2);
}

/**
 * Wilson's score interval for `successes` of `n` (Newcombe 1998's form, as scipy's binomtest);
 * null without trials or with a count outside [0, n].
 */
export function wilsonInterval(successes: number, n: number, level = 0.95): Interval | null {
  if (!(n > 0) || successes < 0 || successes > n) return null;
  const z = zCritical(level);
  const p = successes / n;
  const denominator = 2 * (n + z * z);
  const centre = (2 * successes + z * z) / denominator;
  const half = (z / denominator) * Math.sqrt(4 * successes * (1 - p) + z * z);
  return { low: successes === 0 ? 0 : centre - half, high: successes === n ? 1 : centre + half };
}

const untested = (difference: number, status: RelativeStatus): Comparison => ({
  difference,
  differenceCi: null,
  pValue: null,
  df: null,
  relative: { estimate: null, interval: null, status },
});

/**
 * Treatment vs control; null when either has fewer than two visitors or neither varies at all.
 * Without a control mean, or with fewer than MIN_NON_ZERO non-zero values on a side, only the
 * difference of the means is given, with the reason.
 */
export function compare(treatment: Sample, control: Sample, level = 0.95): Comparison | null {
  if (treatment.n < 2 || control.n < 2) return null;
  const mt = mean(treatment);
  const mc = mean(control);
  const d = mt - mc;
  if (control.nonZero === 0) return untested(d, 'control-zero');
  if (treatment.nonZero < MIN_NON_ZERO || control.nonZero < MIN_NON_ZERO) return untested(d, 'too-few');
  const vt = variance(treatment) / treatment.n;
  const vc = variance(control) / control.n;
  const se = Math.sqrt(vt + vc);
  if (se === 0) return null;
  const df = (vt + vc) ** 2 / (vt ** 2 / (treatment.n - 1) + vc ** 2 / (control.n - 1));
  const t = studentTCritical(1 - level, df);
  return {
    difference: d,
    differenceCi: { low: d - t * se, high: d + t * se },
    pValue: studentTTwoSided(d / se, df),
    df,
    relative: fiellerLift(mt, vt, mc, vc, t),
  };
}

/**
 * Fieller's interval for mt / mc − 1 (independent means ≥ 0 with squared standard errors vt, vc):
 * the ratios r with (mt − r·mc)² ≤ t²(vt + r²·vc), the roots of a quadratic in r. Unbounded
 * (not estimable) when the control mean is within t standard errors of 0.
 */
export function fiellerLift(mt: number, vt: number, mc: number, vc: number, t: number): RelativeLift {
  if (mc === 0) return { estimate: null, interval: null, status: 'control-zero' };
  const a = mc * mc - t * t * vc;
  if (a <= 0) return { estimate: null, interval: null, status: 'unbounded' };
  const root = Math.sqrt(t * t * (vt * a + vc * mt * mt));
  const low = (mc * mt - root) / a - 1;
  const high = (mc * mt + root) / a - 1;
  // A ratio of means ≥ 0 is ≥ 0: the part of the set below −100% is impossible.
  return low < -1 ? { estimate: mt / mc - 1, interval: { low: -1, high }, status: 'clamped' } : { estimate: mt / mc - 1, interval: { low, high }, status: 'ok' };
}

export interface GoodnessOfFit {
  statistic: number;
  df: number;
  pValue: number;
}

/**
 * Pearson's chi-square test of observed counts against expected shares (weights of any scale).
 * Cells of weight 0 add no degree of freedom; a count in one makes the fit impossible (p = 0).
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], weights: readonly number[]): GoodnessOfFit {
  const total = observed.reduce((a, b) => a + b, 0);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let cells = 0;
  observed.forEach((o, i) => {
    if (weights[i] > 0) {
      const e = (total * weights[i]) / weightSum;
      if (e > 0) statistic += (o - e) ** 2 / e;
      cells++;
    } else if (o > 0) statistic = Infinity;
  });
  const df = cells - 1;
  const pValue = statistic === Infinity ? 0 : total === 0 || df < 1 ? 1 : chiSquareSurvival(statistic, df);
  return { statistic, df, pValue };
}

export const SRM_P_VALUE = 0.001;

export interface SampleRatioCheck extends GoodnessOfFit {
  /** p below 0.001: the split differs from the weights more than chance allows; do not trust the lifts. */
  mismatch: boolean;
}

export function sampleRatioMismatch(visitors: readonly number[], weights: readonly number[]): SampleRatioCheck {
  const fit = chiSquareGoodnessOfFit(visitors, weights);
  return { ...fit, mismatch: fit.pValue < SRM_P_VALUE };
}
