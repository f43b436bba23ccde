// Our assignment against GrowthBook's own JavaScript SDK (@growthbook/growthbook, a devDependency):
// for thousands of random users over experiments with both hash versions, coverage below 1 and
// uneven weights, the same bucket, the same in/out of the experiment and the same variant.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrowthBook } from '@growthbook/growthbook';
import { assign } from '../../src/experiments/assignment.ts';
import { seededUint32 } from '../../src/experiments/bootstrap.ts';
import { checkDefinition, type Experiment, type HashVersion } from '../../src/experiments/definition.ts';

interface Case {
  key: string;
  seed: string;
  hashVersion: HashVersion;
  coverage: number;
  weights: number[];
}

const CASES: Case[] = [
  { key: 'even', seed: 'even', hashVersion: 2, coverage: 1, weights: [0.5, 0.5] },
  { key: 'uneven-v2', seed: 'email-strategies', hashVersion: 2, coverage: 0.6, weights: [0.2, 0.3, 0.5] },
  { key: 'uneven-v1', seed: 'email-strategies', hashVersion: 1, coverage: 0.6, weights: [0.2, 0.3, 0.5] },
  { key: 'four-v1', seed: 'salt:ü✓', hashVersion: 1, coverage: 0.85, weights: [0.1, 0.15, 0.25, 0.5] },
  { key: 'zero-weight', seed: 'z', hashVersion: 2, coverage: 0.3, weights: [0.7, 0, 0.3] },
  // Within GrowthBook's 0.01 of 1: used as given, the rest of the range is outside.
  { key: 'almost-one', seed: 'almost', hashVersion: 2, coverage: 0.95, weights: [0.4, 0.595] },
  { key: 'thirds-v1', seed: 'thirds', hashVersion: 1, coverage: 0.5, weights: [1 / 3, 1 / 3, 1 / 3] },
];

const USERS = 3000;

/** Random user ids of the kinds shops have: numbers, UUID-like, e-mail-like, with non-ASCII. */
function users(seed: string): string[] {
  const next = seededUint32(seed);
  const kinds = [
    () => String(next() % 1_000_000),
    () => [next(), next(), next(), next()].map((x) => x.toString(16).padStart(8, '0')).join('-'),
    () => `user${next() % 100_000}@shop.example`,
    () => `uci:${next() % 20_000}é`,
  ];
  return Array.from({ length: USERS }, () => kinds[next() % kinds.length]());
}

function experiment(c: Case): Experiment {
  // Through the API's own check: these weights are accepted as they are.
  const variants = checkDefinition(c.weights.map((weight, i) => ({ key: `v${i}`, weight, strategy: 'popular', params: {}, control: i === 0 })));
  return {
    id: c.key,
    name: null,
    salt: c.seed,
    hashVersion: c.hashVersion,
    coverage: c.coverage,
    variants,
    status: 'running',
    createdAt: new Date(0),
    startedAt: new Date(0),
    stoppedAt: null,
  };
}

describe('assignment = GrowthBook SDK run()', () => {
  for (const c of CASES) {
    test(`${c.key}: hash v${c.hashVersion}, coverage ${c.coverage}, weights ${c.weights.map((w) => w.toFixed(3)).join('/')}`, () => {
      const exp = experiment(c);
      const seen = { in: 0, out: 0 };
      for (const id of users(c.key)) {
        const ours = assign(exp, id);
        const theirs = new GrowthBook({ attributes: { id } }).run({
          key: c.key,
          seed: c.seed,
          hashVersion: c.hashVersion,
          weights: c.weights,
          coverage: c.coverage,
          variations: c.weights.map((_, i) => i) as [number, number, ...number[]],
        });
        assert.equal(ours.inExperiment, theirs.inExperiment, `${id}: in experiment`);
        if (theirs.inExperiment) {
          assert.equal(ours.bucket, theirs.bucket, `${id}: bucket`);
          assert.equal(exp.variants.indexOf(ours.variant), theirs.variationId, `${id}: variant`);
          seen.in++;
        } else {
          // Outside the coverage GrowthBook serves variation 0, which is our control here.
          assert.equal(theirs.variationId, 0);
          assert.ok(ours.variant.control);
          seen.out++;
        }
      }
      assert.ok(seen.in > USERS * c.coverage * 0.8 && (seen.out > 0 || c.coverage === 1), `${seen.in} in, ${seen.out} out`);
    });
  }
});
