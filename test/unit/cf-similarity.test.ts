// The 4-user example used throughout (n = 4):
//   u1: A B C    u2: A B    u3: B C    u4: A D
// users per item: cA = 3, cB = 3, cC = 2, cD = 1
// co-occurrence:  AB = 2, AC = 1, AD = 1, BC = 2, BD = 0, CD = 0
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachCooccurrenceRow, itemRange, itemTotals } from '../../src/cf/cooccurrence.ts';
import { transpose, userItemMatrix } from '../../src/cf/csr.ts';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { logLikelihoodRatio, similarityFn } from '../../src/cf/similarity.ts';

function example() {
  const b = new InteractionsBuilder();
  const baskets: Record<string, string[]> = { u1: ['A', 'B', 'C'], u2: ['A', 'B'], u3: ['B', 'C'], u4: ['A', 'D'] };
  for (const [u, items] of Object.entries(baskets)) for (const i of items) b.add(u, i, 1, 0);
  return b.build();
}

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-6, `${actual} != ${expected}`);

test('co-occurrence rows of the example, diagonal included', () => {
  const m = userItemMatrix(example());
  const t = transpose(m);
  const rows: Record<string, Record<string, number>> = {};
  forEachCooccurrenceRow(m, t, itemRange(0, 4), false, (row) => {
    const out: Record<string, number> = {};
    for (let k = 0; k < row.length; k++) out['ABCD'[row.touched[k]]] = row.counts[row.touched[k]];
    rows['ABCD'[row.item]] = out;
  });
  assert.deepEqual(rows, {
    A: { A: 3, B: 2, C: 1, D: 1 },
    B: { A: 2, B: 3, C: 2 },
    C: { A: 1, B: 2, C: 2 },
    D: { A: 1, D: 1 },
  });
  assert.deepEqual([...itemTotals(t, false)], [3, 3, 2, 1]);
});

test('a row range is computed the same alone as within the whole', () => {
  const m = userItemMatrix(example());
  const t = transpose(m);
  const seen: string[] = [];
  forEachCooccurrenceRow(m, t, itemRange(1, 3), false, (row) => {
    const pairs = Array.from(row.touched.subarray(0, row.length))
      .sort()
      .map((j) => `${j}:${row.counts[j]}`);
    seen.push(`${row.item} ${pairs.join(' ')}`);
  });
  assert.deepEqual(seen, ['1 0:2 1:3 2:2', '2 0:1 1:2 2:2']);
});

test('weighted rows carry Σ w_ui·w_uj beside the binary counts', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'A', 2, 0);
  b.add('u1', 'B', 3, 0);
  b.add('u2', 'A', 1, 0);
  b.add('u2', 'B', 5, 0);
  const m = userItemMatrix(b.build());
  const t = transpose(m);
  forEachCooccurrenceRow(m, t, itemRange(0, 1), true, (row) => {
    assert.equal(row.counts[1], 2);
    assert.equal(row.dots[1], 2 * 3 + 1 * 5);
    assert.equal(row.dots[0], 2 * 2 + 1 * 1);
  });
  assert.deepEqual([...itemTotals(t, true)], [5, 34]);
});

test('cosine = cij / sqrt(ci·cj)', () => {
  const cos = similarityFn('cosine', 4);
  close(cos(2, 3, 3), 2 / 3); // AB
  close(cos(1, 3, 2), 0.40824829); // AC = 1/√6
  close(cos(1, 3, 1), 0.57735027); // AD = 1/√3
  close(cos(2, 3, 2), 0.81649658); // BC = 2/√6
});

test('jaccard = cij / (ci + cj - cij)', () => {
  const jac = similarityFn('jaccard', 4);
  close(jac(2, 3, 3), 0.5); // AB 2/4
  close(jac(1, 3, 2), 0.25); // AC 1/4
  close(jac(1, 3, 1), 1 / 3); // AD 1/3
  close(jac(2, 3, 2), 2 / 3); // BC 2/3
});

test('lift = n·c / (ci·cj) with c = cij − 3√cij, the low end of the Poisson interval of cij', () => {
  close(similarityFn('lift', 100)(16, 20, 40), 0.5); // c = 16 − 3·4 = 4 → 100·4 / 800 (raw lift would be 2)
  close(similarityFn('lift', 1000)(100, 200, 250), 1.4); // c = 100 − 30 = 70 → 1000·70 / 50000 (raw: 2)
  assert.equal(similarityFn('lift', 100)(9, 10, 10), 0, 'seen 9 times or fewer: no evidence');
  assert.equal(similarityFn('lift', 4)(2, 3, 3), 0); // AB of the example
});

test('raw co-occurrence is the count', () => {
  assert.equal(similarityFn('cooccurrence', 4)(2, 3, 3), 2);
});

// G² = 2 Σ O·ln(O/E) over the 2×2 table, worked out by hand:
//  AD: k = [1 2; 0 1], E = [0.75 2.25; 0.25 0.75]
//      2·(ln(1/0.75) + 2·ln(2/2.25) + ln(1/0.75)) = 2·(0.287682 − 0.235566 + 0.287682) = 0.679596
//  BC: k = [2 1; 0 1], E = [1.5 1.5; 0.5 0.5]
//      2·(2·ln(2/1.5) + ln(1/1.5) + ln(1/0.5)) = 2·(0.575364 − 0.405465 + 0.693147) = 1.726092
test('log-likelihood ratio matches G² computed by hand', () => {
  close(logLikelihoodRatio(1, 2, 0, 1), 0.679596);
  close(logLikelihoodRatio(2, 1, 0, 1), 1.726092);
  assert.equal(logLikelihoodRatio(5, 5, 5, 5), 0, 'independent table');
  close(logLikelihoodRatio(10, 0, 0, 10), 2 * 20 * Math.log(2)); // perfect association: 2·N·ln 2
  // The scorer's table of x·ln x gives the same value for whole-number counts.
  close(similarityFn('llr', 20)(10, 10, 10), 2 * 20 * Math.log(2));
});

test('llr similarity keeps positive association only', () => {
  const llr = similarityFn('llr', 4);
  close(llr(1, 3, 1), 0.679596); // AD: seen 1, expected 0.75
  close(llr(2, 3, 2), 1.726092); // BC: seen 2, expected 1.5
  // AB: seen 2, expected 2.25 — G² is 0.679596 here too, but for a negative association.
  close(logLikelihoodRatio(2, 1, 1, 0), 0.679596);
  assert.equal(llr(2, 3, 3), 0);
});
