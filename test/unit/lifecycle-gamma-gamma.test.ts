import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { expectedPurchases, type BgNbdParams } from '../../src/lifecycle/bgnbd.ts';
import { expectedAverageSpend, fitGammaGamma, frequencySpendCorrelation, gammaGammaLogLikelihood, type GammaGammaParams } from '../../src/lifecycle/gamma-gamma.ts';
import { simulateSpend } from '../../src/lifecycle/simulate.ts';
import { customerValues } from '../../src/lifecycle/value.ts';

test('log-likelihood: one transaction with p = q = 1 has density γ/(γ + m)²', () => {
  // m | ν ~ Exponential(ν), ν ~ Exponential(γ):  f(m) = ∫ ν e^(−νm) γ e^(−γν) dν = γ/(γ+m)².
  const params = { p: 1, q: 1, v: 15 };
  for (const m of [0.5, 15, 200]) {
    const actual = gammaGammaLogLikelihood(params, { x: Float64Array.of(1), meanSpend: Float64Array.of(m) });
    assert.ok(Math.abs(actual - Math.log(15 / (15 + m) ** 2)) < 1e-13, `m = ${m}: ${actual}`);
  }
  // Two transactions averaging m, p = 1, q = 2: f(m) = Γ(4)/(Γ(2)Γ(2)) γ² m · 2² / (γ + 2m)⁴.
  const two = gammaGammaLogLikelihood({ p: 1, q: 2, v: 10 }, { x: Float64Array.of(2), meanSpend: Float64Array.of(7) });
  assert.ok(Math.abs(two - Math.log((6 * 100 * 7 * 4) / 24 ** 4)) < 1e-13, `${two}`);
});

test('refuses customers without repeat purchases or with no spend', () => {
  assert.throws(() => fitGammaGamma({ x: Float64Array.of(0), meanSpend: Float64Array.of(10) }), /x = 0/);
  assert.throws(() => fitGammaGamma({ x: Float64Array.of(2), meanSpend: Float64Array.of(0) }), /not > 0/);
});

test("CDNOW repeat buyers (946): the published p, q, γ and Hardie's conditional spends", () => {
  const rows = readFileSync(new URL('../fixtures/lifecycle/cdnow-summary.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
  const repeat = rows.filter((r) => r[1] > 0);
  assert.equal(repeat.length, 946);
  const fit = fitGammaGamma({ x: Float64Array.from(repeat, (r) => r[1]), meanSpend: Float64Array.from(repeat, (r) => r[4]) });
  const published: GammaGammaParams = { p: 6.25, q: 3.74, v: 15.44 };
  for (const name of ['p', 'q', 'v'] as const) {
    assert.ok(Math.abs(fit.params[name] - published[name]) < 0.01, `${name} = ${fit.params[name]}, published ${published[name]}`);
  }
  assert.ok(fit.converged && fit.standardErrors);
  // The first ten customers, from Hardie's Gamma-Gamma spreadsheet (as quoted by lifetimes' tests).
  const sheet = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
  rows.slice(0, 10).forEach((r, i) => {
    const actual = expectedAverageSpend(fit.params, r[1], r[4]);
    assert.ok(Math.abs(actual - sheet[i]) < 0.015, `customer ${i + 1}: ${actual} vs ${sheet[i]}`);
  });
});

test('the MLE recovers simulated spend parameters within 3 standard errors', () => {
  const truth: GammaGammaParams = { p: 4, q: 3, v: 20 };
  let seed = 11;
  const x = Float64Array.from({ length: 4000 }, () => 1 + ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 8));
  const data = { x, meanSpend: simulateSpend(truth, x, 7) };
  const fit = fitGammaGamma(data);
  assert.ok(fit.standardErrors);
  for (const name of ['p', 'q', 'v'] as const) {
    const z = (fit.params[name] - truth[name]) / fit.standardErrors[name];
    assert.ok(Math.abs(z) < 3, `${name}: ${fit.params[name]} ± ${fit.standardErrors[name]} (z = ${z.toFixed(2)})`);
  }
  assert.ok(Math.abs(frequencySpendCorrelation(data)) < 0.05, 'spend is drawn independently of frequency');
});

test("expected spend shrinks a customer's own average towards the population mean; value = purchases × spend", () => {
  const gg: GammaGammaParams = { p: 6, q: 4, v: 15 };
  const population = (6 * 15) / 3;
  assert.equal(expectedAverageSpend(gg, 0, 999), population);
  const few = expectedAverageSpend(gg, 1, 100);
  const many = expectedAverageSpend(gg, 20, 100);
  assert.ok(population < few && few < many && many < 100);

  const bg: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  const rft = { x: Float64Array.of(0, 3), tx: Float64Array.of(0, 20), T: Float64Array.of(30, 30) };
  const values = customerValues(bg, gg, rft, Float64Array.of(0, 40), 52);
  assert.ok(Math.abs(values[0] - expectedPurchases(bg, 0, 0, 30, 52) * population) < 1e-12);
  assert.ok(Math.abs(values[1] - expectedPurchases(bg, 3, 20, 30, 52) * expectedAverageSpend(gg, 3, 40)) < 1e-12);
});
