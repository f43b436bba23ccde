import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder, selectRows } from '../../src/cf/interactions.ts';
import { BUY_AGAIN_FEATURES, buyAgain, buyAgainModel, type BuyAgainParams } from '../../src/cf/repeat/buy-again.ts';
import { fitBuyAgain } from '../../src/cf/repeat/buy-again-fit.ts';
import { repeatLookup, repeatStats } from '../../src/cf/repeat/stats.ts';
import { ndcgAtK } from '../../src/eval/metrics.ts';
import { evalSet } from '../../src/eval/protocol.ts';
import { Mt19937 } from '../../src/eval/random.ts';
import { lastBasketSplit } from '../../src/eval/split.ts';

const DAY = 86_400;

/** Only due-ness and the item's repeat rate count. */
function weights(due: number, repeat: number): number[] {
  return BUY_AGAIN_FEATURES.map((f) => (f === 'log_due' ? due : f === 'repeat_logit' ? repeat : 0));
}

function catalog() {
  const b = new InteractionsBuilder();
  for (let u = 0; u < 30; u++) {
    for (let t = 0; t < 100; t += 10) {
      b.add(`u${u}`, 'yoghurt', 1, (t + u) * DAY);
      b.add(`u${u}`, 'milk', 1, (t + u) * DAY);
    }
    b.add(`u${u}`, 'tv', 1, u * DAY);
  }
  return b.build();
}

test('buy again: a due item above one bought yesterday; an item nobody re-buys left out; because fields', () => {
  const stats = repeatStats(catalog());
  const params: BuyAgainParams = { occasionDecay: 1, horizonDays: 0, horizonVisits: 1, weights: weights(1, 1), minProbability: 0.05 };
  const model = buyAgainModel(repeatLookup(stats), params);
  const now = 100 * DAY;
  const history = [
    ...[60, 70, 80, 90].map((d) => ({ item: 'yoghurt', ts: d * DAY })), // due now (every 10 days)
    ...[69, 79, 89, 99].map((d) => ({ item: 'milk', ts: d * DAY })), // bought yesterday
    { item: 'tv', ts: 95 * DAY },
  ];
  const ranked = buyAgain(history, model, { now });
  assert.deepEqual(
    ranked.map((r) => r.item),
    ['yoghurt', 'milk'],
  );
  const { because } = ranked[0];
  assert.equal(because.times_bought, 4);
  assert.equal(because.last_bought, 90 * DAY * 1000);
  assert.ok(Math.abs(because.typical_gap_days - 10) < 0.5, `${because.typical_gap_days}`);
  assert.ok(Math.abs(because.due_in_days - 0) < 0.5);
  assert.ok(ranked[1].because.due_in_days > 8);
  // Without the minimum the tv comes back, last.
  const all = buyAgain(history, buyAgainModel(repeatLookup(stats), { ...params, minProbability: 0 }), { now });
  assert.deepEqual(
    all.map((r) => r.item),
    ['yoghurt', 'milk', 'tv'],
  );
  assert.deepEqual(
    buyAgain(history, model, { now, limit: 1 }).map((r) => r.item),
    ['yoghurt'],
  );
});

/**
 * Shoppers visiting every 3 days who re-buy each of their items at its own fixed cycle
 * (6 to 30 days), and a one-off item per visit: what comes next is set by due-ness, not
 * by how often an item was bought.
 */
function cycles(seed: number) {
  const rng = new Mt19937(seed);
  const b = new InteractionsBuilder();
  for (let u = 0; u < 120; u++) {
    const own = Array.from({ length: 6 }, () => ({ item: `s${Math.floor(rng.nextDouble() * 40)}`, cycle: 6 + 3 * Math.floor(rng.nextDouble() * 9), next: Math.floor(rng.nextDouble() * 30) }));
    for (let day = 0; day < 150; day += 3) {
      for (const o of own) {
        if (day < o.next) continue;
        b.add(`u${u}`, o.item, 1, day * DAY);
        o.next = day + o.cycle;
      }
      b.add(`u${u}`, `once${Math.floor(rng.nextDouble() * 500)}`, 1, day * DAY);
    }
  }
  return b.build();
}

test('fit on validation: due-ness learned from the data, ranking above plain purchase counts', () => {
  const x = cycles(1);
  const fit = fitBuyAgain(x, {
    split: lastBasketSplit,
    decays: [1, 0.8],
    horizons: [
      { horizonDays: 3, horizonVisits: 0 },
      { horizonDays: 0, horizonVisits: 1 },
      { horizonDays: 0, horizonVisits: 2 },
    ],
  });
  const due = fit.params.weights[BUY_AGAIN_FEATURES.indexOf('log_due')];
  assert.ok(due > 0.5, `log_due weight ${due}`);
  assert.ok(fit.tried.length >= 4 && fit.tried.length <= 6, `${fit.tried.length} grid points: searched one parameter at a time`);

  // On fresh data from the same process: the fitted model against ranking by count.
  const y = cycles(2);
  const rows = lastBasketSplit(y);
  const train = selectRows(y, rows.train);
  const set = evalSet(train, selectRows(y, rows.test), { repeats: true });
  const model = buyAgainModel(repeatLookup(repeatStats(train)), fit.params);
  let fitted = 0;
  let counted = 0;
  for (const u of set.users) {
    fitted += ndcgAtK(
      buyAgain(u.history, model, { limit: 10 }).map((r) => r.item),
      u.relevant,
      10,
    );
    const counts = new Map<string, number>();
    for (const e of u.history) counts.set(e.item, (counts.get(e.item) ?? 0) + 1);
    counted += ndcgAtK(
      [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([i]) => i)
        .slice(0, 10),
      u.relevant,
      10,
    );
  }
  assert.ok(fitted > 1.2 * counted, `fitted ${fitted / set.users.length} vs count ${counted / set.users.length}`);
});

test('fit: an item nobody re-buys is left out when showing it gains nothing on validation', () => {
  // Two of four staples each, every 10 days, and a TV once: no TV comes back, so every minimum
  // from 0 up to the staples' scores ties on validation; the highest of them is kept.
  const staples = ['yoghurt', 'milk', 'bread', 'eggs'];
  const b = new InteractionsBuilder();
  for (let u = 0; u < 40; u++) {
    for (let t = 0; t < 100; t += 10) for (const item of [staples[u % 4], staples[(u + 1) % 4]]) b.add(`u${u}`, item, 1, (t + (u % 10)) * DAY);
    b.add(`u${u}`, 'tv', 1, (u % 10) * DAY);
  }
  const x = b.build();
  const fit = fitBuyAgain(x, { split: lastBasketSplit, decays: [1], horizons: [{ horizonDays: 0, horizonVisits: 1 }] });
  assert.ok(fit.params.minProbability > 0, `minimum ${fit.params.minProbability}`);
  const model = buyAgainModel(repeatLookup(repeatStats(x)), fit.params);
  // A customer like the others: yoghurt every 10 days, a TV once.
  const history = [...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((d) => ({ item: 'yoghurt', ts: d * DAY })), { item: 'tv', ts: 95 * DAY }];
  assert.deepEqual(
    buyAgain(history, model, { now: 100 * DAY }).map((r) => r.item),
    ['yoghurt'],
  );
});

test('fit: the split must leave validation users', () => {
  const everythingToTrain = (x: { users: Uint32Array }) => ({ train: Uint32Array.from(x.users.keys()), test: new Uint32Array(0) });
  assert.throws(() => fitBuyAgain(catalog(), { split: everythingToTrain }), /no user in both/);
});
