import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { assign } from '../../src/experiments/assignment.ts';
import type { Experiment, Variant } from '../../src/experiments/definition.ts';
import { bucketOf, bucketRanges, chooseVariation, fnv1a32 } from '../../src/experiments/hash.ts';
import { sampleRatioMismatch } from '../../src/experiments/stats.ts';

interface Cases {
  hash: { seed: string; value: string; version: 1 | 2; bucket: number }[];
  bucketRanges: { name: string; variants: number; coverage: number; weights: number[] | null; ranges: [number, number][] }[];
  chooseVariation: { name: string; bucket: number; ranges: [number, number][]; variation: number }[];
  assignments: { name: string; seed: string; user: string; weights: number[]; coverage: number; variation: number }[];
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/experiments/growthbook-cases.json', import.meta.url), 'utf8')) as Cases;

const variant = (key: string, weight: number, control = false): Variant => ({ key, weight, strategy: 'popular', params: {}, control });
function experiment(weights: number[], overrides: Partial<Experiment> = {}): Experiment {
  return {
    id: 'exp',
    name: null,
    salt: 'exp',
    hashVersion: 2,
    coverage: 1,
    status: 'running',
    createdAt: new Date(),
    startedAt: new Date(),
    stoppedAt: null,
    variants: weights.map((w, i) => variant(`v${i}`, w, i === 0)),
    ...overrides,
  };
}

describe('GrowthBook-compatible hashing (their published SDK test cases)', () => {
  test('FNV-1a 32-bit reference values', () => {
    // The FNV authors' test vectors: offset basis for "", and "a", "foobar".
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  for (const c of cases.hash) {
    test(`hash v${c.version} (${JSON.stringify(c.seed)}, ${JSON.stringify(c.value)}) = ${c.bucket}`, () => {
      assert.equal(bucketOf(c.seed, c.value, c.version), c.bucket);
    });
  }

  for (const c of cases.bucketRanges) {
    test(`getBucketRanges: ${c.name}`, () => {
      const ranges = bucketRanges(c.variants, c.coverage, c.weights ?? undefined);
      assert.equal(ranges.length, c.ranges.length);
      ranges.forEach(([start, end], i) => {
        assert.ok(Math.abs(start - c.ranges[i][0]) < 1e-9 && Math.abs(end - c.ranges[i][1]) < 1e-9, `range ${i}: ${start}, ${end}`);
      });
    });
  }

  for (const c of cases.chooseVariation) {
    test(`chooseVariation: ${c.name}`, () => assert.equal(chooseVariation(c.bucket, c.ranges), c.variation));
  }

  for (const c of cases.assignments) {
    test(`end to end: ${c.name}`, () => {
      const a = assign(experiment(c.weights, { salt: c.seed, coverage: c.coverage }), c.user);
      assert.equal(a.inExperiment, true);
      assert.equal(a.variant.key, `v${c.variation}`);
    });
  }
});

describe('assignment', () => {
  test('is deterministic: the same user always gets the same variant, whatever else was assigned before', () => {
    const exp = experiment([1, 1, 1]);
    const first = Array.from({ length: 1000 }, (_, i) => assign(exp, `user-${i}`).variant.key);
    const again = Array.from({ length: 1000 }, (_, i) => assign(exp, `user-${999 - i}`).variant.key).reverse();
    assert.deepEqual(again, first);
    // A different salt reshuffles users (so two experiments are independent).
    const other = Array.from({ length: 1000 }, (_, i) => assign({ ...exp, salt: 'another' }, `user-${i}`).variant.key);
    assert.ok(other.filter((k, i) => k !== first[i]).length > 500);
  });

  test("the hash version is the experiment's: version 1 buckets users by its own hash", () => {
    const v1 = experiment([0.5, 0.5], { hashVersion: 1 });
    for (let i = 0; i < 200; i++) {
      const a = assign(v1, `u${i}`);
      assert.equal(a.bucket, bucketOf('exp', `u${i}`, 1));
      assert.equal(a.variant.key, a.bucket < 0.5 ? 'v0' : 'v1');
    }
    const differ = Array.from({ length: 200 }, (_, i) => `u${i}`).filter((u) => assign(v1, u).bucket !== assign(experiment([0.5, 0.5]), u).bucket);
    assert.ok(differ.length > 150);
  });

  test('weights are used as given, as GrowthBook does: within its 0.01 tolerance, the unweighted remainder is outside', () => {
    // 0.4 + 0.5999: ranges [0, 0.4), [0.4, 0.9999); bucket 0.9999 is in no range.
    const exp = experiment([0.4, 0.5999]);
    const users = Array.from({ length: 40_000 }, (_, i) => `u${i}`);
    const outside = users.filter((u) => !assign(exp, u).inExperiment);
    assert.ok(outside.length > 0 && outside.every((u) => assign(exp, u).bucket === 0.9999), `${outside.length} outside`);
  });

  test('weights are respected within sampling error on 100k users (chi-square)', () => {
    const weights = [0.2, 0.3, 0.5];
    const counts = [0, 0, 0];
    for (let i = 0; i < 100_000; i++) counts[Number(assign(experiment(weights), `user-${i}`).variant.key.slice(1))]++;
    const fit = sampleRatioMismatch(counts, weights);
    assert.ok(fit.pValue > 0.01, `counts ${counts} vs weights ${weights}: p = ${fit.pValue}`);
    counts.forEach((n, i) => assert.ok(Math.abs(n / 100_000 - weights[i]) < 0.005, `variant ${i}: ${n}`));
  });

  test('coverage: only that share of users is in the experiment; the rest get the control', () => {
    const exp = experiment([1, 1], { coverage: 0.3 });
    const results = Array.from({ length: 20_000 }, (_, i) => assign(exp, `user-${i}`));
    const inside = results.filter((a) => a.inExperiment).length;
    assert.ok(Math.abs(inside / 20_000 - 0.3) < 0.015, `${inside} of 20000 inside`);
    assert.ok(results.filter((a) => !a.inExperiment).every((a) => a.variant.control));
  });

  test('a draft or stopped experiment assigns nobody: everyone gets the control', () => {
    for (const status of ['draft', 'stopped'] as const) {
      const exp = experiment([0, 1], { status });
      const a = assign(exp, 'user-1');
      assert.equal(a.inExperiment, false);
      assert.equal(a.variant.key, 'v0');
    }
    assert.equal(assign(experiment([0, 1]), 'user-1').variant.key, 'v1', 'running: weight 0 sends no one to v0');
  });
});
