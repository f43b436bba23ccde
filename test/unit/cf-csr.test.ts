import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transpose, userItemMatrix } from '../../src/cf/csr.ts';
import { decayFactor } from '../../src/cf/decay.ts';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';

const DAY = 86_400;

test('duplicates of a (user, item) are summed; columns ascend within a row', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'c', 1, 0);
  b.add('u1', 'a', 1, 0);
  b.add('u3', 'b', 2, 0);
  b.add('u1', 'c', 3, 0);
  const m = userItemMatrix(b.build());
  assert.equal(m.nRows, 2);
  assert.deepEqual([...m.indptr], [0, 2, 3]);
  assert.deepEqual([...m.indices], [0, 2, 1]); // u1: a, c; u3: b
  assert.deepEqual([...m.values], [1, 4, 2]);
});

test('time decay halves a weight every half-life (SAR: w · 2^(-(now - t)/T))', () => {
  assert.equal(decayFactor(100, 100, 10), 1);
  assert.equal(decayFactor(90, 100, 10), 0.5);
  assert.equal(decayFactor(80, 100, 10), 0.25);
  assert.equal(decayFactor(200, 100, 10), 1, 'events after now are not boosted');
  assert.equal(decayFactor(0, 100, 0), 1, 'half-life 0 disables decay');

  const now = 1_000 * DAY;
  const b = new InteractionsBuilder();
  b.add('u', 'a', 1, now); // 1
  b.add('u', 'a', 2, now - 30 * DAY); // 2 · 1/2 = 1
  b.add('u', 'b', 4, now - 60 * DAY); // 4 · 1/4 = 1
  b.add('u', 'b', 1, now - 90 * DAY); // 1/8
  const m = userItemMatrix(b.build(), { halfLifeDays: 30, now });
  assert.deepEqual([...m.values], [2, 1.125]);
  const max = userItemMatrix(b.build(), { halfLifeDays: 30, now, combine: 'max' });
  assert.deepEqual([...max.values], [1, 1]);
  assert.throws(() => userItemMatrix(b.build(), { halfLifeDays: 30 }), /needs `now`/);
});

test('users without events (test-only ids) have empty rows', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'a', 1, 0);
  b.add('u2', 'b', 1, 0);
  b.add('u3', 'a', 1, 0);
  const x = b.build();
  const m = userItemMatrix({ ...x, users: Uint32Array.of(0, 2), items: Uint32Array.of(0, 0), weights: Float32Array.of(1, 1), times: Float64Array.of(0, 0) });
  assert.deepEqual([...m.indptr], [0, 1, 1, 2]);
});

test('transpose gives item → users with ascending users', () => {
  const b = new InteractionsBuilder();
  b.add('u2', 'a', 5, 0);
  b.add('u1', 'b', 6, 0);
  b.add('u1', 'a', 7, 0);
  const t = transpose(userItemMatrix(b.build()));
  assert.equal(t.nRows, 2);
  assert.equal(t.nCols, 2);
  assert.deepEqual([...t.indptr], [0, 2, 3]);
  assert.deepEqual([...t.indices], [0, 1, 0]); // a: u1, u2; b: u1
  assert.deepEqual([...t.values], [7, 5, 6]);
});
