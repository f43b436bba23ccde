import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_EVENT_WEIGHTS } from '../../src/config.ts';
import { userSeeds } from '../../src/recommend/seeds.ts';

const options = (maxSeeds: number) => ({ maxSeeds, eventWeights: DEFAULT_EVENT_WEIGHTS });
// Both lists newest first, as the store reads them.
const history = {
  viewed: [
    { id: 'v2', at: 2000 },
    { id: 'b', at: 1000 },
  ],
  bought: ['z', 'b', 'c', 'a'],
};

test('userSeeds: recent views weigh as views, purchases as purchases, an item both viewed and bought as both', () => {
  assert.deepEqual([...userSeeds(history, true, options(10))].sort(), [
    ['a', 1],
    ['b', 1.25],
    ['c', 1],
    ['v2', 0.25],
    ['z', 1],
  ]);
});

test('userSeeds: without purchases, views only; at most maxSeeds, views first, then the latest purchases', () => {
  assert.deepEqual(
    [...userSeeds(history, false, options(10))],
    [
      ['v2', 0.25],
      ['b', 0.25],
    ],
  );
  // b, viewed and bought, is one seed: z and c fill the two places left.
  assert.deepEqual(
    [...userSeeds(history, true, options(4))],
    [
      ['v2', 0.25],
      ['b', 1.25],
      ['z', 1],
      ['c', 1],
    ],
  );
  assert.deepEqual(
    [...userSeeds(history, true, options(3))],
    [
      ['v2', 0.25],
      ['b', 1.25],
      ['z', 1],
    ],
  );
  assert.deepEqual([...userSeeds(history, true, options(1))], [['v2', 0.25]]);
});
