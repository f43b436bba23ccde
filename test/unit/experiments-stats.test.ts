import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chiSquareSurvival, gammaQ, lnGamma, normalCdf, normalQuantile, studentTCritical, studentTTwoSided } from '../../src/experiments/special.ts';
import {
  chiSquareGoodnessOfFit,
  compare,
  fiellerLift,
  mean,
  MIN_NON_ZERO,
  proportionSample,
  sampleRatioMismatch,
  sparseSample,
  variance,
  wilsonInterval,
  type Sample,
} from '../../src/experiments/stats.ts';

const close = (actual: number | null | undefined, expected: number, tolerance: number, what = '') =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what}: ${actual} ≠ ${expected} ± ${tolerance}`);

function sample(values: number[]): Sample {
  return sparseSample(
    values.filter((x) => x !== 0),
    values.length,
  );
}

describe('special functions', () => {
  test('log-gamma at known points', () => {
    close(lnGamma(1), 0, 1e-13, 'Γ(1) = 1');
    close(lnGamma(5), Math.log(24), 1e-12, 'Γ(5) = 4!');
    close(lnGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13, 'Γ(1/2) = √π');
    close(lnGamma(0.25), Math.log(3.625609908221908), 1e-12, 'Γ(1/4) via reflection');
  });

  test('chi-square upper tail matches the printed critical values', () => {
    // Critical values from a standard chi-square table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
    const table: [number, number, number][] = [
      [3.841, 1, 0.05],
      [6.635, 1, 0.01],
      [10.828, 1, 0.001],
      [5.991, 2, 0.05],
      [13.816, 2, 0.001],
      [11.345, 3, 0.01],
      [16.266, 3, 0.001],
      [18.307, 10, 0.05],
      [43.773, 30, 0.05],
    ];
    for (const [x, df, p] of table) close(chiSquareSurvival(x, df), p, p * 2e-3, `χ²(${df}) > ${x}`);
    // Closed forms: df 2 is exponential, df 1 is 2·(1 − Φ(√x)): P(χ²₁ > 1) = 0.3173105078629141.
    close(chiSquareSurvival(7, 2), Math.exp(-3.5), 1e-15, 'df 2');
    close(chiSquareSurvival(1, 1), 0.3173105078629141, 1e-12, 'df 1');
    close(gammaQ(3, 0), 1, 0, 'Q(a, 0) = 1');
  });

  test('Student t critical values match the printed table, also for fractional df (Welch)', () => {
    const table: [number, number][] = [
      [1, 12.706],
      [2, 4.303],
      [5, 2.571],
      [10, 2.228],
      [30, 2.042],
      [120, 1.98],
    ];
    for (const [df, t] of table) close(studentTCritical(0.05, df), t, 5e-4, `t(0.975, ${df})`);
    close(studentTCritical(0.05, 1e6), 1.959964, 1e-5, 'df → ∞: the normal 1.959964');
    // Between the table's rows: scipy.stats.t.ppf(0.975, 2.5) = 3.5746548420036817.
    close(studentTCritical(0.05, 2.5), 3.5746548420036817, 1e-9, 't(0.975, 2.5)');
    close(studentTTwoSided(0, 7), 1, 1e-15, 'p(0) = 1');
    close(studentTTwoSided(1, 1), 0.5, 1e-12, 'Cauchy: P(|T| > 1) = 1/2');
  });

  test('normal distribution: symmetric, exact at the centre, and precise far into the tail', () => {
    assert.equal(normalCdf(0), 0.5);
    close(normalCdf(-1.2) + normalCdf(1.2), 1, 1e-15, 'Φ(−x) + Φ(x) = 1');
    // Φ(−10) = 7.61985302416047e-24 (scipy.special.ndtr): computed as 1 − Φ(10) it would round to 0.
    close(normalCdf(-10) / 7.61985302416047e-24, 1, 1e-10, 'Φ(−10)');
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    close(normalQuantile(0.975), 1.959963984540054, 1e-14, 'Φ⁻¹(0.975)');
    close(normalQuantile(0.025), -1.959963984540054, 1e-14, 'Φ⁻¹(0.025)');
    close(normalCdf(normalQuantile(1e-20)) / 1e-20, 1, 1e-9, 'round trip at 1e-20');
  });
});

describe('Wilson score interval', () => {
  test('0 of 98 is not [0, 0]: it reaches up to 3.77%', () => {
    const ci = wilsonInterval(0, 98)!;
    assert.equal(ci.low, 0);
    // By hand: z²/(n + z²) with z = 1.959963984540054.
    close(ci.high, 3.841458820694124 / (98 + 3.841458820694124), 1e-15, 'high');
  });

  test('1 of 98 never goes below 0; n of n never above 1', () => {
    assert.ok(wilsonInterval(1, 98)!.low > 0);
    assert.equal(wilsonInterval(98, 98)!.high, 1);
    assert.ok(wilsonInterval(98, 98)!.low < 1);
  });

  test('a count it cannot be a proportion of has no interval', () => {
    assert.equal(wilsonInterval(0, 0), null);
    assert.equal(wilsonInterval(7, 6), null);
    assert.equal(wilsonInterval(-1, 6), null);
  });
});

describe('Welch and Fieller', () => {
  // Wikipedia, "Welch's t-test", example 1: t = 2.46, ν ≈ 25.0, p = 0.021 (scipy ttest_ind
  // equal_var=False: t 2.455356398286006, df 24.988529290231416, p 0.021378001462866992,
  // 95% interval of the difference 0.3492370661924069 .. 3.984096267140929).
  const a1 = sample([27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]);
  const a2 = sample([27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]);

  test('means and variances by hand', () => {
    close(mean(a1), 20.82, 1e-12, 'mean A1');
    close(variance(a1), 7.867428571428571, 1e-10, 'variance A1');
    close(mean(a2), 22.986666666666665, 1e-12, 'mean A2');
    close(variance(a2), 3.8126666666666686, 1e-10, 'variance A2');
  });

  test("Welch's difference, degrees of freedom, interval and p-value: the textbook example", () => {
    const c = compare(a2, a1)!;
    close(c.difference, 13 / 6, 1e-10, 'difference');
    close(c.df, 24.988529290231416, 1e-9, 'df');
    close(c.differenceCi?.low, 0.3492370661924069, 1e-8, 'low');
    close(c.differenceCi?.high, 3.984096267140929, 1e-8, 'high');
    close(c.pValue, 0.021378001462866992, 1e-9, 'p');
  });

  test("Fieller's interval of the relative lift: the ratios whose Welch statistic is within t", () => {
    const c = compare(a2, a1)!;
    close(c.relative.estimate, 22.986666666666665 / 20.82 - 1, 1e-12, 'relative lift');
    // By hand from the quadratic (mA² − t²vA)r² − 2·mA·mB·r + (mB² − t²vB) = 0 with t = 2.059586491365625,
    // and confirmed by scanning r: 0.015840349653799102 .. 0.20368486281066955.
    assert.equal(c.relative.status, 'ok');
    close(c.relative.interval?.low, 0.015840349653799102, 1e-9, 'low');
    close(c.relative.interval?.high, 0.20368486281066955, 1e-9, 'high');
    // Same verdict as Welch: both intervals exclude 0.
    assert.ok(c.differenceCi!.low > 0 && c.relative.interval!.low > 0);
  });

  test('Fieller: not estimable when the control mean is 0 or not distinguishable from 0 (never ±∞)', () => {
    assert.deepEqual(fiellerLift(25, 100, 12.5, 60, 2), { estimate: null, interval: null, status: 'unbounded' });
    assert.deepEqual(fiellerLift(1, 0.1, 0, 0.1, 2), { estimate: null, interval: null, status: 'control-zero' });
    // No uncertainty at all: the interval shrinks to the estimate.
    assert.deepEqual(fiellerLift(3, 0, 2, 0, 2), { estimate: 0.5, interval: { low: 0.5, high: 0.5 }, status: 'ok' });
  });

  test('Fieller: a low end below −100% (a treatment mean not distinguishable from 0) is cut at −100%', () => {
    // mt = 1 with standard error 1 (t = 2 reaches below 0); the quadratic's low root is ratio −0.2533.
    const lift = fiellerLift(1, 1, 10, 0.25, 2);
    assert.equal(lift.status, 'clamped');
    assert.equal(lift.interval?.low, -1);
    close(lift.interval?.high, (10 + Math.sqrt(4 * (1 * 99 + 0.25))) / 99 - 1, 1e-12, 'high end as solved');
    close(lift.estimate, -0.9, 1e-15, 'estimate');
  });

  test('conversion as a 0/1 sample: p(1 − p)·n/(n − 1)', () => {
    const s = proportionSample(30, 100);
    close(mean(s), 0.3, 1e-15);
    close(variance(s), (0.3 * 0.7 * 100) / 99, 1e-15);
    assert.equal(s.nonZero, 30);
  });

  test(`fewer than ${MIN_NON_ZERO} converters on a side, or none in the control: the difference, untested, and why`, () => {
    // 0 of 98 vs 5 of 98: Welch would call this significant (the treatment's plug-in variance is 0); Fisher's exact p is 0.059.
    const none = compare(proportionSample(0, 98), proportionSample(5, 98))!;
    assert.deepEqual(none, { difference: -5 / 98, differenceCi: null, pValue: null, df: null, relative: { estimate: null, interval: null, status: 'too-few' } });
    const noControl = compare(proportionSample(7, 98), proportionSample(0, 98))!;
    assert.equal(noControl.relative.status, 'control-zero');
    assert.equal(noControl.pValue, null);
    assert.equal(compare(proportionSample(4, 98), proportionSample(50, 98))!.relative.status, 'too-few');
    assert.equal(compare(proportionSample(5, 98), proportionSample(50, 98))!.relative.status, 'ok');
  });

  test('no comparison without data or without any spread', () => {
    assert.equal(compare(sample([1]), sample([1, 2])), null);
    assert.equal(compare(sample([5, 5, 5, 5, 5]), sample([5, 5, 5, 5, 5, 5])), null);
  });
});

describe('sample ratio mismatch', () => {
  test('chi-square goodness of fit, by hand', () => {
    // 1000 vs 1200 at 50/50: χ² = 2·100²/1100 = 18.1818…, p = 2.007865612426481e-05 (scipy chisquare).
    const skewed = sampleRatioMismatch([1000, 1200], [1, 1]);
    close(skewed.statistic, 200 / 11, 1e-12, 'χ²');
    close(skewed.pValue, 2.007865612426481e-5, 1e-12, 'p');
    assert.equal(skewed.mismatch, true);
    // 1000 vs 1050: χ² = 1.2195…, p = 0.26945640515977404: fine.
    const fine = sampleRatioMismatch([1000, 1050], [0.5, 0.5]);
    close(fine.pValue, 0.26945640515977404, 1e-10, 'p');
    assert.equal(fine.mismatch, false);
  });

  test('weights of any scale; a weight-0 variant adds no degree of freedom unless someone landed there', () => {
    const fit = chiSquareGoodnessOfFit([300, 300, 600], [1, 1, 2]);
    assert.equal(fit.statistic, 0);
    assert.equal(fit.df, 2);
    assert.equal(fit.pValue, 1);
    assert.equal(chiSquareGoodnessOfFit([500, 0, 500], [1, 0, 1]).df, 1);
    assert.deepEqual(chiSquareGoodnessOfFit([500, 3, 500], [1, 0, 1]), { statistic: Infinity, df: 1, pValue: 0 });
    assert.deepEqual(chiSquareGoodnessOfFit([0, 0], [1, 1]), { statistic: 0, df: 1, pValue: 1 }, 'no visitors yet: nothing to flag');
  });
});
