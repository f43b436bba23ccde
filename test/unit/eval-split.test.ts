import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder, type Interactions } from '../../src/cf/interactions.ts';
import { Mt19937 } from '../../src/eval/random.ts';
import { chronoSplit, cutoffSplit, stratifiedSplit } from '../../src/eval/split.ts';

test("Mt19937 draws NumPy's np.random.rand() values", () => {
  const rng = new Mt19937(42); // np.random.seed(42); np.random.rand(3)
  assert.deepEqual([rng.nextDouble(), rng.nextDouble(), rng.nextDouble()], [0.3745401188473625, 0.9507143064099162, 0.7319939418114051]);
  assert.equal(new Mt19937(0).nextDouble(), 0.5488135039273248);
});

// Rows of users a (5 rows), b (2), c (10), in this order; times = row number.
const USERS = ['a', 'a', 'a', 'a', 'b', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'c', 'a', 'b'];
function rows(times = USERS.map((_, r) => r)): Interactions {
  const b = new InteractionsBuilder();
  USERS.forEach((u, r) => b.add(u, `i${r}`, 1, times[r]));
  return b.build();
}

test('stratified split is MSR python_stratified_split, row for row', () => {
  // Expected rows from MSR's algorithm run with NumPy: np.random.seed(42), rand per row,
  // sort each user's rows by it, train where rank / count <= 0.75.
  const s = stratifiedSplit(rows());
  assert.deepEqual([...s.train], [0, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15]);
  assert.deepEqual([...s.test], [1, 2, 7, 11, 12, 16]);
  const seven = stratifiedSplit(rows(), { seed: 7 });
  assert.deepEqual([...seven.train], [0, 2, 3, 6, 7, 8, 9, 12, 13, 14, 16]);
});

test('stratified split: per-user ratio, deterministic, min_rating filter', () => {
  const x = rows();
  assert.deepEqual(stratifiedSplit(x, { seed: 5 }), stratifiedSplit(x, { seed: 5 }));
  const s = stratifiedSplit(x, { ratio: 0.5, seed: 1 });
  const trainOf = (u: string) => [...s.train].filter((r) => USERS[r] === u).length;
  assert.deepEqual([trainOf('a'), trainOf('b'), trainOf('c')], [2, 1, 5]); // floor(0.5·n): 5 → 2, 2 → 1, 10 → 5
  const filtered = stratifiedSplit(x, { minRating: 3 });
  assert.equal(filtered.train.length + filtered.test.length, 15, "b's 2 rows are dropped");
  assert.ok(![...filtered.train, ...filtered.test].some((r) => USERS[r] === 'b'));
  assert.throws(() => stratifiedSplit(x, { ratio: 1 }), /between 0 and 1/);
});

test("chronological split sends each user's latest rows to test", () => {
  // Reverse time: a user's first rows are their latest.
  const x = rows(USERS.map((_, r) => 1000 - r));
  const s = chronoSplit(x, { ratio: 0.8 });
  // a: rows 0,1,2,3,15 → oldest first 15,3,2,1,0 → 4/5 to train, latest (row 0) to test
  // b: rows 4,16 → 16 (older) to train, 4 to test; c: rows 5..14 → 8 oldest (7..14) to train
  assert.deepEqual([...s.test], [0, 4, 5, 6]);
  for (const r of s.test) {
    assert.ok(
      [...s.train].every((t) => USERS[t] !== USERS[r] || x.times[t] <= x.times[r]),
      `row ${r} is a user's latest`,
    );
  }
});

test('chronological split keeps row order for equal times', () => {
  const s = chronoSplit(rows(USERS.map(() => 5)), { ratio: 0.8 });
  assert.deepEqual([...s.test], [13, 14, 15, 16]); // a: 15; b: 16; c: 13, 14
});

test('cut-off split: strictly before to train', () => {
  const s = cutoffSplit(rows(), 10);
  assert.deepEqual([...s.train], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...s.test], [10, 11, 12, 13, 14, 15, 16]);
});
