import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { userSample } from '../../jobs/lib/simulate-data.ts';
import { hits, recentItems, visitors } from '../../jobs/lib/simulate-visitors.ts';

const at = (iso: string) => new Date(iso);

describe('replay visitors', () => {
  test("a visitor's next basket is their first day back, one line per item, quantities added", () => {
    const v = visitors([
      { user: 'u2', item: 'x', quantity: 1, price: 2, at: at('2011-10-05T10:00:00Z') },
      { user: 'u1', item: 'a', quantity: 2, price: 1.5, at: at('2011-10-03T09:00:00Z') },
      { user: 'u1', item: 'b', quantity: 1, price: 4, at: at('2011-10-03T17:00:00Z') },
      { user: 'u1', item: 'a', quantity: 3, price: 1.4, at: at('2011-10-03T18:00:00Z') },
      { user: 'u1', item: 'c', quantity: 9, price: 1, at: at('2011-10-09T09:00:00Z') },
      { user: 'u2', item: 'y', quantity: 1, price: null, at: at('2011-10-04T10:00:00Z') },
    ]);
    assert.deepEqual(v, [
      {
        user: 'u1',
        basket: [
          { item: 'a', quantity: 5, price: 1.5 },
          { item: 'b', quantity: 1, price: 4 },
        ],
      },
      { user: 'u2', basket: [{ item: 'y', quantity: 1, price: null }] },
    ]);
  });

  test("hits: the block's items the visitor bought, with their place and link; items without a link never count", () => {
    const block = [
      { id: 'q', position: 1, link: 'https://r/1' },
      { id: 'b', position: 2, link: 'https://r/2' },
      { id: 'a', position: 3, link: null },
      { id: 'z', position: 4, link: 'https://r/4' },
    ];
    assert.deepEqual(
      hits(block, [
        { item: 'a', quantity: 5, price: 1.5 },
        { item: 'b', quantity: 1, price: 4 },
      ]),
      [{ item: 'b', quantity: 1, price: 4, position: 2, link: 'https://r/2' }],
    );
    assert.deepEqual(hits(block, []), []);
  });

  test('recent items: newest first, ties by id, capped', () => {
    const last = new Map([
      ['a', 10],
      ['b', 30],
      ['c', 30],
      ['d', 20],
    ]);
    assert.deepEqual(recentItems(last, 3), [
      { item: 'b', at: 30 },
      { item: 'c', at: 30 },
      { item: 'd', at: 20 },
    ]);
    assert.deepEqual(recentItems(undefined, 3), []);
  });

  test('user sampling is stable and about 1 in n', () => {
    const keep = userSample(10);
    const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const kept = users.filter(keep).length;
    assert.ok(kept > 850 && kept < 1150, `${kept}`);
    assert.deepEqual(users.filter(keep), users.filter(userSample(10)));
    assert.equal(users.filter(userSample(1)).length, users.length);
  });
});
