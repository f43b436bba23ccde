import assert from 'node:assert/strict';
import { test } from 'node:test';
import { affinity } from '../../src/cf/affinity.ts';
import { personalize, type Seed } from '../../src/cf/personalize.ts';

const DAY = 86_400;

// A (weight 2): X 0.5, Y 0.4, B 0.9      B (weight 1): Y 0.6, A 0.3, Z 0.1
//   X = 2·0.5 = 1.0 (only from A)
//   Y = 2·0.4 + 1·0.6 = 1.4 (0.8 from A > 0.6 from B → because A)
//   A, B are seeds, Z is excluded.
const seeds: Seed[] = [
  { item: 'A', weight: 2, neighbours: { ids: ['X', 'Y', 'B'], scores: [0.5, 0.4, 0.9] } },
  { item: 'B', weight: 1, neighbours: { ids: ['Y', 'A', 'Z'], scores: [0.6, 0.3, 0.1] } },
];

test('scores are Σ weight·similarity; seeds and excluded items never come back', () => {
  const recs = personalize(seeds, { limit: 10, exclude: new Set(['Z']) });
  assert.deepEqual(recs.map((r) => r.item), ['Y', 'X']);
  assert.ok(Math.abs(recs[0].score - 1.4) < 1e-12);
  assert.equal(recs[1].score, 1);
  assert.deepEqual(recs.map((r) => r.because), ['A', 'A']);
  assert.deepEqual(personalize(seeds, { limit: 10 }).map((r) => r.item), ['Y', 'X', 'Z']);
  assert.deepEqual(personalize(seeds, { limit: 1 }).map((r) => r.item), ['Y']);
});

test('because names the seed with the largest contribution', () => {
  const recs = personalize(
    [
      { item: 'A', weight: 1, neighbours: { ids: ['Y'], scores: [0.2] } },
      { item: 'B', weight: 3, neighbours: { ids: ['Y'], scores: [0.2] } },
    ],
    { limit: 5 },
  );
  assert.deepEqual(recs, [{ item: 'Y', score: 0.2 + 0.6000000000000001, because: 'B' }]);
});

test('ties: equal scores → smaller item id; equal contributions → smaller seed id; seed order irrelevant', () => {
  const tied: Seed[] = [
    { item: 'S2', weight: 1, neighbours: { ids: ['q', 'p'], scores: [0.5, 0.5] } },
    { item: 'S1', weight: 1, neighbours: { ids: ['p', 'r'], scores: [0.5, 1] } },
  ];
  const expected = [
    { item: 'p', score: 1, because: 'S1' },
    { item: 'r', score: 1, because: 'S1' },
    { item: 'q', score: 0.5, because: 'S2' },
  ];
  assert.deepEqual(personalize(tied, { limit: 10 }), expected);
  assert.deepEqual(personalize([...tied].reverse(), { limit: 10 }), expected);
});

test('no seeds, or only non-positive contributions, give nothing', () => {
  assert.deepEqual(personalize([], { limit: 10 }), []);
  assert.deepEqual(personalize([{ item: 'A', weight: 0, neighbours: { ids: ['B'], scores: [1] } }], { limit: 10 }), []);
});

test('affinity: summed decayed weights (SAR), or 1 per item decayed by its latest event', () => {
  const now = 100 * DAY;
  const events = [
    { item: 'A', weight: 1, ts: now },
    { item: 'A', weight: 2, ts: now - 10 * DAY }, // 2 · 1/2
    { item: 'B', weight: 1, ts: now - 20 * DAY }, // 1/4
  ];
  assert.deepEqual([...affinity(events, { now, halfLifeDays: 10 })], [['A', 2], ['B', 0.25]]);
  assert.deepEqual([...affinity(events, { now, halfLifeDays: 10, binary: true })], [['A', 1], ['B', 0.25]]);
  assert.deepEqual([...affinity(events, { now, halfLifeDays: 0 })], [['A', 3], ['B', 1]]);
});
