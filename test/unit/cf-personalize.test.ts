import assert from 'node:assert/strict';
import { test } from 'node:test';
import { affinity } from '../../src/cf/affinity.ts';
import { personalize, slottedList, type Recommendation, type Seed, type SlottedList } from '../../src/cf/personalize.ts';

const DAY = 86_400;

// Slots as a store numbers them: first seen, first numbered, shared by every list.
const slotOf = new Map<string, number>();
function list(ids: string[], scores: number[]): SlottedList {
  return slottedList(
    ids,
    scores,
    ids.map((id) => slotOf.get(id) ?? slotOf.set(id, slotOf.size).get(id)!),
  );
}

// A (weight 2): X 0.5, Y 0.4, B 0.9      B (weight 1): Y 0.6, A 0.3, Z 0.1
//   X = 2·0.5 = 1.0 (only from A)
//   Y = 2·0.4 + 1·0.6 = 1.4 (0.8 from A > 0.6 from B → because A)
//   A, B are seeds, Z is excluded.
const seeds: Seed[] = [
  { item: 'A', weight: 2, neighbours: list(['X', 'Y', 'B'], [0.5, 0.4, 0.9]) },
  { item: 'B', weight: 1, neighbours: list(['Y', 'A', 'Z'], [0.6, 0.3, 0.1]) },
];

test('scores are Σ weight·similarity; seeds and excluded items never come back', () => {
  const recs = personalize(seeds, { limit: 10, exclude: new Set(['Z']) });
  assert.deepEqual(
    recs.map((r) => r.item),
    ['Y', 'X'],
  );
  assert.ok(Math.abs(recs[0].score - 1.4) < 1e-12);
  assert.equal(recs[1].score, 1);
  assert.deepEqual(
    recs.map((r) => r.because),
    ['A', 'A'],
  );
  assert.deepEqual(
    personalize(seeds, { limit: 10 }).map((r) => r.item),
    ['Y', 'X', 'Z'],
  );
  assert.deepEqual(
    personalize(seeds, { limit: 1 }).map((r) => r.item),
    ['Y'],
  );
});

test('an unbounded limit (a filter that may reject any candidate asks for all) returns every candidate', () => {
  assert.deepEqual(
    personalize(seeds, { limit: Infinity, exclude: new Set(['Z']) }).map((r) => r.item),
    ['Y', 'X'],
  );
});

test('because names the seed with the largest contribution', () => {
  const recs = personalize(
    [
      { item: 'A', weight: 1, neighbours: list(['Y'], [0.2]) },
      { item: 'B', weight: 3, neighbours: list(['Y'], [0.2]) },
    ],
    { limit: 5 },
  );
  assert.deepEqual(recs, [{ item: 'Y', score: 0.2 + 0.6000000000000001, because: 'B' }]);
});

test('ties: equal scores → smaller item id; equal contributions → smaller seed id; seed order irrelevant', () => {
  const tied: Seed[] = [
    { item: 'S2', weight: 1, neighbours: list(['q', 'p'], [0.5, 0.5]) },
    { item: 'S1', weight: 1, neighbours: list(['p', 'r'], [0.5, 1]) },
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
  assert.deepEqual(personalize([{ item: 'A', weight: 0, neighbours: list(['B'], [1]) }], { limit: 10 }), []);
});

/** The definition, the slow way: every candidate scored in a map, all of them sorted. */
function reference(seeds: readonly Seed[], limit: number, exclude: ReadonlySet<string>): Recommendation[] {
  const ordered = [...seeds].sort((a, b) => (a.item < b.item ? -1 : 1));
  const found = new Map<string, { score: number; best: number; because: string }>();
  for (const seed of ordered) {
    seed.neighbours.ids.forEach((id, k) => {
      const contribution = seed.weight * seed.neighbours.scores[k];
      const entry = found.get(id) ?? found.set(id, { score: 0, best: -Infinity, because: '' }).get(id)!;
      entry.score += contribution;
      if (contribution > entry.best) Object.assign(entry, { best: contribution, because: seed.item });
    });
  }
  const seedIds = new Set(seeds.map((seed) => seed.item));
  return [...found]
    .filter(([id, e]) => e.score > 0 && !seedIds.has(id) && !exclude.has(id))
    .sort(([a, x], [b, y]) => y.score - x.score || (a < b ? -1 : 1))
    .slice(0, limit)
    .map(([item, e]) => ({ item, score: e.score, because: e.because }));
}

test('matches the definition on random lists: ties, seeds among the neighbours, heavy exclusions', () => {
  let state = 42;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const catalog = Array.from({ length: 300 }, (_, i) => `i${i}`);
  const pick = () => catalog[Math.floor(next() ** 2 * catalog.length)];
  const lists = new Map(
    catalog.map((id) => {
      const ids = [...new Set(Array.from({ length: 1 + Math.floor(next() * 40) }, pick))];
      // Few distinct values: many tied scores; some negative (EASE weights can be).
      return [
        id,
        list(
          ids,
          ids.map(() => Math.round(next() * 8 - 1) / 4),
        ),
      ];
    }),
  );
  for (let round = 0; round < 400; round++) {
    const seedIds = [...new Set(Array.from({ length: 1 + Math.floor(next() * 20) }, pick))];
    const seeds = seedIds.map((item) => ({ item, weight: Math.ceil(next() * 3), neighbours: lists.get(item)! }));
    // Up to most of the popular items excluded: many candidates good enough for the list are not allowed in it.
    const exclude = new Set(Array.from({ length: Math.floor(next() * 150) }, pick));
    const limit = 1 + Math.floor(next() * 30);
    assert.deepEqual(personalize(seeds, { limit, exclude }), reference(seeds, limit, exclude), `round ${round}`);
  }
});

test('affinity: summed decayed weights (SAR), or 1 per item decayed by its latest event', () => {
  const now = 100 * DAY;
  const events = [
    { item: 'A', weight: 1, ts: now },
    { item: 'A', weight: 2, ts: now - 10 * DAY }, // 2 · 1/2
    { item: 'B', weight: 1, ts: now - 20 * DAY }, // 1/4
  ];
  assert.deepEqual(
    [...affinity(events, { now, halfLifeDays: 10 })],
    [
      ['A', 2],
      ['B', 0.25],
    ],
  );
  assert.deepEqual(
    [...affinity(events, { now, halfLifeDays: 10, binary: true })],
    [
      ['A', 1],
      ['B', 0.25],
    ],
  );
  assert.deepEqual(
    [...affinity(events, { now, halfLifeDays: 0 })],
    [
      ['A', 3],
      ['B', 1],
    ],
  );
});
