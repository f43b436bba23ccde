// BG/NBD: the likelihood and P(alive) against the paper's formulas written out by hand for
// x = 0, 1, 2 (no gamma functions needed); E[Y(t)] by its 2F1 series against the posterior
// integral; the published CDNOW fit; recovery and predictions on simulated customers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  bgnbdLogLikelihood,
  expectedPurchases,
  expectedPurchasesNewCustomer,
  expectedWhileAliveByQuadrature,
  fitBgNbd,
  probabilityAlive,
  type BgNbdParams,
  type RftData,
} from '../../src/lifecycle/bgnbd.ts';
import { simulateBgNbd } from '../../src/lifecycle/simulate.ts';

const CDNOW: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

function rft(rows: [number, number, number][]): RftData {
  return { x: Float64Array.from(rows, (r) => r[0]), tx: Float64Array.from(rows, (r) => r[1]), T: Float64Array.from(rows, (r) => r[2]) };
}

/** The two terms of the paper's eq. 6 for x ≤ 2, with B and Γ ratios expanded by hand. */
function handTerms({ r, alpha, a, b }: BgNbdParams, x: number, tx: number, T: number): [number, number] {
  const ar = alpha ** r;
  if (x === 0) return [(alpha / (alpha + T)) ** r, 0];
  if (x === 1) return [((b / (a + b)) * r * ar) / (alpha + T) ** (r + 1), ((a / (a + b)) * r * ar) / (alpha + tx) ** (r + 1)];
  const ab = (a + b) * (a + b + 1);
  const rr = r * (r + 1);
  return [(((b * (b + 1)) / ab) * rr * ar) / (alpha + T) ** (r + 2), (((a * b) / ab) * rr * ar) / (alpha + tx) ** (r + 2)];
}

const CUSTOMERS: [number, number, number][] = [
  [0, 0, 38.86],
  [1, 1.71, 38.86],
  [2, 30.43, 38.86],
  [2, 5, 100],
  [1, 27, 27],
  [0, 0, 0.5],
];
const PARAMS: BgNbdParams[] = [CDNOW, { r: 2, alpha: 0.5, a: 3, b: 0.7 }, { r: 0.05, alpha: 30, a: 0.2, b: 12 }];

test('log-likelihood matches eq. 6 written out by hand, customer by customer and summed', () => {
  for (const p of PARAMS) {
    let total = 0;
    for (const [x, tx, T] of CUSTOMERS) {
      const [alive, dropped] = handTerms(p, x, tx, T);
      const expected = Math.log(alive + dropped);
      total += expected;
      const actual = bgnbdLogLikelihood(p, rft([[x, tx, T]]));
      assert.ok(Math.abs(actual - expected) < 1e-12 * Math.max(1, Math.abs(expected)), `${JSON.stringify(p)} (${x}, ${tx}, ${T}): ${actual} vs ${expected}`);
    }
    assert.ok(Math.abs(bgnbdLogLikelihood(p, rft(CUSTOMERS)) - total) < 1e-11);
  }
});

test('P(alive) is the share of the likelihood in which the customer is still active', () => {
  for (const p of PARAMS) {
    for (const [x, tx, T] of CUSTOMERS) {
      const [alive, dropped] = handTerms(p, x, tx, T);
      const actual = probabilityAlive(p, x, tx, T);
      assert.ok(Math.abs(actual - alive / (alive + dropped)) < 1e-13, `(${x}, ${tx}, ${T}): ${actual}`);
    }
  }
  assert.equal(probabilityAlive(CDNOW, 0, 0, 38.86), 1);
  // Bought recently → more likely alive than the same purchases long ago.
  assert.ok(probabilityAlive(CDNOW, 3, 35, 38) > probabilityAlive(CDNOW, 3, 5, 38));
});

test('bad RFT data is refused with the customer index', () => {
  assert.throws(() => bgnbdLogLikelihood(CDNOW, rft([[1, 5, 3]])), /customer 0: need 0 ≤ t_x ≤ T/);
  assert.throws(
    () =>
      bgnbdLogLikelihood(
        CDNOW,
        rft([
          [0, 0, 1],
          [1.5, 1, 2],
        ]),
      ),
    /customer 1: x = 1.5/,
  );
});

test('E[Y(t)]: the 2F1 series (eq. 10) agrees with integrating over the posterior of p', () => {
  for (const p of [...PARAMS, { r: 1, alpha: 2, a: 1.5, b: 0.3 }]) {
    for (const [x, tx, T] of CUSTOMERS) {
      for (const t of [0.5, 10, 39, 150]) {
        const series = expectedPurchases(p, x, tx, T, t);
        const integral = probabilityAlive(p, x, tx, T) * expectedWhileAliveByQuadrature(p, x, T, t);
        assert.ok(Math.abs(series - integral) < 1e-9 * Math.max(1, integral), `${JSON.stringify(p)} (${x}, ${tx}, ${T}) t=${t}: ${series} vs ${integral}`);
      }
    }
  }
});

test('E[Y(t)] of heavy buyers: series and posterior integral agree for a peaked posterior', () => {
  // 2,200 purchase days in 2,200 days; p's posterior Beta(150, 2600) sits narrowly around 0.055,
  // so about 1/p ≈ 18 purchases are left before dropping out.
  const p = { r: 0.75, alpha: 60, a: 150, b: 400 };
  for (const t of [30, 400, 880, 2000]) {
    const series = expectedPurchases(p, 2200, 2199, 2200, t);
    const integral = probabilityAlive(p, 2200, 2199, 2200) * expectedWhileAliveByQuadrature(p, 2200, 2200, t);
    assert.ok(Math.abs(series - integral) < 1e-9 * integral, `t=${t}: ${series} vs ${integral}`);
  }
  const longRun = expectedPurchases(p, 2200, 2199, 2200, 2000) / probabilityAlive(p, 2200, 2199, 2200);
  assert.ok(longRun > 17 && longRun < 19.5, `${longRun}`);
});

test('E[Y(t)] stays continuous through a = 1, where eq. 10 divides by a − 1', () => {
  const at = (a: number) => expectedPurchases({ ...CDNOW, a }, 2, 30.43, 38.86, 39);
  const [below, exact, above] = [at(1 - 1e-3), at(1), at(1 + 1e-3)];
  assert.ok(Number.isFinite(exact) && Math.abs(exact - (below + above) / 2) < 1e-5, `${below} ${exact} ${above}`);
  assert.equal(expectedPurchases(CDNOW, 2, 30.43, 38.86, 0), 0);
});

function cdnow(): RftData {
  const rows = readFileSync(new URL('../fixtures/lifecycle/cdnow-summary.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return rft(rows.map((line) => line.split(',').slice(1, 4).map(Number) as [number, number, number]));
}

test('CDNOW (2,357 customers, 39 weeks): the published fit, to 3 significant digits', () => {
  const data = cdnow();
  assert.equal(data.x.length, 2357);
  const fit = fitBgNbd(data);
  assert.ok(fit.converged);
  for (const [name, published] of Object.entries(CDNOW) as [keyof BgNbdParams, number][]) {
    const value = fit.params[name];
    assert.equal(value.toPrecision(3), published.toPrecision(3), `${name} = ${value}, published ${published}`);
    assert.ok(Math.abs(value - published) < 1e-3, `${name} = ${value}, published ${published}`);
  }
  assert.ok(Math.abs(fit.logLikelihood - -9582.4) < 0.05, `log-likelihood ${fit.logLikelihood}`);
  assert.ok(fit.standardErrors && Object.values(fit.standardErrors).every((se) => se > 0));

  // Hardie's BG/NBD spreadsheet: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 and E[X(t)] for a new
  // customer. At t = 78 the sheet's 1.8576 is 4e-4 below the converged series (1.8580).
  assert.ok(Math.abs(expectedPurchases(fit.params, 2, 30.43, 38.86, 39) - 1.226) < 5e-4);
  const sheet: [number, number][] = [
    [0.1429, 0.0078],
    [1, 0.0532],
    [3, 0.1506],
    [31.8571, 1.0405],
    [32, 1.0437],
    [78, 1.8576],
  ];
  for (const [t, expected] of sheet) {
    const actual = expectedPurchasesNewCustomer(fit.params, t);
    assert.ok(Math.abs(actual - expected) < (t === 78 ? 1e-3 : 1e-4), `E[X(${t})] = ${actual}, sheet ${expected}`);
  }
});

const TRUTH: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
const simulated = simulateBgNbd(TRUTH, { customers: 20_000, minAge: 27, maxAge: 39, holdout: 39, seed: 2005 });

function zScore(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i] - mean) ** 2 / (n - 1);
  return mean / Math.sqrt(variance / n);
}

test('the MLE recovers simulated parameters (20,000 customers) within 3 standard errors', () => {
  const fit = fitBgNbd(simulated.rft);
  assert.ok(fit.converged && fit.standardErrors);
  for (const name of Object.keys(TRUTH) as (keyof BgNbdParams)[]) {
    const z = (fit.params[name] - TRUTH[name]) / fit.standardErrors[name];
    assert.ok(Math.abs(z) < 3, `${name}: ${fit.params[name]} ± ${fit.standardErrors[name]}, true ${TRUTH[name]} (z = ${z.toFixed(2)})`);
  }
});

test('simulated customers: E[X(T)], P(alive) and E[Y(t)] match what happened', () => {
  const { rft: data, holdoutPurchases, aliveAtT } = simulated;
  const n = data.x.length;
  const residual = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const checks: [string, Float64Array][] = [
    ['repeat purchases vs E[X(T)]', residual((i) => data.x[i] - expectedPurchasesNewCustomer(TRUTH, data.T[i]))],
    ['alive at T vs P(alive)', residual((i) => aliveAtT[i] - probabilityAlive(TRUTH, data.x[i], data.tx[i], data.T[i]))],
    ['holdout purchases vs E[Y(39)]', residual((i) => holdoutPurchases[i] - expectedPurchases(TRUTH, data.x[i], data.tx[i], data.T[i], 39))],
  ];
  for (const [what, r] of checks) assert.ok(Math.abs(zScore(r)) < 3, `${what}: z = ${zScore(r).toFixed(2)}`);
  // And among repeat buyers alone, where P(alive) < 1 does the work.
  const repeaters = checks[1][1].filter((_, i) => data.x[i] > 0);
  assert.ok(Math.abs(zScore(repeaters)) < 3, `P(alive), repeat buyers: z = ${zScore(repeaters).toFixed(2)}`);
});
