// The report's statistics, as pure functions of per-visitor sufficient statistics:
// - each variant's mean with a Student t interval;
// - treatment vs control: Welch's t interval on the difference of means (unequal variances,
//   Welch–Satterthwaite degrees of freedom) and the relative lift (treatment / control − 1)
//   with Fieller's interval at the same t quantile. Fieller's interval excludes 0 exactly when
//   Welch's excludes 0 (at ratio 1 its pivot is Welch's statistic), so the two never disagree
//   on significance, which the delta method cannot promise; when the control mean is not itself
//   distinguishable from 0 the interval is unbounded and its ends are null;
// - sample ratio mismatch: chi-square goodness of fit of visitors against the weights.
import { chiSquareSurvival, studentTCritical, studentTTwoSided } from './special.ts';

/** Per-visitor values of one variant, summarised: count, sum and sum of squares. */
export interface Sample {
  n: number;
  sum: number;
  sumSquares: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface RelativeLift {
  estimate: number | null;
  /** null: unbounded on that side (Fieller), or no control mean to compare with. */
  low: number | null;
  high: number | null;
}

export interface Comparison {
  /** Treatment mean − control mean, with Welch's interval. */
  difference: Interval;
  relative: RelativeLift;
  /** Two-sided p-value of Welch's t test. */
  pValue: number;
  df: number;
}

/** A 0/1 outcome (converted or not) per visitor: the sum of squares equals the sum. */
export function proportionSample(successes: number, n: number): Sample {
  return { n, sum: successes, sumSquares: successes };
}

export function mean(s: Sample): number {
  return s.sum / s.n;
}

/** Sample variance (n − 1 denominator); 0 where rounding would make it negative. */
export function variance(s: Sample): number {
  return Math.max(0, (s.sumSquares - (s.sum * s.sum) / s.n) / (s.n - 1));
}

const alphaOf = (level: number) => 1 - level;

/** Mean ± t(n − 1) · s / √n; null below two visitors. */
export function meanInterval(s: Sample, level = 0.95): Interval | null {
  if (s.n < 2) return null;
  const m = mean(s);
  const half = studentTCritical(alphaOf(level), s.n - 1) * Math.sqrt(variance(s) / s.n);
  return { estimate: m, low: m - half, high: m + half };
}

/** Treatment vs control; null when either has fewer than two visitors or both have no spread. */
export function compare(treatment: Sample, control: Sample, level = 0.95): Comparison | null {
  if (treatment.n < 2 || control.n < 2) return null;
  const mt = mean(treatment);
  const mc = mean(control);
  const vt = variance(treatment) / treatment.n;
  const vc = variance(control) / control.n;
  const se = Math.sqrt(vt + vc);
  if (se === 0) return null;
  const df = (vt + vc) ** 2 / (vt ** 2 / (treatment.n - 1) + vc ** 2 / (control.n - 1));
  const t = studentTCritical(alphaOf(level), df);
  const d = mt - mc;
  return {
    difference: { estimate: d, low: d - t * se, high: d + t * se },
    relative: fiellerLift(mt, vt, mc, vc, t),
    pValue: studentTTwoSided(d / se, df),
    df,
  };
}

/**
 * Fieller's interval for mt / mc − 1 (independent means with squared standard errors vt, vc):
 * the ratios r with (mt − r·mc)² ≤ t²(vt + r²·vc), the roots of a quadratic in r.
 */
export function fiellerLift(mt: number, vt: number, mc: number, vc: number, t: number): RelativeLift {
  if (mc === 0) return { estimate: null, low: null, high: null };
  const estimate = mt / mc - 1;
  const a = mc * mc - t * t * vc;
  if (a <= 0) return { estimate, low: null, high: null };
  const root = Math.sqrt(t * t * (vt * a + vc * mt * mt));
  return { estimate, low: (mc * mt - root) / a - 1, high: (mc * mt + root) / a - 1 };
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
