import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder, selectRows } from '../../src/cf/interactions.ts';
import { evalSet, evaluate, ownItemShare, servedHistory } from '../../src/eval/protocol.ts';
import { parseStrategy, servedRecommender } from '../../src/eval/strategies.ts';
import { fitModel, type ModelSpec } from '../../src/model/model.ts';
import type { CatalogFields } from '../../src/recommend/types.ts';
import { stratifiedSplit } from '../../src/eval/split.ts';
import { syntheticInteractions } from '../../src/eval/synthetic.ts';
import { tuneEaseLambda } from '../../src/eval/tune.ts';

function tiny() {
  const b = new InteractionsBuilder();
  b.add('u1', 'a', 1, 10);
  b.add('u1', 'b', 1, 20);
  b.add('u1', 'c', 1, 30); // test
  b.add('u1', 'a', 1, 40); // test, but a repeat of a train item
  b.add('u2', 'a', 1, 10);
  b.add('u2', 'c', 1, 20);
  b.add('u3', 'b', 1, 50); // test only: not evaluated
  const x = b.build();
  return { train: selectRows(x, Uint32Array.of(0, 1, 4, 5)), test: selectRows(x, Uint32Array.of(2, 3, 6)) };
}

test('evaluated users are in train and test; train items are excluded and not relevant (MSR)', () => {
  const { train, test: held } = tiny();
  const set = evalSet(train, held);
  assert.equal(set.users.length, 1);
  const [u1] = set.users;
  assert.equal(u1.id, 'u1');
  assert.deepEqual([...u1.relevant], ['c']);
  assert.deepEqual([...u1.exclude], ['a', 'b']);
  assert.deepEqual(
    u1.history.map((e) => e.item),
    ['a', 'b'],
  );
  assert.equal(set.trainItems, 3);
  assert.equal(set.now, 20);
});

test('--repeats: nothing excluded, repeats relevant', () => {
  const { train, test: held } = tiny();
  const [u1] = evalSet(train, held, { repeats: true }).users;
  assert.deepEqual([...u1.relevant].sort(), ['a', 'c']);
  assert.equal(u1.exclude.size, 0);
});

const base: ModelSpec = {
  model: 'itemknn',
  similarity: 'cosine',
  neighbours: 20,
  untruncated: false,
  minSupport: 1,
  halfLifeDays: 0,
  weighted: false,
  easeLambda: 50,
  easeMaxItems: 500,
  listLength: 500,
};
const options = { maxSeeds: 20, recentlyViewedCap: 50, eventWeights: { view: 0.25, cart: 0.5, purchase: 1, click: 0 } };
const catalogOf = (brands: Map<string, string>) =>
  new Map<string, CatalogFields>(
    [...brands].map(([id, brand]) => [
      id,
      {
        id,
        title: null,
        brand,
        category: null,
        price: null,
        currency: null,
        url: null,
        image_url: null,
        in_stock: true,
      },
    ]),
  );

test("strategies: the served ones over the build's model, collaborative over a chosen model", () => {
  assert.deepEqual(parseStrategy('popular', base, 30), { name: 'popular', strategy: 'popular', spec: base });
  const llr = parseStrategy('itemknn:llr+decay', base, 30);
  assert.deepEqual([llr.strategy, llr.spec.similarity, llr.spec.halfLifeDays, llr.spec.weighted], ['collaborative', 'llr', 30, true]);
  const sar = parseStrategy('sar', base, 30);
  assert.deepEqual([sar.spec.similarity, sar.spec.untruncated, sar.spec.halfLifeDays, sar.spec.weighted], ['jaccard', true, 30, false]);
  assert.equal(parseStrategy('ease+weighted', base, 30).spec.model, 'ease');
  assert.throws(() => parseStrategy('ease:cosine', base, 30), /takes no similarity/);
  assert.throws(() => parseStrategy('itemknn:pearson', base, 30), /unknown similarity/);
  assert.throws(() => parseStrategy('bpr', base, 30), /unknown strategy/);
  assert.throws(() => parseStrategy('popular+decay', base, 30), /takes no similarity or flags/);
});

test('on data with planted co-purchase structure, every served collaborative model beats popularity', async () => {
  // 80% of each user's purchases from their own cluster of 20 items.
  const x = syntheticInteractions({ events: 20_000, items: 400, seed: 3, clusterShare: 0.8, clusterSize: 20 });
  const split = stratifiedSplit(x);
  const train = selectRows(x, split.train);
  const set = evalSet(train, selectRows(x, split.test));
  const score = async (name: string) => {
    const s = parseStrategy(name, base, 30);
    return evaluate(set, servedRecommender(await fitModel(train, new Map(), s.spec), s.strategy, options), 10);
  };
  const popular = await score('popular');
  for (const model of ['itemknn:cosine', 'itemknn:jaccard', 'itemknn:lift', 'itemknn:llr', 'itemknn:cosine+decay', 'sar', 'ease']) {
    const m = await score(model);
    assert.ok(m.ndcg > 1.4 * popular.ndcg, `${model}: nDCG ${m.ndcg} vs popular ${popular.ndcg}`);
    assert.ok(m.coverage > popular.coverage);
    assert.ok(m.ndcgSe > 0 && m.ndcgSe < m.ndcg / 5, `${model}: se ${m.ndcgSe}`);
  }
  const recentlyViewed = await score('recently-viewed');
  assert.equal(recentlyViewed.hitRate > 0, true, 'its fallback chain fills the block');
});

test("same-brand as served: brands of the user's purchases, merged by popularity, bought items left out, then popular", async () => {
  const b = new InteractionsBuilder();
  const rows = [
    ['u1', 'y2', 1],
    ['u1', 'x1', 2],
    ['u2', 'x1', 0],
    ['u2', 'x2', 0],
    ['u3', 'x3', 0],
    ['u3', 'y1', 0],
    ['u4', 'y1', 0],
    ['u5', 'z1', 0],
  ] as const;
  for (const [u, i, t] of rows) b.add(u, i, 1, t);
  const x = b.build();
  const brands = new Map([
    ['x1', 'X'],
    ['x2', 'X'],
    ['x3', 'X'],
    ['y1', 'Y'],
    ['y2', 'Y'],
    ['z1', 'Z'],
  ]);
  const set = evalSet(x, x, { repeats: true });
  const s = parseStrategy('same-brand', base, 30);
  const recommend = servedRecommender(await fitModel(x, catalogOf(brands), s.spec), s.strategy, options);
  const u1 = set.users.find((u) => u.id === 'u1')!;
  // u1 bought y2 then x1: brands X and Y; by popularity y1 (2 users), then x2, x3 (1 each, by id); then popular: z1.
  assert.deepEqual(await recommend(u1, 10), ['y1', 'x2', 'x3', 'z1']);
  assert.deepEqual(await recommend(u1, 2), ['y1', 'x2']);
});

test('the served history: views and purchases apart, each item once at its latest time, newest first; every purchase occasion', () => {
  const user = {
    id: 'u',
    exclude: new Set<string>(),
    relevant: new Set(['z']),
    history: [
      { item: 'a', weight: 1, ts: 1, view: false },
      { item: 'b', weight: 0.25, ts: 2, view: true },
      { item: 'a', weight: 1, ts: 3, view: false },
      { item: 'c', weight: 1, ts: 4, view: false },
      { item: 'b', weight: 0.25, ts: 5, view: true },
      { item: 'd', weight: 0.25, ts: 6, view: true },
    ],
  };
  assert.deepEqual(servedHistory(user, 50), {
    viewed: [
      { id: 'd', at: 6000 },
      { id: 'b', at: 5000 },
    ],
    bought: ['c', 'a'],
    purchases: [
      { id: 'a', at: 1000 },
      { id: 'a', at: 3000 },
      { id: 'c', at: 4000 },
    ],
  });
  assert.deepEqual(servedHistory(user, 1).viewed, [{ id: 'd', at: 6000 }]);
});

test('λ tuning picks the best validation nDCG', async () => {
  const x = syntheticInteractions({ events: 8_000, items: 200, seed: 5 });
  const fit = (y: typeof x, spec: ModelSpec) => fitModel(y, new Map(), spec);
  const tuned = await tuneEaseLambda(parseStrategy('ease', base, 30), x, (y) => stratifiedSplit(y), fit, options, 10, {}, [1, 30, 100000]);
  assert.equal(tuned.tried.length, 3);
  const best = tuned.tried.reduce((p, q) => (q.ndcg > p.ndcg ? q : p));
  assert.equal(tuned.best, best.value);
});

test('own-item share: the relevant items a user had bought in train (a view is not a purchase), over all relevant items', () => {
  const event = (item: string, view: boolean) => ({ item, weight: 1, ts: 0, view });
  const users = [
    { id: 'a', history: [event('milk', false), event('tea', true)], exclude: new Set<string>(), relevant: new Set(['milk', 'tea', 'jam']) },
    { id: 'b', history: [event('bread', false)], exclude: new Set<string>(), relevant: new Set(['bread']) },
  ];
  assert.equal(ownItemShare(users), 2 / 4);
  assert.equal(ownItemShare([]), 0);
});
