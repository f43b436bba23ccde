import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder, selectRows } from '../../src/cf/interactions.ts';
import { fitModel, parseModel, type ModelParams } from '../../src/eval/models.ts';
import { evalSet, evaluate } from '../../src/eval/protocol.ts';
import { stratifiedSplit } from '../../src/eval/split.ts';
import { syntheticInteractions } from '../../src/eval/synthetic.ts';
import { tuneEaseLambda } from '../../src/eval/tune.ts';

const params: ModelParams = { neighbours: 20, minSupport: 1, halfLifeDays: 30, easeLambda: 50, easeItems: 500 };

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
  assert.deepEqual(u1.history.map((e) => e.item), ['a', 'b']);
  assert.equal(set.trainItems, 3);
  assert.equal(set.now, 20);
});

test('--repeats: nothing excluded, repeats relevant', () => {
  const { train, test: held } = tiny();
  const [u1] = evalSet(train, held, { repeats: true }).users;
  assert.deepEqual([...u1.relevant].sort(), ['a', 'c']);
  assert.equal(u1.exclude.size, 0);
});

test('model specs', () => {
  assert.deepEqual(parseModel('itemknn:llr+decay'), { name: 'itemknn:llr+decay', kind: 'itemknn', similarity: 'llr', decay: true, weighted: false });
  assert.deepEqual(parseModel('sar'), { name: 'sar', kind: 'sar', similarity: 'jaccard', decay: true, weighted: false });
  assert.equal(parseModel('ease+weighted').weighted, true);
  assert.throws(() => parseModel('ease:cosine'), /takes no similarity/);
  assert.throws(() => parseModel('itemknn:pearson'), /unknown similarity/);
  assert.throws(() => parseModel('bpr'), /unknown model/);
  assert.throws(() => parseModel('popular+fast'), /unknown flag/);
});

test('on data with planted co-purchase structure, every CF model beats popularity', () => {
  // 80% of each user's purchases from their own cluster of 20 items.
  const x = syntheticInteractions({ events: 20_000, items: 400, seed: 3, clusterShare: 0.8, clusterSize: 20 });
  const split = stratifiedSplit(x);
  const train = selectRows(x, split.train);
  const set = evalSet(train, selectRows(x, split.test));
  const score = (model: string) => evaluate(set, fitModel(parseModel(model), train, set.now, params), 10);
  const popular = score('popular');
  for (const model of ['itemknn:cosine', 'itemknn:jaccard', 'itemknn:lift', 'itemknn:llr', 'itemknn:cosine+decay', 'sar', 'ease']) {
    const m = score(model);
    assert.ok(m.ndcg > 1.4 * popular.ndcg, `${model}: nDCG ${m.ndcg} vs popular ${popular.ndcg}`);
    assert.ok(m.coverage > popular.coverage);
  }
  const recentlyViewed = evaluate(set, fitModel(parseModel('recently-viewed'), train, set.now, params), 10);
  assert.equal(recentlyViewed.hitRate, 0, 'own items are excluded without --repeats');
});

test("same-brand: brands of the user's items, merged by popularity, own items skipped", () => {
  const b = new InteractionsBuilder();
  const rows = [['u1', 'y2', 1], ['u1', 'x1', 2], ['u2', 'x1', 0], ['u2', 'x2', 0], ['u3', 'x3', 0], ['u3', 'y1', 0], ['u4', 'y1', 0], ['u5', 'z1', 0]] as const;
  for (const [u, i, t] of rows) b.add(u, i, 1, t);
  const x = b.build();
  const brands = new Map([['x1', 'X'], ['x2', 'X'], ['x3', 'X'], ['y1', 'Y'], ['y2', 'Y'], ['z1', 'Z']]);
  const set = evalSet(x, x, { repeats: true });
  const recommend = fitModel(parseModel('same-brand'), x, set.now, { ...params, brands });
  const u1 = set.users.find((u) => u.id === 'u1')!;
  // u1 bought y2 then x1: brands X and Y; by popularity y1 (2 users), then x2, x3 (1 each, by id); Z never.
  assert.deepEqual(recommend(u1, 10), ['y1', 'x2', 'x3']);
  assert.deepEqual(recommend(u1, 2), ['y1', 'x2']);
  assert.throws(() => fitModel(parseModel('same-brand'), x, 0, params), /--products/);
});

test('λ tuning picks the best validation nDCG', () => {
  const x = syntheticInteractions({ events: 8_000, items: 200, seed: 5 });
  const tuned = tuneEaseLambda(parseModel('ease'), x, (y) => stratifiedSplit(y), params, 10, {}, [1, 30, 100000]);
  assert.equal(tuned.tried.length, 3);
  const best = tuned.tried.reduce((p, q) => (q.ndcg > p.ndcg ? q : p));
  assert.equal(tuned.best, best.value);
});
