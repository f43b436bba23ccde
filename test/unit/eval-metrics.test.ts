import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision, averagePrecisionAtK, catalogCoverage, hitAtK, meanRankingMetrics, ndcgAtK, precisionAtK, recallAtK } from '../../src/eval/metrics.ts';

const close = (actual: number, expected: number, tol = 1e-4) => assert.ok(Math.abs(actual - expected) < tol, `${actual} != ${expected}`);

test('one user by hand: recommended a b c d, relevant b d e', () => {
  const rec = ['a', 'b', 'c', 'd'];
  const rel = new Set(['b', 'd', 'e']);
  assert.equal(precisionAtK(rec, rel, 3), 1 / 3);
  assert.equal(recallAtK(rec, rel, 3), 1 / 3);
  assert.equal(hitAtK(rec, rel, 1), 0);
  assert.equal(hitAtK(rec, rel, 2), 1);
  assert.equal(precisionAtK(rec, rel, 4), 0.5);
  assert.equal(precisionAtK(rec, rel, 10), 0.2, 'divided by k, not by the list length');
  // AP: hits at ranks 2 and 4 → (1/2 + 2/4) / 3 relevant
  assert.equal(averagePrecision(rec, rel, 4), 1 / 3);
  // nDCG@4: (1/ln 3 + 1/ln 5) / (1/ln 2 + 1/ln 3 + 1/ln 4) = 1.531574 / 3.074282
  close(ndcgAtK(rec, rel, 4), 0.498189);
  close(ndcgAtK(['b', 'd', 'e'], rel, 4), 1);
});

test('map vs map@k: normalised by |relevant| or by min(|relevant|, k)', () => {
  const rel = new Set(['b', 'd', 'e', 'f', 'g']);
  assert.equal(averagePrecision(['b', 'a'], rel, 2), 1 / 5);
  assert.equal(averagePrecisionAtK(['b', 'a'], rel, 2), 1 / 2);
});

// Microsoft Recommenders' unit-test fixture (tests/unit/recommenders/evaluation/conftest.py):
// rating_pred ranked by prediction per user, rating_true as relevant sets; expected values from
// test_python_evaluation.py: precision 0.26666, recall 0.37777, ndcg 0.38172, map 0.23613, map_at_k 0.23613.
const MSR = [
  { recommended: ['3', '10', '12'], relevant: new Set(['3', '1', '2']) },
  { recommended: ['10', '3', '5', '11', '13'], relevant: new Set(['1', '4', '5', '6', '7']) },
  {
    recommended: ['4', '10', '7', '13', '1', '3', '5', '2', '11', '14'],
    relevant: new Set(['2', '5', '6', '8', '9', '10', '11', '12', '13', '14']),
  },
];

test('Microsoft Recommenders fixture at k = 10', () => {
  const m = meanRankingMetrics(MSR, 10);
  assert.equal(m.users, 3);
  close(m.precision, 0.26666); // (1 + 1 + 6) / 10 / 3
  close(m.recall, 0.37777); // (1/3 + 1/5 + 6/10) / 3
  close(m.ndcg, 0.38172);
  close(m.map, 0.23613); // (1/3 + (1/3)/5 + (1/2 + 2/4 + 3/7 + 4/8 + 5/9 + 6/10)/10) / 3
  close(m.mapAtK, 0.23613);
  close(m.hitRate, 1);
});

test('Microsoft Recommenders fixture: truth as prediction, and no hits', () => {
  const perfect = MSR.map(({ relevant }) => ({ recommended: [...relevant], relevant }));
  const m = meanRankingMetrics(perfect, 10);
  close(m.precision, 0.6); // (3 + 5 + 10) / 30: short lists are penalised
  assert.deepEqual([m.recall, m.ndcg, m.map, m.mapAtK, m.hitRate], [1, 1, 1, 1, 1]);
  const none = meanRankingMetrics(
    MSR.map(({ relevant }) => ({ recommended: ['100'], relevant })),
    10,
  );
  assert.deepEqual([none.precision, none.recall, none.ndcg, none.map, none.hitRate], [0, 0, 0, 0, 0]);
});

test('catalog coverage: distinct recommended items over distinct train items (MSR fixture: 0.8)', () => {
  // train items 1..5; recommendations {3, 5}, {2, 5}, {1, 2}
  assert.equal(
    catalogCoverage(
      [
        ['3', '5'],
        ['2', '5'],
        ['1', '2'],
      ],
      10,
      5,
    ),
    0.8,
  );
  assert.equal(
    catalogCoverage(
      [
        ['3', '5'],
        ['2', '5'],
        ['1', '2'],
      ],
      1,
      5,
    ),
    0.6,
    'top k only',
  );
});
