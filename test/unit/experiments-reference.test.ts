// The report's statistics against reference values computed another way, with scipy and numpy
// (test/fixtures/experiments/stats-reference.py wrote stats-reference.json; no Python is needed here).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { bcaMeanInterval, bootstrapMeans, meanAcceleration, quantileSorted, RESAMPLES, seededUint32 } from '../../src/experiments/bootstrap.ts';
import { normalCdf, normalQuantile } from '../../src/experiments/special.ts';
import { compare, sparseSample, wilsonInterval } from '../../src/experiments/stats.ts';

interface Values {
  n: number;
  values: number[];
}
interface Reference {
  normal_quantile: { p: number; z: number }[];
  normal_cdf: { x: number; p: number }[];
  wilson: { successes: number; n: number; low: number; high: number }[];
  bca: (Values & { name: string; mean: number; standard_error: number; acceleration: number; low: number; high: number })[];
  welch_fieller: {
    name: string;
    treatment: Values;
    control: Values;
    difference: number;
    df: number;
    p_value: number;
    difference_low: number;
    difference_high: number;
    relative: number;
    fieller_bounded: boolean;
    relative_low: number | null;
    relative_high: number | null;
  }[];
}
const ref = JSON.parse(readFileSync(new URL('../fixtures/experiments/stats-reference.json', import.meta.url), 'utf8')) as Reference;

const close = (actual: number | null | undefined, expected: number, tolerance: number, what: string) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what}: ${actual} ≠ ${expected} ± ${tolerance}`);
const relClose = (actual: number | null | undefined, expected: number, tolerance: number, what: string) => close(actual, expected, tolerance * Math.max(1, Math.abs(expected)), what);

describe('normal distribution vs scipy.special (ndtri, ndtr)', () => {
  for (const { p, z } of ref.normal_quantile) test(`Φ⁻¹(${p})`, () => relClose(normalQuantile(p), z, 1e-13, 'z'));
  for (const { x, p } of ref.normal_cdf) test(`Φ(${x})`, () => close(normalCdf(x) / p, 1, 1e-12, 'relative'));
});

describe('Wilson intervals vs scipy.stats.binomtest(k, n).proportion_ci(method="wilson")', () => {
  for (const c of ref.wilson) {
    test(`${c.successes} of ${c.n}`, () => {
      const ci = wilsonInterval(c.successes, c.n)!;
      close(ci.low, c.low, 1e-15, 'low');
      close(ci.high, c.high, 1e-15, 'high');
      assert.ok(ci.low >= 0 && ci.high <= 1 && ci.high > ci.low);
    });
  }
});

describe('BCa bootstrap of revenue per visitor vs scipy.stats.bootstrap(method="BCa")', () => {
  for (const c of ref.bca) {
    test(`${c.name}: the acceleration exactly (an explicit jackknife in numpy)`, () => {
      relClose(meanAcceleration(c.values, c.n), c.acceleration, 1e-11, 'acceleration');
    });

    // scipy used 200,000 resamples, we use 5,000: our ends carry Monte Carlo noise, up to ~0.16 standard
    // errors of the mean (sd over seeds, measured on these data sets) for a far upper end. The mean over
    // 20 seeds (sd ≤ 0.04 SE) must be within 0.15 SE of scipy's; every single seed within 0.6 SE.
    test(`${c.name}: both ends, within the Monte Carlo error`, () => {
      const runs = Array.from({ length: 20 }, (_, i) => bcaMeanInterval(c.values, c.n, `reference-${i}`)!);
      const average = (end: 'low' | 'high') => runs.reduce((s, r) => s + r[end], 0) / runs.length;
      close(average('low'), c.low, 0.15 * c.standard_error, 'mean low');
      close(average('high'), c.high, 0.15 * c.standard_error, 'mean high');
      for (const r of runs) {
        close(r.low, c.low, 0.6 * c.standard_error, 'low');
        close(r.high, c.high, 0.6 * c.standard_error, 'high');
        assert.ok(r.low >= 0, 'never below 0');
      }
    });
  }

  test('seeded: the same data and seed give the same interval; another seed, a slightly different one', () => {
    const c = ref.bca[2];
    assert.deepEqual(bcaMeanInterval(c.values, c.n, 'a'), bcaMeanInterval(c.values, c.n, 'a'));
    assert.notDeepEqual(bcaMeanInterval(c.values, c.n, 'a'), bcaMeanInterval(c.values, c.n, 'b'));
  });

  test('resampling only the non-zero values: resample means average to the mean, with the variance of a mean', () => {
    const c = ref.bca[3];
    const means = bootstrapMeans(c.values, c.n, 20_000, seededUint32('moments'));
    const m = means.reduce((s, x) => s + x, 0) / means.length;
    const sd = Math.sqrt(means.reduce((s, x) => s + (x - m) ** 2, 0) / (means.length - 1));
    // The bootstrap variance of a mean is σ²/n with the n-denominator σ²: SE·√((n − 1)/n).
    close(m, c.mean, (4 * c.standard_error) / Math.sqrt(20_000), 'mean of means');
    close(sd / (c.standard_error * Math.sqrt((c.n - 1) / c.n)), 1, 0.03, 'sd of means / SE');
    assert.ok(
      means.every((x, i) => i === 0 || means[i - 1] <= x),
      'sorted',
    );
    assert.deepEqual([...bootstrapMeans([], 10, 3, seededUint32('x'))], [0, 0, 0], 'nobody spent: all means are 0');
    assert.deepEqual([...bootstrapMeans([2, 2], 2, 3, seededUint32('x'))], [2, 2, 2], 'everybody spent: every draw hits');
  });

  test("no spread, no interval; numpy's linear quantile", () => {
    assert.equal(bcaMeanInterval([4, 4, 4], 3, 's'), null);
    assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
    assert.equal(quantileSorted([1, 2, 3, 4], 0), 1);
    assert.equal(RESAMPLES, 5000);
  });
});

describe("Welch and Fieller vs scipy.stats.ttest_ind(equal_var=False) and a root search on Welch's pivot", () => {
  for (const c of ref.welch_fieller) {
    test(c.name, () => {
      const got = compare(sparseSample(c.treatment.values, c.treatment.n), sparseSample(c.control.values, c.control.n))!;
      relClose(got.difference, c.difference, 1e-12, 'difference');
      relClose(got.df, c.df, 1e-9, 'df');
      relClose(got.differenceCi?.low, c.difference_low, 1e-9, 'difference low');
      relClose(got.differenceCi?.high, c.difference_high, 1e-9, 'difference high');
      close(got.pValue! / c.p_value, 1, 1e-7, 'p-value');
      if (!c.fieller_bounded) {
        assert.deepEqual(got.relative, { estimate: null, interval: null, status: 'unbounded' });
        return;
      }
      relClose(got.relative.estimate, c.relative, 1e-12, 'relative');
      // Cut at −100% where the set reaches below (a ratio of means ≥ 0 cannot).
      assert.equal(got.relative.status, c.relative_low! < -1 ? 'clamped' : 'ok');
      relClose(got.relative.interval?.low, Math.max(-1, c.relative_low!), 1e-9, 'relative low');
      relClose(got.relative.interval?.high, c.relative_high!, 1e-9, 'relative high');
    });
  }
});
