import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SortAll, TopK } from '../../src/cf/topk.ts';

function drain(top: TopK): [number[], number[]] {
  const idx = new Uint32Array(top.size);
  const val = new Float64Array(top.size);
  top.drainInto(idx, val, 0);
  return [[...idx], [...val]];
}

test('keeps the K best, best first', () => {
  const top = new TopK(3);
  [
    [0, 0.1],
    [1, 0.9],
    [2, 0.5],
    [3, 0.7],
    [4, 0.2],
    [5, 0.95],
  ].forEach(([i, s]) => top.push(i, s));
  assert.deepEqual(drain(top), [
    [5, 1, 3],
    [0.95, 0.9, 0.7],
  ]);
  assert.equal(top.size, 0, 'drained');
});

test('equal scores: the smaller index wins, whatever the push order', () => {
  for (const order of [
    [4, 2, 7, 1],
    [1, 7, 2, 4],
    [7, 4, 1, 2],
  ]) {
    const top = new TopK(2);
    for (const i of order) top.push(i, 0.5);
    top.push(9, 0.4);
    assert.deepEqual(drain(top)[0], [1, 2], `order ${order}`);
  }
  const top = new TopK(3);
  top.push(8, 0.5);
  top.push(3, 0.9);
  top.push(5, 0.5);
  top.push(2, 0.5);
  assert.deepEqual(drain(top), [
    [3, 2, 5],
    [0.9, 0.5, 0.5],
  ]);
});

test('fewer candidates than K, and K = 0', () => {
  const top = new TopK(5);
  top.push(3, 1);
  top.push(1, 2);
  assert.deepEqual(drain(top), [
    [1, 3],
    [2, 1],
  ]);
  const none = new TopK(0);
  none.push(1, 1);
  assert.equal(none.size, 0);
});

test('drainInto writes at an offset and a random stream matches a full sort', () => {
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const scores = Array.from({ length: 1000 }, () => Math.floor(rand() * 50) / 50);
  const top = new TopK(20);
  scores.forEach((s, i) => top.push(i, s));
  const idx = new Uint32Array(25);
  const val = new Float32Array(25);
  assert.equal(top.drainInto(idx, val, 5), 20);
  const expected = scores
    .map((s, i) => [s, i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, 20)
    .map(([, i]) => i);
  assert.deepEqual([...idx.subarray(5)], expected);
});

test('SortAll drains every pair in the order TopK does: ties, near ties, skew, infinities, reuse', () => {
  let seed = 3;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const draws: Record<string, () => number> = {
    ties: () => (1 + Math.floor(rand() * 8)) / 8, // few distinct scores: large tie groups
    spread: () => 1 + rand() * 100,
    // Distinct as doubles, equal as Float32: they must be ordered by the double.
    nearTies: () => 0.5 + Math.floor(rand() * 4) * 1e-12,
    equal: () => 0.25,
    infinite: () => (rand() < 0.1 ? Infinity : rand() + 1e-300),
    // Most near 0, a few large: skewed, as similarities are.
    skewed: () => rand() ** 8 + Number.MIN_VALUE,
  };
  const all = new SortAll(300);
  for (const [kind, draw] of Object.entries(draws)) {
    for (const n of [0, 1, 2, 17, 300]) {
      const order = Array.from({ length: n }, (_, i) => i * 3).sort(() => rand() - 0.5); // shuffled indices
      const pairs = order.map((index) => [index, draw()]);
      const top = new TopK(n);
      for (const [i, s] of pairs) {
        top.push(i, s);
        all.push(i, s);
      }
      assert.equal(all.size, n);
      const want: [Uint32Array, Float32Array] = [new Uint32Array(n + 2), new Float32Array(n + 2)];
      const got: [Uint32Array, Float32Array] = [new Uint32Array(n + 2), new Float32Array(n + 2)];
      assert.equal(top.drainInto(want[0], want[1], 2), n);
      assert.equal(all.drainInto(got[0], got[1], 2), n);
      assert.deepEqual(got, want, `${kind}, n = ${n}`);
      assert.equal(all.size, 0, 'drained');
    }
  }
  assert.throws(() => all.push(1, 0), /scores > 0/);
  assert.throws(() => all.push(1, NaN), /scores > 0/);
  assert.throws(() => {
    for (let i = 0; i <= 300; i++) all.push(i, 1);
  }, /up to 300 pairs/);
});
