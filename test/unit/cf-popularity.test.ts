import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { itemPopularity, rankByGroup, rankItems } from '../../src/cf/popularity.ts';

const DAY = 86_400;

function data() {
  const b = new InteractionsBuilder();
  for (let i = 0; i < 50; i++) b.add('wholesaler', 'a', 1, 0); // one user, 50 orders: counts once
  b.add('u1', 'b', 1, 0);
  b.add('u2', 'b', 0.25, 0); // a view
  b.add('u2', 'b', 1, 0); // and a purchase: the stronger event counts
  b.add('u3', 'c', 1, 0);
  b.add('u4', 'c', 1, 0);
  b.add('u1', 'd', 1, 0);
  return b.build();
}

test('popularity: distinct users, each at their strongest event', () => {
  assert.deepEqual([...itemPopularity(data())], [1, 2, 2, 1]);
});

test('decayed popularity favours recent users', () => {
  const b = new InteractionsBuilder();
  b.add('u1', 'old', 1, 0);
  b.add('u2', 'old', 1, 0);
  b.add('u3', 'new', 1, 30 * DAY);
  const pop = itemPopularity(b.build(), { halfLifeDays: 10, now: 30 * DAY });
  assert.deepEqual([...pop], [1, 0.25]); // new: 1; old: 2 · 2^-3
});

test('rankings: most popular first, ties by smaller id, zero left out', () => {
  const x = data();
  const pop = itemPopularity(x);
  assert.deepEqual(rankItems(pop, x.itemIds), { ids: ['b', 'c', 'a', 'd'], scores: [2, 2, 1, 1] });
  assert.deepEqual(rankItems(pop, x.itemIds, 2).ids, ['b', 'c']);
  assert.deepEqual(rankItems(Float64Array.of(0, 1, 0, 0), x.itemIds).ids, ['b']);
  const groups = rankByGroup(
    pop,
    x.itemIds,
    new Map([
      ['a', 'acme'],
      ['c', 'acme'],
      ['d', 'zed'],
    ]),
  );
  assert.deepEqual(
    [...groups],
    [
      ['acme', { ids: ['c', 'a'], scores: [2, 1] }],
      ['zed', { ids: ['d'], scores: [1] }],
    ],
  );
});
