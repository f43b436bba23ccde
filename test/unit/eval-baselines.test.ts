import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder, selectRows } from '../../src/cf/interactions.ts';
import { itemPopularity, rankItems } from '../../src/cf/popularity.ts';
import { baselineRecommender, personalTopFrequency } from '../../src/eval/baselines.ts';
import { evalSet, evaluate, type EvalUser } from '../../src/eval/protocol.ts';
import { Mt19937 } from '../../src/eval/random.ts';
import { lastBasketSplit } from '../../src/eval/split.ts';

const DAY = 86_400;

const user = (history: [string, number][], exclude: string[] = []): EvalUser => ({
  id: 'u',
  history: history.map(([item, day]) => ({ item, weight: 1, ts: day * DAY, view: false })),
  exclude: new Set(exclude),
  relevant: new Set(),
});

test('P-TopFreq: items by baskets holding them, ties by the latest; GP-TopFreq fills with popular items', async () => {
  const u = user([
    ['a', 1],
    ['a', 1],
    ['b', 2],
    ['b', 3],
    ['c', 4],
    ['a', 5],
  ]);
  assert.deepEqual(personalTopFrequency(u), ['a', 'b', 'c']);
  const popular = { ids: ['z', 'a', 'y'], scores: [3, 2, 1] };
  const input = { popular, train: new InteractionsBuilder().build(), split: lastBasketSplit, k: 5, repeats: true };
  assert.deepEqual(await baselineRecommender('p-topfreq', input).recommend(u, 5), ['a', 'b', 'c']);
  assert.deepEqual(await baselineRecommender('gp-topfreq', input).recommend({ ...u, exclude: new Set(['b']) }, 4), ['a', 'c', 'z', 'y']);
});

/**
 * Three tribes of shoppers, each buying from its own 12 items (a few favourites every time):
 * what a shopper buys next that they never bought is what their tribe buys.
 */
function tribes() {
  const rng = new Mt19937(3);
  const b = new InteractionsBuilder();
  for (let u = 0; u < 90; u++) {
    const tribe = u % 3;
    const item = () => `t${tribe}-${Math.floor(rng.nextDouble() * 12)}`;
    for (let day = 0; day < 8; day++) {
      b.add(`u${u}`, `t${tribe}-0`, 1, day * DAY);
      for (let n = 0; n < 2; n++) b.add(`u${u}`, item(), 1, day * DAY);
    }
  }
  // Globally popular, bought by every tribe now and then: GP-TopFreq's filler.
  for (let u = 0; u < 90; u += 2) b.add(`u${u}`, 'everyone', 1, 3 * DAY);
  return b.build();
}

test("TIFU-KNN: fit on a validation split of train; a shopper's new items come from similar shoppers", async () => {
  const x = tribes();
  const rows = lastBasketSplit(x);
  const train = selectRows(x, rows.train);
  const set = evalSet(train, selectRows(x, rows.test), { repeats: false });
  const popular = rankItems(itemPopularity(train), train.itemIds, 20);
  const input = { popular, train, split: lastBasketSplit, k: 5, repeats: false };
  const tifu = baselineRecommender('tifu-knn', input);
  assert.ok(tifu.fit && tifu.fit.params.alpha < 1, `neighbours count: ${JSON.stringify(tifu.fit?.params)}`);
  for (const u of set.users.slice(0, 9)) {
    const tribe = u.history[0].item.split('-')[0];
    const recs = await tifu.recommend(u, 5);
    assert.ok(recs[0]?.startsWith(tribe), `${u.id} (${tribe}): ${recs}`);
    assert.ok(
      recs.every((id) => (id.startsWith(tribe) || id === 'everyone') && !u.exclude.has(id)),
      `no other tribe's item, none bought: ${recs}`,
    );
  }
  const [byTifu, byGp] = await Promise.all([evaluate(set, tifu.recommend, 5), evaluate(set, baselineRecommender('gp-topfreq', input).recommend, 5)]);
  assert.ok(byTifu.ndcg > 2 * byGp.ndcg, `TIFU-KNN ${byTifu.ndcg} vs GP-TopFreq ${byGp.ndcg}`);
});
