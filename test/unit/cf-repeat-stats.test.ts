import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InteractionsBuilder } from '../../src/cf/interactions.ts';
import { logGaps, occasionsOf } from '../../src/cf/repeat/occasions.ts';
import { fitBetaPrior, itemRepeatOf, repeatStats, userItemGap, userRepeatShare, userVisitGap } from '../../src/cf/repeat/stats.ts';
import { Mt19937 } from '../../src/eval/random.ts';

const DAY = 86_400;

test('occasions: one per day, an item counted once per day, gaps in whole days', () => {
  const o = occasionsOf([
    { item: 'milk', ts: 10 * DAY + 100 },
    { item: 'milk', ts: 10 * DAY + 200 }, // same basket line twice
    { item: 'bread', ts: 10 * DAY + 5000 }, // second trip the same day
    { item: 'milk', ts: 17 * DAY + 50 },
    { item: 'milk', ts: 31 * DAY + 90_000 - DAY },
  ]);
  assert.deepEqual([...o.buckets], [10, 17, 31]);
  assert.deepEqual(o.items.get('milk')!.occasions, [0, 1, 2]);
  assert.equal(o.items.get('milk')!.last, 31 * DAY + 90_000 - DAY);
  assert.deepEqual(o.items.get('bread')!.occasions, [0]);
  assert.deepEqual(logGaps(o, o.items.get('milk')!).map(Math.exp).map(Math.round), [7, 14]);
  assert.equal(o.last, 31 * DAY + 90_000 - DAY);
});

test('beta prior: the beta-binomial fit recovers the prior the rates were drawn from', () => {
  const rng = new Mt19937(3);
  const gammaDraw = (shape: number) => {
    // Marsaglia–Tsang, shape >= 1
    const d = shape - 1 / 3;
    for (;;) {
      const z = Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
      const v = (1 + z / Math.sqrt(9 * d)) ** 3;
      if (v > 0 && Math.log(rng.nextDouble()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const groups = 3000;
  const successes = new Uint32Array(groups);
  const trials = new Uint32Array(groups);
  for (let g = 0; g < groups; g++) {
    const a = gammaDraw(2);
    const p = a / (a + gammaDraw(6));
    trials[g] = 1 + Math.floor(rng.nextDouble() * 30);
    for (let t = 0; t < trials[g]; t++) if (rng.nextDouble() < p) successes[g]++;
  }
  const prior = fitBetaPrior(successes, trials);
  assert.ok(Math.abs(prior.alpha / (prior.alpha + prior.beta) - 0.25) < 0.02, `mean ${prior.alpha / (prior.alpha + prior.beta)}`);
  assert.ok(prior.alpha + prior.beta > 5 && prior.alpha + prior.beta < 12, `strength ${prior.alpha + prior.beta}`);
});

/** Users who re-buy "yoghurt" every `gap` days (± 2 when jittered), and buy a "tv" once. */
function shop(users: number, gapOf: (u: number) => number, jitter = false) {
  const b = new InteractionsBuilder();
  for (let u = 0; u < users; u++) {
    const start = (u % 5) * DAY;
    for (let t = 0, n = 0; t < 120; t += gapOf(u) + (jitter ? ((n++ * 7 + u) % 5) - 2 : 0)) b.add(`u${u}`, 'yoghurt', 1, start + t * DAY);
    b.add(`u${u}`, `tv`, 1, start + 3 * DAY);
    if (u % 2) b.add(`u${u}`, `snack${u}`, 1, start + 40 * DAY);
  }
  return b.build();
}

test('repeat rates: re-bought items above the catalog rate, bought-once items below, shrunk by few buyers', () => {
  const x = shop(40, () => 10);
  const s = repeatStats(x);
  const at = (id: string) => x.itemIds.indexOf(id);
  const prior = s.repeatPrior.alpha / (s.repeatPrior.alpha + s.repeatPrior.beta);
  assert.equal(s.buyers[at('yoghurt')], 40);
  assert.equal(s.repeaters[at('yoghurt')], 40);
  assert.equal(s.repeaters[at('tv')], 0);
  assert.ok(s.repeatRate[at('yoghurt')] > 0.8 && s.repeatRate[at('yoghurt')] < 1);
  assert.ok(s.repeatRate[at('tv')] < prior);
  // One buyer, no repeat: pulled toward the prior, above the tv bought once by 40.
  assert.ok(s.repeatRate[at('snack1')] > s.repeatRate[at('tv')]);
});

test('gap distribution: an item re-bought every 10 days has a median gap near 10 days', () => {
  const x = shop(40, () => 10);
  const s = repeatStats(x);
  const i = x.itemIds.indexOf('yoghurt');
  assert.equal(s.gapCount[i], 40 * 11);
  assert.ok(Math.abs(Math.exp(s.gapMu[i]) - 10) < 0.5, `median ${Math.exp(s.gapMu[i])}`);
});

test("a user's own gap is shrunk toward the item's, more so with fewer own gaps", () => {
  // Half the users every 7 days, half every 21: the user-level spread is real, so it is kept.
  const x = shop(40, (u) => (u % 2 ? 7 : 21), true);
  const s = repeatStats(x);
  const i = x.itemIds.indexOf('yoghurt');
  assert.ok(s.userShrink < 5, `user shrink ${s.userShrink}`);
  const history = (days: number[]) => occasionsOf(days.map((d) => ({ item: 'yoghurt', ts: d * DAY })));
  const long = history([0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77]);
  const short = history([0, 7]);
  const itemMedian = Math.exp(s.gapMu[i]);
  const longGap = Math.exp(userItemGap(s, itemRepeatOf(s, i), long, long.items.get('yoghurt')!).mu);
  const shortGap = Math.exp(userItemGap(s, itemRepeatOf(s, i), short, short.items.get('yoghurt')!).mu);
  assert.ok(itemMedian > 8 && longGap < shortGap && shortGap < itemMedian, `${longGap} ${shortGap} ${itemMedian}`);
  assert.ok(Math.abs(longGap - 7) < 1);
  // Bought once: the item's distribution.
  const once = history([0]);
  assert.deepEqual(userItemGap(s, itemRepeatOf(s, i), once, once.items.get('yoghurt')!), { mu: s.gapMu[i], sigma: s.gapSigma[i] });
});

test('user repeat share and visit gap', () => {
  const x = shop(40, () => 10);
  const s = repeatStats(x);
  const repeater = occasionsOf([0, 10, 20, 30].map((d) => ({ item: 'yoghurt', ts: d * DAY })));
  const explorer = occasionsOf([0, 10, 20, 30].map((d) => ({ item: `new${d}`, ts: d * DAY })));
  assert.ok(userRepeatShare(s, repeater) > userRepeatShare(s, explorer));
  assert.equal(userVisitGap(s, repeater), 10);
  assert.equal(userVisitGap(s, occasionsOf([{ item: 'a', ts: 0 }])), s.visitGapDays);
});
