import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { occasionsOf } from '../../src/cf/repeat/occasions.ts';
import { basketWeights, meanVector, tifuScores, tifuVector, userNeighbours, userVectors } from '../../src/cf/repeat/tifu.ts';
import { fitTifu } from '../../src/cf/repeat/tifu-fit.ts';
import { Mt19937 } from '../../src/eval/random.ts';

const DAY = 86_400;
const close = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-12, `${i}: ${a[i]} vs ${v}`));

test('basket weights: groups of near-equal size (the later ones larger), decayed within and across', () => {
  // 5 baskets in groups of 2 → 3 groups sized 1, 2, 2.
  close(basketWeights(5, { groupSize: 2, withinDecay: 0.5, acrossDecay: 0.5 }), [0.25 / 3, ((0.5 / 3) * 0.5) / 2, 0.5 / 3 / 2, ((1 / 3) * 0.5) / 2, 1 / 3 / 2]);
  // No decay and one group: the plain mean of the baskets.
  close(basketWeights(4, { groupSize: 10, withinDecay: 1, acrossDecay: 1 }), [0.25, 0.25, 0.25, 0.25]);
});

test('user vector: each item sums the weights of its baskets', () => {
  const o = occasionsOf([
    { item: 'a', ts: 0 },
    { item: 'b', ts: 0 },
    { item: 'a', ts: DAY },
    { item: 'c', ts: 2 * DAY },
  ]);
  const p = { groupSize: 3, withinDecay: 0.5, acrossDecay: 1 };
  const w = basketWeights(3, p);
  assert.deepEqual(
    [...tifuVector(o, p)],
    [
      ['a', w[0] + w[1]],
      ['b', w[0]],
      ['c', w[2]],
    ],
  );
});

test('nearest users: the same as brute-force Euclidean distance, also for users sharing no item', () => {
  const rng = new Mt19937(9);
  const b = new InteractionsBuilder();
  for (let u = 0; u < 60; u++) {
    const n = 1 + Math.floor(rng.nextDouble() * 6);
    for (let e = 0; e < n; e++) b.add(`u${String(u).padStart(2, '0')}`, `i${Math.floor(rng.nextDouble() * 40)}`, 1, Math.floor(rng.nextDouble() * 20) * DAY);
  }
  const x = b.build();
  const v = userVectors(x, { groupSize: 2, withinDecay: 0.8, acrossDecay: 0.6 });
  const dense = Array.from({ length: x.userIds.length }, (_, u) => {
    const row = new Float64Array(x.itemIds.length);
    for (let e = v.indptr[u]; e < v.indptr[u + 1]; e++) row[v.indices[e]] = v.values[e];
    return row;
  });
  const k = 7;
  const nearest = userNeighbours(v);
  for (let u = 0; u < dense.length; u++) {
    const expected = dense
      .map((row, w) => ({ w, d: row.reduce((s, value, i) => s + (value - dense[u][i]) ** 2, 0) }))
      .filter(({ w }) => w !== u)
      .sort((a, b) => a.d - b.d || a.w - b.w)
      .slice(0, k);
    const got = [...nearest(u, k)];
    assert.equal(got.length, expected.length);
    // Equal distances may come in either order only when they are equal to rounding.
    got.forEach((w, r) => {
      const d = dense[w].reduce((s, value, i) => s + (value - dense[u][i]) ** 2, 0);
      assert.ok(Math.abs(d - expected[r].d) < 1e-12, `user ${u} rank ${r}`);
    });
  }
});

test('scores: α · own + (1 − α) · neighbours, ties by smaller id', () => {
  const itemIds = ['a', 'b', 'c', 'd'];
  const neighbourMean = new Map([
    [1, 0.6],
    [2, 0.2],
    [3, 0.4],
  ]);
  const own = new Map([
    ['a', 0.6],
    ['c', 0.5],
  ]);
  assert.deepEqual(tifuScores(own, neighbourMean, itemIds, 0.5), [
    { item: 'c', score: 0.35 },
    { item: 'a', score: 0.3 },
    { item: 'b', score: 0.3 },
    { item: 'd', score: 0.2 },
  ]);
  const mean = meanVector({ userIds: [], itemIds, indptr: Uint32Array.of(0, 1, 3), indices: Uint32Array.of(0, 0, 2), values: Float64Array.of(1, 3, 2) }, [0, 1]);
  assert.deepEqual(
    [...mean],
    [
      [0, 2],
      [2, 1],
    ],
  );
});

/**
 * Two tastes: each basket holds one item of the user's taste and two one-off items; the next
 * basket holds taste items only. The user's own vector cannot tell taste from noise, the
 * neighbours' can: the fit must give the neighbours weight (α < 1).
 */
test('fit on validation: neighbours weighted in when they carry the signal', () => {
  const rng = new Mt19937(4);
  const b = new InteractionsBuilder();
  for (let u = 0; u < 80; u++) {
    const taste = u % 2;
    for (let basket = 0; basket < 6; basket++) {
      b.add(`u${u}`, `t${taste}-${Math.floor(rng.nextDouble() * 30)}`, 1, basket * DAY);
      for (let e = 0; e < 2; e++) b.add(`u${u}`, basket === 5 ? `t${taste}-${Math.floor(rng.nextDouble() * 30)}` : `noise${Math.floor(rng.nextDouble() * 1000)}`, 1, basket * DAY);
    }
  }
  const x = b.build();
  const lastBasket = (y: typeof x) => {
    const train: number[] = [];
    const test: number[] = [];
    y.times.forEach((t, r) => (t === 5 * DAY ? test : train).push(r));
    return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
  };
  const grid = { groupSize: [2, 6], withinDecay: [1], acrossDecay: [1], neighbours: [5, 20], alpha: [0, 0.5, 1] };
  const fit = fitTifu(x, { split: lastBasket, grid, rounds: 1 });
  assert.ok(fit.params.alpha < 1, JSON.stringify(fit.params));
  assert.ok(fit.ndcg > 0);
  // The start, then each grid value of one parameter at a time: 1 + 2 group sizes + 1 + 1 decays.
  assert.equal(fit.tried.length, 5);
});
