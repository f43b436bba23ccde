import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeRanked } from '../../src/recommend/merge.ts';

const list = (...pairs: [string, number][]) => ({ ids: pairs.map((p) => p[0]), scores: pairs.map((p) => p[1]) });

test("merges ranked lists by score, equal scores by smaller id, tagging each item with its list's seed", () => {
  const merged = [...mergeRanked([list(['x', 5], ['b', 2], ['d', 1]), list(['y', 4], ['a', 2], ['c', 1])], ['s1', 's2'])];
  assert.deepEqual(merged, [
    { id: 'x', score: 5, because: 's1' },
    { id: 'y', score: 4, because: 's2' },
    { id: 'a', score: 2, because: 's2' },
    { id: 'b', score: 2, because: 's1' },
    { id: 'c', score: 1, because: 's2' },
    { id: 'd', score: 1, because: 's1' },
  ]);
});

test('without seeds there is no `because`; skipped ids are left out; no lists, no items', () => {
  assert.deepEqual(
    [...mergeRanked([list(['a', 3], ['b', 2], ['c', 1])], [], new Set(['b']))],
    [
      { id: 'a', score: 3 },
      { id: 'c', score: 1 },
    ],
  );
  assert.deepEqual([...mergeRanked([])], []);
  assert.deepEqual([...mergeRanked([list(), list(['a', 1])])], [{ id: 'a', score: 1 }]);
});

test('is lazy: taking the first items reads no further', () => {
  const scores = new Proxy([9, 8, 7], {
    get: (t, k) => {
      if (k === '2') throw new Error('read too far');
      return Reflect.get(t, k);
    },
  });
  const it = mergeRanked([{ ids: ['a', 'b', 'c'], scores }]);
  assert.equal(it.next().value?.id, 'a');
});
