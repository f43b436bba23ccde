// lgamma, 2F1 and the (0,1) quadrature against identities and closed forms that do not
// go through the code under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hyp2f1, integrateUnitInterval, lgamma, logBeta } from '../../src/lifecycle/special.ts';

function close(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('lgamma: factorials, Γ(1/2) = √π, recurrence and duplication formula', () => {
  let logFactorial = 0;
  for (let n = 1; n <= 170; n++) {
    close(lgamma(n), logFactorial, 1e-14, `lnΓ(${n})`);
    logFactorial += Math.log(n);
  }
  close(lgamma(0.5), 0.5 * Math.log(Math.PI), 1e-15, 'lnΓ(1/2)');
  for (const x of [1e-8, 0.001, 0.243, 0.5, 0.793, 2.426, 7.5, 33.3, 1234.5]) {
    close(lgamma(x + 1), lgamma(x) + Math.log(x), 1e-13, `recurrence at ${x}`);
    // Legendre: Γ(x)Γ(x+½) = 2^(1−2x) √π Γ(2x)
    close(lgamma(x) + lgamma(x + 0.5), (1 - 2 * x) * Math.log(2) + 0.5 * Math.log(Math.PI) + lgamma(2 * x), 1e-13, `duplication at ${x}`);
  }
  assert.ok(Number.isNaN(lgamma(0)) && Number.isNaN(lgamma(-1)));
  close(logBeta(2, 3), Math.log(1 / 12), 1e-14, 'ln B(2,3)');
});

test('hyp2f1 matches closed forms', () => {
  for (const z of [0, 0.1, 0.5, 0.9, 0.99]) {
    // 2F1(1,1;2;z) = −ln(1−z)/z
    close(hyp2f1(1, 1, 2, z), z === 0 ? 1 : -Math.log1p(-z) / z, 1e-13, `2F1(1,1;2;${z})`);
    // 2F1(a,b;b;z) = (1−z)^−a
    close(hyp2f1(0.7, 2.3, 2.3, z), (1 - z) ** -0.7, 1e-13, `2F1(0.7,b;b;${z})`);
  }
  for (const s of [0.2, 0.6, 0.95]) {
    // 2F1(½,½;3/2;s²) = arcsin(s)/s
    close(hyp2f1(0.5, 0.5, 1.5, s * s), Math.asin(s) / s, 1e-13, `arcsin at ${s}`);
  }
  // A negative integer a ends the series: 2F1(−2,b;c;z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
  close(hyp2f1(-2, 3, 4, 0.5), 1 - (2 * 3 * 0.5) / 4 + (3 * 4 * 0.25) / (4 * 5), 1e-15, 'terminating');
});

test('hyp2f1 gives NaN instead of a wrong value when the series converges too slowly or is undefined', () => {
  assert.ok(Number.isNaN(hyp2f1(1, 1, 2, 0.9999, 1000)));
  close(hyp2f1(1, 1, 2, 0.9999, 1_000_000), -Math.log(1e-4) / 0.9999, 1e-12, 'with enough terms');
  assert.ok(Number.isNaN(hyp2f1(1, 1, 0, 0.5)));
  assert.ok(Number.isNaN(hyp2f1(1, 1, 2, 1)));
});

test('integrateUnitInterval handles smooth integrands and algebraic singularities at both ends', () => {
  close(
    integrateUnitInterval((x) => x * x),
    1 / 3,
    1e-12,
    '∫x²',
  );
  close(
    integrateUnitInterval((x) => Math.exp(x)),
    Math.E - 1,
    1e-12,
    '∫eˣ',
  );
  // Beta densities integrate to 1, even with a = 0.3 and b = 0.4 (infinite at both ends).
  for (const [a, b] of [
    [0.3, 0.4],
    [0.8, 2.4],
    [5, 0.6],
  ]) {
    const norm = Math.exp(-logBeta(a, b));
    const total = integrateUnitInterval((x, c) => norm * Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log(c)));
    close(total, 1, 1e-10, `Beta(${a},${b}) density`);
  }
});
