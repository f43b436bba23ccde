// One seed is served straight from its stored list; that must be exactly what personalize()
// would rank, ties after the build's 6-digit rounding included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { fitItemKnn } from '../../src/cf/item-knn.ts';
import { collaborative } from '../../src/recommend/collaborative.ts';
import type { ModelView } from '../../src/recommend/types.ts';
import { personalize, slottedList, type SlottedList } from '../../src/cf/personalize.ts';
import { ItemSlots } from '../../src/store/redis/item-slots.ts';
import { packNeighbours, unpackNeighbours } from '../../src/store/redis/model-format.ts';

/** A seeded random basket set: small integers make many tied similarities. */
function baskets(seed: number) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const b = new InteractionsBuilder();
  for (let u = 0; u < 60; u++) for (let n = 0; n < 2 + Math.floor(next() * 6); n++) b.add(`u${u}`, `i${Math.floor(next() ** 2 * 40)}`, 1, 0);
  return b.build();
}

function storedModel(lists: Map<string, SlottedList>): ModelView {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    version: 1,
    builtAt: null,
    neighbours: async (items) => items.map((i) => lists.get(i) ?? slottedList([], [], [])),
    items: unused,
    lists: unused,
    repeat: null,
    blend: null,
    itemRepeats: unused,
  };
}

test('a single seed is served in the order personalize() ranks its stored list', async () => {
  for (const similarity of ['cooccurrence', 'cosine', 'lift'] as const) {
    const model = fitItemKnn(baskets(7), { similarity, k: 15 });
    const slots = new ItemSlots();
    const stored = new Map(model.itemIds.map((id, i) => [id, unpackNeighbours(packNeighbours(model, i), slots)]));
    let ties = 0;
    for (const [seed, list] of stored) {
      ties += Array.from(list.scores).filter((s, k) => k > 0 && s === list.scores[k - 1]).length;
      const exclude = new Set(list.ids.filter((_, k) => k % 3 === 1));
      for (const weight of [1, 0.25]) {
        const served = [...(await collaborative(storedModel(stored), new Map([[seed, weight]]), exclude, 100))];
        const ranked = personalize([{ item: seed, weight, neighbours: list }], { limit: 100, exclude });
        assert.deepEqual(
          served,
          ranked.map((r) => ({ id: r.item, score: r.score, because: r.because })),
          `${similarity} ${seed}`,
        );
      }
    }
    if (similarity === 'cooccurrence') assert.ok(ties > 20, `the fixture should have ties (${ties})`);
  }
});

test('stored lists are ordered by rounded score, then id', () => {
  const model = { itemIds: ['a', 'b', 'c', 'd'], offsets: Uint32Array.from([0, 3, 3, 3, 3]), neighbours: Uint32Array.from([3, 2, 1]), scores: Float32Array.from([0.30000001, 0.3, 0.2]) };
  // d and c tie at 6 digits: c, the smaller id, comes first.
  const slots = new ItemSlots();
  slots.slotOf('b');
  // Slots number ids in the version's order of first sight: b was seen before.
  assert.deepEqual(unpackNeighbours(packNeighbours(model, 0), slots), { ids: ['c', 'd', 'b'], scores: Float64Array.from([0.3, 0.3, 0.2]), slots: Int32Array.from([1, 2, 0]), slotBound: 3 });
});
