// recommend(), the fallback chain and the degraded path over a model in memory
// (src/model/memory-store.ts): the serving logic without Redis.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NeighbourLists } from '../../src/cf/neighbours.ts';
import type { ModelData } from '../../src/model/model.ts';
import { recommendWithin } from '../../src/recommend/degraded.ts';
import { MemoryRecStore } from '../../src/model/memory-store.ts';
import { recommend, type RecRequest } from '../../src/recommend/recommend.ts';
import type { CatalogFields, UserHistory } from '../../src/recommend/types.ts';

const item = (id: string, brand: string | null, category: string | null): CatalogFields => ({
  id,
  title: `Item ${id}`,
  brand,
  category,
  price: 10,
  currency: 'EUR',
  url: null,
  image_url: null,
  in_stock: true,
});
// a1 → a2 0.9, b1 0.5; a2 → a1 0.9. Brands A (a1 a2 a3), B (b1 b2); categories k (a*, k9), t (b*); c9 and k9 have no brand.
const ids = ['a1', 'a2', 'a3', 'b1', 'b2', 'c9', 'k9'];
const neighbours: NeighbourLists = {
  itemIds: ids,
  offsets: Uint32Array.of(0, 2, 3, 3, 3, 3, 3, 3),
  neighbours: Uint32Array.of(1, 3, 0),
  scores: Float32Array.of(0.9, 0.5, 0.9),
};
const ranked = (list: [string, number][]) => ({ ids: list.map(([id]) => id), scores: list.map(([, s]) => s) });
const data: ModelData = {
  name: 'itemknn:cosine',
  neighbours,
  popular: ranked([
    ['b2', 9],
    ['c9', 8],
    ['a3', 7],
    ['b1', 6],
    ['a1', 5],
    ['a2', 4],
    ['k9', 3],
  ]),
  byCategory: new Map([
    [
      'k',
      ranked([
        ['a3', 7],
        ['a1', 5],
        ['a2', 4],
        ['k9', 3],
      ]),
    ],
    [
      't',
      ranked([
        ['b2', 9],
        ['b1', 6],
      ]),
    ],
  ]),
  byBrand: new Map([
    [
      'A',
      ranked([
        ['a3', 7],
        ['a1', 5],
        ['a2', 4],
      ]),
    ],
    [
      'B',
      ranked([
        ['b2', 9],
        ['b1', 6],
      ]),
    ],
  ]),
  catalog: new Map([
    ['a1', item('a1', 'A', 'k')],
    ['a2', item('a2', 'A', 'k')],
    ['a3', item('a3', 'A', 'k')],
    ['b1', item('b1', 'B', 't')],
    ['b2', item('b2', 'B', 't')],
    ['c9', item('c9', null, null)],
    ['k9', item('k9', null, 'k')],
  ]),
};
const OPTIONS = { maxSeeds: 20, recentlyViewedCap: 50, eventWeights: { view: 0.25, cart: 0.5, purchase: 1, click: 0 } };
const histories: Record<string, UserHistory> = {
  viewer: {
    viewed: [
      { id: 'a1', at: 2000 },
      { id: 'c9', at: 1000 },
    ],
    bought: [],
  },
  buyer: { viewed: [], bought: ['a2'] },
  away: { viewed: [], bought: [], optedOut: true },
  unknown: { viewed: [], bought: [], withheld: true },
};
const store = new MemoryRecStore(data, (user) => histories[user]);
const request = (r: Partial<RecRequest>): RecRequest => ({ strategy: 'collaborative', items: [], limit: 5, exclude: [], excludePurchased: true, filter: {}, fallback: true, ...r });
const ids$ = (r: { items: { id: string }[] }) => r.items.map((i) => i.id);

describe('recommend() over a model in memory', () => {
  test('collaborative by item, then the chain: same brand, same category, popular; each item says its source', async () => {
    const r = await recommend(store, request({ items: ['a1'] }), OPTIONS);
    assert.deepEqual(ids$(r), ['a2', 'b1', 'a3', 'k9', 'b2']);
    assert.deepEqual(
      r.items.map((i) => i.source),
      ['collaborative', 'collaborative', 'same-brand', 'category-popular', 'popular'],
    );
    assert.deepEqual(r.sources, ['collaborative', 'same-brand', 'category-popular', 'popular']);
    assert.equal(r.items[0].because, 'a1');
    assert.deepEqual(ids$(await recommend(store, request({ items: ['a1'], fallback: false }), OPTIONS)), ['a2', 'b1']);
  });

  test("a user's block: their views and purchases are the seeds; what they bought is left out", async () => {
    assert.deepEqual(ids$(await recommend(store, request({ user: 'buyer' }), OPTIONS)), ['a1', 'a3', 'k9', 'b2', 'c9']);
    const rv = await recommend(store, request({ strategy: 'recently-viewed', user: 'viewer', limit: 3, excludePurchased: false }), OPTIONS);
    assert.deepEqual(
      [ids$(rv), rv.sources],
      [
        ['a1', 'c9', 'a2'],
        ['recently-viewed', 'collaborative'],
      ],
    );
  });

  test('filters and exclusions hold along the whole chain', async () => {
    const r = await recommend(store, request({ items: ['a1'], exclude: ['b1'], filter: { category: 'k' } }), OPTIONS);
    assert.deepEqual(ids$(r), ['a2', 'a3', 'k9']);
    const capped = await recommend(store, request({ strategy: 'popular', limit: 4, filter: { brandCap: 1 } }), OPTIONS);
    assert.deepEqual(ids$(capped), ['b2', 'c9', 'a3', 'k9']);
  });

  test('opted out, or the opt-out unknown: nothing of the user is used, and the result says so', async () => {
    const away = await recommend(store, request({ user: 'away' }), OPTIONS);
    assert.deepEqual([away.optedOut, away.withheld, away.sources], [true, false, ['popular']]);
    const unknown = await recommend(store, request({ user: 'unknown' }), OPTIONS);
    assert.deepEqual([unknown.optedOut, unknown.withheld], [false, true]);
  });
});

describe('recommendWithin: the degraded path', () => {
  const failing = (cached: MemoryRecStore | null) => ({
    model: () => Promise.reject(Object.assign(new Error('Connection is closed.'), { code: undefined })),
    history: () => Promise.reject(new Error('Connection is closed.')),
    cachedOnly: () => cached,
  });

  test('Redis away: the block from the cached model, without the user, marked degraded', async () => {
    let told: Error | null = null;
    const r = await recommendWithin(failing(store), request({ user: 'buyer' }), OPTIONS, 100, (err) => {
      told = err;
    });
    assert.equal(r.degraded, true);
    assert.deepEqual(r.sources, ['popular']);
    assert.match(String(told), /Connection is closed/);
  });

  test('nothing cached: the failure itself (a 503 for the route)', async () => {
    await assert.rejects(
      recommendWithin(failing(null), request({ items: ['a1'] }), OPTIONS, 100, () => undefined),
      /Connection is closed/,
    );
  });

  test('slower than the deadline: degraded, within the bound', async () => {
    const slow = { ...store, model: () => new Promise<never>(() => undefined), history: store.history.bind(store), cachedOnly: () => store };
    const started = performance.now();
    const r = await recommendWithin(slow, request({ items: ['a1'] }), OPTIONS, 30, () => undefined);
    assert.ok(performance.now() - started < 1000);
    assert.equal(r.degraded, true);
  });

  test('a user whose opt-out is unknown is answered degraded (not cacheable)', async () => {
    const live = { model: () => store.model(), history: store.history.bind(store), cachedOnly: () => null };
    assert.equal((await recommendWithin(live, request({ user: 'unknown' }), OPTIONS, 100, () => undefined)).degraded, true);
  });
});
