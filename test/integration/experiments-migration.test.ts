// Migration 005 on a database of the schema before it: existing experiments keep hash version 2,
// and weights of another scale (1:1:2), which assignment used to divide by their sum, are stored
// so divided, so every user keeps the variant they had.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { assign } from '../../src/experiments/assignment.ts';
import { bucketOf, bucketRanges, chooseVariation } from '../../src/experiments/hash.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { findExperiment } from '../../src/store/pg/experiments.ts';
import { createPool } from '../../src/store/pg/pool.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/pg/migrations/', import.meta.url));

let s: TestServices;
let pool: pg.Pool;
let name: string;

before(async () => {
  s = await startTestServices();
  // A second database, migrated only up to 004.
  name = `${new URL(s.databaseUrl).pathname.slice(1)}_before005`;
  await s.pool.query(`CREATE DATABASE ${name}`);
  const url = new URL(s.databaseUrl);
  url.pathname = `/${name}`;
  pool = createPool(url.toString(), 2);
  const older = `${await mkdtemp(join(tmpdir(), 'recs-migrations-'))}/`;
  for (const file of (await readdir(MIGRATIONS)).filter((f) => f < '005')) await copyFile(MIGRATIONS + file, older + file);
  await migrate(pool, older);
});
after(async () => {
  await pool.end();
  await s.pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await s.close();
});

test('005: hash_version 2 for existing experiments; weights of any scale stored divided by their sum, assignments unchanged', async () => {
  const legacy: [string, number[], number][] = [
    ['halves', [50, 50], 1],
    ['one-one-two', [1, 1, 2], 0.7],
    ['thirds', [1, 1, 1], 1],
    ['verbatim', [0.4, 0.5999], 1],
    ['sevenths', [3, 4], 0.9],
  ];
  for (const [id, weights, coverage] of legacy) {
    const variants = weights.map((weight, i) => ({ key: `v${i}`, weight, strategy: 'popular', params: {}, control: i === 0 }));
    await pool.query(`INSERT INTO experiments (id, salt, variants, status, coverage) VALUES ($1, $1, $2, 'running', $3)`, [id, JSON.stringify(variants), coverage]);
  }
  assert.equal((await migrate(pool)).applied[0], '005_experiment_hash_version.sql');

  const stored = async (id: string) => (await findExperiment(pool, 'default', id))!;
  assert.deepEqual(
    (await stored('halves')).variants.map((v) => v.weight),
    [0.5, 0.5],
  );
  assert.deepEqual(
    (await stored('one-one-two')).variants.map((v) => v.weight),
    [0.25, 0.25, 0.5],
  );
  assert.deepEqual(
    (await stored('thirds')).variants.map((v) => v.weight),
    [1 / 3, 1 / 3, 1 / 3],
  );
  assert.deepEqual(
    (await stored('verbatim')).variants.map((v) => v.weight),
    [0.4, 0.5999],
    'within 0.01 of 1: left alone',
  );
  for (const [id, weights] of legacy) {
    const e = await stored(id);
    assert.equal(e.hashVersion, 2);
    assert.deepEqual(
      e.variants.map((v) => [v.key, v.control, v.strategy]),
      weights.map((_, i) => [`v${i}`, i === 0, 'popular']),
      'the rest of each variant kept',
    );
    // What assignment did before: weights outside GrowthBook's tolerance divided by their sum.
    const sum = weights.reduce((a, b) => a + b, 0);
    const before = sum >= 0.99 && sum <= 1.01 ? weights : weights.map((w) => w / sum);
    for (let i = 0; i < 2000; i++) {
      const user = `user-${i}`;
      const was = chooseVariation(bucketOf(id, user), bucketRanges(weights.length, e.coverage, before));
      const now = assign(e, user);
      assert.equal(now.inExperiment ? now.variant.key : null, was < 0 ? null : `v${was}`, `${id}, ${user}`);
    }
  }
  await assert.rejects(pool.query(`UPDATE experiments SET hash_version = 3 WHERE id = 'halves'`), /check constraint/);
});
