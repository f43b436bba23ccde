import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitLogistic, linear, sigmoid } from '../../src/cf/repeat/logistic.ts';
import { groupNdcg } from '../../src/cf/repeat/grouped-ndcg.ts';
import { ndcgAtK } from '../../src/eval/metrics.ts';
import { Mt19937 } from '../../src/eval/random.ts';

test('logistic regression recovers the weights the labels were drawn with, on any feature scale', () => {
  const rng = new Mt19937(11);
  const truth = [-1, 2, -0.5, 0.01]; // intercept, then features of scale 1, 1 and 100
  const scales = [1, 1, 1, 100];
  const n = 20_000;
  const d = truth.length;
  const x = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    x[r * d] = 1;
    for (let j = 1; j < d; j++) x[r * d + j] = scales[j] * (rng.nextDouble() * 2 - 1) + (j === 3 ? 50 : 0);
    y[r] = rng.nextDouble() < sigmoid(linear(x, r, truth)) ? 1 : 0;
  }
  const w = fitLogistic(x, y, d);
  truth.forEach((t, j) => assert.ok(Math.abs(w[j] - t) < 0.15 * Math.abs(t), `w${j} = ${w[j]}, expected ${t}`));
});

test('logistic regression: separable data stays finite (the ridge)', () => {
  const x = Float64Array.from([1, 0, 1, 1, 1, 2, 1, 3]);
  const w = fitLogistic(x, [0, 0, 1, 1], 2);
  assert.ok(w.every(Number.isFinite));
  assert.ok(linear(x, 3, w) > 0 && linear(x, 0, w) < 0);
});

test('logistic regression: a column that barely varies gets no weight, however it splits the labels', () => {
  const n = 200;
  const x = new Float64Array(n * 3);
  const y = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = r % 2;
    x.set([1, (r % 4) / 4, 5 + y[r] * 1e-9], r * 3);
  }
  const w = fitLogistic(x, y, 3);
  assert.equal(w[2], 0);
  assert.ok(w.every(Number.isFinite));
});

test('grouped nDCG equals the evaluation metric, hidden relevant items included', () => {
  const rng = new Mt19937(5);
  const scores: number[] = [];
  const labels: number[] = [];
  const start = [0];
  const relevant: number[] = [];
  const expected: number[] = [];
  for (let g = 0; g < 50; g++) {
    const n = 1 + Math.floor(rng.nextDouble() * 30);
    const rows = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, score: Math.floor(rng.nextDouble() * 10), label: rng.nextDouble() < 0.2 ? 1 : 0 }));
    const hidden = Math.floor(rng.nextDouble() * 3);
    const rel = new Set([...rows.filter((r) => r.label).map((r) => r.id), ...Array.from({ length: hidden }, (_, h) => `hidden${h}`)]);
    for (const r of rows) {
      scores.push(r.score);
      labels.push(r.label);
    }
    start.push(scores.length);
    relevant.push(rel.size);
    // Ties keep row order, as a stable sort does.
    const ranked = rows
      .map((r, i) => ({ ...r, i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map((r) => r.id);
    expected.push(rel.size ? ndcgAtK(ranked, rel, 10) : 0);
  }
  const got = groupNdcg(scores, labels, { start: Uint32Array.from(start), relevant: Uint32Array.from(relevant) }, 10);
  got.forEach((v, g) => assert.ok(Math.abs(v - expected[g]) < 1e-12, `group ${g}: ${v} vs ${expected[g]}`));
});
