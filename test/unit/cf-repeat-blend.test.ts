import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blend, blendFeatureNames, candidateFeatures, type GeneratorSpec } from '../../src/cf/repeat/blend.ts';
import { blendExamples, blendNdcg, candidateReach, fitBlend } from '../../src/cf/repeat/blend-fit.ts';
import { linear, sigmoid } from '../../src/cf/repeat/logistic.ts';
import { Mt19937 } from '../../src/eval/random.ts';

const GENERATORS: GeneratorSpec[] = [{ name: 'buy-again', calibrated: true }, { name: 'popular' }];

test('candidate features: union in first-seen order, score over the best (raw when calibrated), reciprocal rank, 0 when absent', () => {
  assert.deepEqual(blendFeatureNames(GENERATORS), ['buy-again:score', 'buy-again:rank', 'popular:score', 'popular:rank']);
  const c = candidateFeatures(GENERATORS, [
    { items: ['milk', 'tv'], scores: [0.3, 0.01] },
    { items: ['bread', 'milk'], scores: [200, 50] },
  ]);
  assert.deepEqual(c.items, ['milk', 'tv', 'bread']);
  assert.deepEqual([...c.features], [0.3, 1, 0.25, 0.5, 0.01, 0.5, 0, 0, 0, 0, 1, 1]);
  assert.throws(() => candidateFeatures(GENERATORS, []), /expected 2 lists/);
});

test('blend: weighted sum, exclusions, limit, the generator that added most', () => {
  const model = { generators: GENERATORS, weights: [10, 0, 1, 0] };
  const lists = [
    { items: ['milk', 'tv'], scores: [0.3, 0.01] },
    { items: ['bread', 'milk'], scores: [200, 50] },
  ];
  assert.deepEqual(blend(model, lists), [
    { item: 'milk', score: 3.25, source: 'buy-again' },
    { item: 'bread', score: 1, source: 'popular' },
    { item: 'tv', score: 0.1, source: 'buy-again' },
  ]);
  assert.deepEqual(
    blend(model, lists, { exclude: new Set(['milk']), limit: 1 }).map((b) => b.item),
    ['bread'],
  );
});

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] ** 2;
    bb += b[i] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

test('fit recovers the weights the labels were drawn with (up to scale: rankings ignore it)', () => {
  const rng = new Mt19937(21);
  const truth = [2, -1, 0.5, 0];
  const d = truth.length;
  const users = Array.from({ length: 600 }, () => {
    const n = 30;
    const features = Float64Array.from({ length: n * d }, (_, i) => (rng.nextDouble() * 2 - 1) * (1 + (i % d)));
    const labels = Array.from({ length: n }, (_, r) => (rng.nextDouble() < sigmoid(linear(features, r, truth) - 3) ? 1 : 0));
    return {
      features,
      labels,
      relevant: Math.max(
        1,
        labels.reduce((a: number, b) => a + b, 0),
      ),
    };
  });
  const fit = fitBlend(blendExamples(users, d));
  assert.ok(cosine(fit.weights, truth) > 0.97, `weights ${fit.weights} (cosine ${cosine(fit.weights, truth)})`);
  assert.ok(fit.ndcg >= Math.max(fit.logisticNdcg, ...fit.singleNdcg));
  // The weights returned score as the fit measured them (evaluate's --blend-ceiling compares by this).
  const examples = blendExamples(users, d);
  assert.ok(Math.abs(blendNdcg(examples, fit.weights) - fit.ndcg) < 1e-9, `${blendNdcg(examples, fit.weights)} vs ${fit.ndcg}`);
  assert.ok(blendNdcg(examples, [0, 0, 0, 1]) < fit.ndcg - 0.05);
});

/**
 * Own items come with a calibrated re-buy probability; the first popular items are bought by
 * 20% of users. The blend must put a likely own item above them and an unlikely one below:
 * when not to repeat.
 */
test('fit learns when not to repeat', () => {
  const rng = new Mt19937(8);
  const popular = Array.from({ length: 10 }, (_, r) => ({ id: `p${r}`, rate: 0.2 / (1 + r / 3) }));
  const users = Array.from({ length: 1500 }, (_, u) => {
    const p = u % 2 ? 0.5 : 0.03; // a repeater or not
    const own = Array.from({ length: 5 }, (_, i) => ({ id: `own${u}-${i}`, p: p * (1 - i / 10) }));
    const lists = [
      { items: own.map((o) => o.id), scores: own.map((o) => o.p) },
      { items: popular.map((q) => q.id), scores: popular.map((q) => 100 * q.rate) },
    ];
    const c = candidateFeatures(GENERATORS, lists);
    const rate = new Map([...own.map((o) => [o.id, o.p] as const), ...popular.map((q) => [q.id, q.rate] as const)]);
    const labels = c.items.map((id) => (rng.nextDouble() < rate.get(id)! ? 1 : 0));
    return {
      features: c.features,
      labels,
      relevant: Math.max(
        1,
        labels.reduce((a: number, b) => a + b, 0),
      ),
    };
  });
  const fit = fitBlend(blendExamples(users, 4));
  const model = { generators: GENERATORS, weights: fit.weights };
  const rank = (p: number) =>
    blend(model, [
      { items: ['own'], scores: [p] },
      { items: popular.map((q) => q.id), scores: popular.map((q) => 100 * q.rate) },
    ]).map((b) => b.item);
  assert.equal(rank(0.5)[0], 'own');
  assert.ok(rank(0.03).indexOf('own') >= 3, `${rank(0.03)}`);
});

test('candidate reach: candidates per user, the share of relevant items among them, the nDCG of a perfect order', () => {
  const user = (labels: number[], relevant: number) => ({ features: new Float64Array(labels.length), labels, relevant });
  // A holds 2 of its 3 relevant items, B none of its 1, C its only one.
  const examples = blendExamples([user([0, 1, 0, 1], 3), user([0, 0], 1), user([1, 0, 0], 1)], 1);
  const a = (1 + 1 / Math.log2(3)) / (1 + 1 / Math.log2(3) + 1 / Math.log2(4));
  const reach = candidateReach(examples, 10);
  assert.equal(reach.perUser, 3);
  assert.equal(reach.recall, 3 / 5);
  assert.ok(Math.abs(reach.perfectNdcg - (a + 0 + 1) / 3) < 1e-12, `${reach.perfectNdcg}`);
  assert.ok(Math.abs(candidateReach(examples, 1).perfectNdcg - 2 / 3) < 1e-12);
});
