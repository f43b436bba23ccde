import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitPositive } from '../../src/lifecycle/mle.ts';
import { bfgs, minimize, nelderMead, numericHessian } from '../../src/lifecycle/optimize.ts';

// Rosenbrock's banana: minimum 0 at (1, 1) at the end of a long curved valley.
const rosenbrock = (v: Float64Array) => 100 * (v[1] - v[0] ** 2) ** 2 + (1 - v[0]) ** 2;

test('Nelder–Mead and BFGS find the Rosenbrock minimum from (−1.2, 1)', () => {
  const start = Float64Array.of(-1.2, 1);
  const nm = nelderMead(rosenbrock, start, { maxIterations: 5000, tolerance: 1e-14 });
  assert.ok(nm.converged && Math.abs(nm.x[0] - 1) < 1e-3 && Math.abs(nm.x[1] - 1) < 1e-3, `Nelder–Mead: ${nm.x}`);
  const quasiNewton = bfgs(rosenbrock, start);
  assert.ok(Math.abs(quasiNewton.x[0] - 1) < 1e-5 && Math.abs(quasiNewton.x[1] - 1) < 1e-5, `BFGS: ${quasiNewton.x}`);
  // (Not `converged`: at f ≈ 0 the relative gradient test is below numeric-gradient noise.)
  const both = minimize(rosenbrock, [start, Float64Array.of(3, -2)]);
  assert.ok(both.value < 1e-10, `minimize: ${both.x} → ${both.value}`);
});

test('an objective that is +Infinity in places does not derail the search', () => {
  const walled = (v: Float64Array) => (v[0] < 0.5 ? Infinity : (v[0] - 2) ** 2 + (v[1] + 1) ** 2);
  const m = minimize(walled, [Float64Array.of(1, 0)]);
  assert.ok(Math.abs(m.x[0] - 2) < 1e-6 && Math.abs(m.x[1] + 1) < 1e-6, `${m.x}`);
});

test('numericHessian of a quadratic is its matrix', () => {
  // f = ½ vᵀ A v with A = [[4, 1], [1, 3]]
  const f = (v: Float64Array) => 0.5 * (4 * v[0] ** 2 + 2 * v[0] * v[1] + 3 * v[1] ** 2);
  const h = numericHessian(f, Float64Array.of(0.3, -0.7));
  [
    [4, 1],
    [1, 3],
  ].forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(h[i][j] - v) < 1e-6, `H[${i}][${j}] = ${h[i][j]}`)));
});

test('fitPositive: exponential rate, MLE n/Σx with standard error λ/√n', () => {
  const data = [0.3, 1.7, 0.2, 2.9, 0.8, 0.5, 1.1, 0.05, 3.3, 0.6];
  const n = data.length;
  const sum = data.reduce((a, b) => a + b, 0);
  const fit = fitPositive(([lambda]) => n * Math.log(lambda) - lambda * sum, [Float64Array.of(1)]);
  const lambda = n / sum;
  assert.ok(Math.abs(fit.params[0] - lambda) < 1e-7 * lambda, `${fit.params[0]} vs ${lambda}`);
  assert.ok(Math.abs(fit.logLikelihood - (n * Math.log(lambda) - n)) < 1e-9);
  assert.ok(fit.standardErrors && Math.abs(fit.standardErrors[0] - lambda / Math.sqrt(n)) < 1e-5 * lambda, `SE ${fit.standardErrors}`);
});

test('fitPositive reports no standard errors where the likelihood has no maximum', () => {
  // Depends on the product of the two parameters only: a ridge, singular information.
  const fit = fitPositive(([a, b]) => -((Math.log(a * b) - 1) ** 2), [Float64Array.of(1, 1)]);
  assert.equal(fit.standardErrors, null);
});
