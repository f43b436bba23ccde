import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildModel, buildOptionsFromConfig, type BuildOptions, type BuildSummary } from '../../jobs/lib/build-model.ts';
import { importSource } from '../../jobs/lib/loader.ts';
import { openSource } from '../../jobs/lib/sources.ts';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

// Purchases (binary cosine, as the build tests):
//   p1 {u1, u2, V}  p2 {u1, u2, u3}  p3 {u2, u3}  p9 {V}: only the user V bought p9.
//   With V:    cos(p1,p2) = 2/√9 = 0.666667   cos(p1,p9) = 1/√3 = 0.57735
//   Without V: cos(p1,p2) = 2/√6 = 0.816497   and p9 is gone from every list.
// V's id has a slash and a space: ids reach the API URL-encoded.
const V = 'shop:V/1 x';
const PURCHASES = [
  ['u1', 'p1'],
  ['u1', 'p2'],
  ['u2', 'p1'],
  ['u2', 'p2'],
  ['u2', 'p3'],
  ['u3', 'p2'],
  ['u3', 'p3'],
  [V, 'p1'],
  [V, 'p9'],
];

describe('privacy: opt-out and erasure (real PostgreSQL, Redis and build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let options: BuildOptions;
  const keys = () => redisKeys(s.config.redisPrefix);
  const build = () => buildModel(s.pool, s.redis, s.config, options);
  const neighbours = async (v: number, item: string) => JSON.parse((await s.redis.get(keys().neighbours(v, item))) ?? 'null');
  const popular = (v: number) => s.redis.zrange(keys().popular(v), '0', '-1');
  const userUrl = (user: string) => `/v1/users/${encodeURIComponent(user)}`;
  const setOptOut = (user: string, optOut: boolean) => app.inject({ method: 'POST', url: `${userUrl(user)}/preferences`, payload: { personalization_opt_out: optOut } });
  const rows = async (table: 'events' | 'exposures', user: string) => (await s.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [user])).rows[0].n as number;

  before(async () => {
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1; // answers follow each build at once
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 };
    options = { ...buildOptionsFromConfig(s.config), similarity: 'cosine', workers: 1, quiet: true };
    await s.pool.query(`INSERT INTO products (tenant_id, id, title) VALUES ('default', 'p1', 'One'), ('default', 'p2', 'Two'), ('default', 'p3', 'Three'), ('default', 'p9', 'Nine')`);
    for (const [i, [user, item]] of PURCHASES.entries()) {
      await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', $1, $2, 'purchase', $3)`, [user, item, new Date(Date.UTC(2024, 0, 1, 0, i))]);
    }
    await s.pool.query(
      `INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', $1, 'p3', 'view', '2024-01-02T00:00:00Z'), ('default', 'u1', 'p3', 'view', '2024-01-02T00:00:00Z')`,
      [V],
    );
    await s.pool.query(`INSERT INTO experiments (tenant_id, id, salt, variants) VALUES ('default', 'e1', 'e1', '[]')`);
    await s.pool.query(
      `INSERT INTO exposures (tenant_id, experiment_id, variant, user_id, request_id, strategy, items) VALUES ('default', 'e1', 'a', $1, 'r1', 'popular', '{p1}'), ('default', 'e1', 'a', 'u1', 'r2', 'popular', '{p1}')`,
      [V],
    );
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('preferences: PostgreSQL is the truth, Redis holds the flag the API reads', async () => {
    const res = await setOptOut('u1', true);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { user: 'u1', personalization_opt_out: true });
    assert.deepEqual((await s.pool.query(`SELECT personalization_opt_out FROM users WHERE id = 'u1'`)).rows, [{ personalization_opt_out: true }]);
    assert.equal(await s.redis.get(keys().optOut('u1')), '1');
    assert.equal(await s.redis.ttl(keys().optOut('u1')), -1, 'no expiry: kept until the user opts back in');

    assert.equal((await setOptOut('u1', false)).statusCode, 200);
    assert.deepEqual((await s.pool.query(`SELECT personalization_opt_out FROM users WHERE id = 'u1'`)).rows, [{ personalization_opt_out: false }]);
    assert.equal(await s.redis.exists(keys().optOut('u1')), 0);

    const bad = await app.inject({ method: 'POST', url: '/v1/users/u1/preferences', payload: { personalization_opt_out: 'maybe' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'personalization_opt_out');
  });

  test('an opted-out user gets only non-personal blocks, and the answer says so; their events leave the next build', async () => {
    const before = await build();
    const personal = (await app.inject('/v1/recommendations/recently-viewed?user=u1&fallback=false')).json();
    assert.deepEqual(
      personal.items.map((i: { id: string }) => i.id),
      ['p3'],
      'u1 viewed p3',
    );

    assert.equal((await setOptOut('u1', true)).statusCode, 200);
    try {
      const recent = (await app.inject('/v1/recommendations/recently-viewed?user=u1')).json();
      assert.equal(recent.opted_out, true);
      assert.ok(!recent.sources.includes('recently-viewed'), `sources ${recent.sources}`);
      const collaborative = (await app.inject('/v1/recommendations/collaborative?user=u1')).json();
      assert.equal(collaborative.opted_out, true);
      assert.deepEqual(collaborative.sources, ['popular'], 'no history, so no personal seeds');
      assert.equal((await app.inject('/v1/recommendations/popular')).json().opted_out, undefined);

      const after = await build();
      assert.equal(after.users, before.users - 1, 'u1 no longer shapes the model');
      // Redis lost the flag (a restart without persistence): the build brings it back.
      await s.redis.del(keys().optOut('u1'));
      await build();
      assert.equal(await s.redis.get(keys().optOut('u1')), '1');
    } finally {
      await setOptOut('u1', false);
    }
  });

  describe('erasure', () => {
    let first: BuildSummary;
    let erased: { events_deleted: number; exposures_deleted: number; redis_keys_deleted: number; deleted_at: string };

    test('before: V shapes the model (p9 exists only through V) and has Redis keys of every kind', async () => {
      first = await build();
      assert.deepEqual(await neighbours(first.version, 'p9'), { ids: ['p1'], scores: [0.57735] });
      assert.deepEqual(await neighbours(first.version, 'p1'), { ids: ['p2', 'p9', 'p3'], scores: [0.666667, 0.57735, 0.408248] });
      assert.ok((await popular(first.version)).includes('p9'));
      assert.equal((await setOptOut(V, true)).statusCode, 200);
      const { userKeys } = keys();
      // As an install upgraded from key layout 1 has: its purchases SET, until the TTL.
      await s.redis.sadd(keys().retiredUserKeys(V)[0], 'p9');
      // What a linked id has (its customer's id) and what a customer keeps (the variants of their
      // first exposures), docs/identity.md: one id is never both, but erasure deletes either.
      await s.redis.set(keys().alias(V), 'someone');
      await s.redis.hset(keys().variants(V), 'e1', 'a');
      // The first exposure noted as it was served (src/store/redis/exposures.ts).
      await s.redis.hset(keys().exposed(V), 'e1', JSON.stringify([Date.now(), 'a']));
      // Every per-user key (recently viewed, bought, bought joined, opt-out flag, lifecycle profile, identity marker, variants, noted exposures, layout 1 purchases...).
      assert.deepEqual(
        await Promise.all(userKeys(V).map((k) => s.redis.exists(k))),
        userKeys(V).map(() => 1),
      );
      // What two of V's emails showed (kept for a while: the mail ids are not known to erasure).
      for (const mail of ['nov*', 'dec[1]']) await s.redis.hset(keys().mail(V, mail), 'block', '{}');
      // A widget block's exposure waiting for its impression (nor are its request ids known).
      await s.redis.set(keys().deferredExposure(V, 'req[1]*'), '{}', 'EX', 600);
    });

    test('DELETE /v1/users/{id}: rows and Redis keys gone at once, a tombstone kept', async () => {
      const res = await app.inject({ method: 'DELETE', url: userUrl(V) });
      assert.equal(res.statusCode, 200, res.body);
      erased = res.json();
      // Every per-user key, the two mails and the deferred exposure.
      const erasedKeys = keys().userKeys(V).length + 3;
      assert.deepEqual({ ...erased, deleted_at: undefined }, { user: V, deleted_at: undefined, events_deleted: 3, exposures_deleted: 1, redis_keys_deleted: erasedKeys, linked: [] });
      assert.equal(await rows('events', V), 0);
      assert.equal(await rows('exposures', V), 0);
      assert.equal(await rows('events', 'u1'), 3, "nobody else's rows");
      assert.equal(await rows('exposures', 'u1'), 1);
      assert.deepEqual(await scanKeys(s.redis, `${s.config.redisPrefix}*{${V}}*`), [], 'no Redis key of V, of any kind');
      const { rows: tombstone } = await s.pool.query('SELECT deleted_at FROM users WHERE id = $1', [V]);
      assert.equal(tombstone[0].deleted_at.toISOString(), erased.deleted_at);
    });

    test('an id with glob characters erases its own mails only', async () => {
      for (const user of ['g*', 'g1']) await s.redis.hset(keys().mail(user, 'nov'), 'block', '{}');
      const res = await app.inject({ method: 'DELETE', url: userUrl('g*') });
      assert.equal(res.json().redis_keys_deleted, 1);
      assert.deepEqual(await Promise.all(['g*', 'g1'].map((user) => s.redis.exists(keys().mail(user, 'nov')))), [0, 1]);
    });

    test('the next build no longer contains V', async () => {
      const second = await build();
      assert.equal(await s.redis.get(keys().neighbours(second.version, 'p9')), null, 'p9 has no neighbours');
      assert.deepEqual(await neighbours(second.version, 'p1'), { ids: ['p2', 'p3'], scores: [0.816497, 0.5] });
      assert.ok(!(await popular(second.version)).includes('p9'), 'p9 is not popular any more');
      assert.deepEqual(await scanKeys(s.redis, `${s.config.redisPrefix}*{${V}}*`), [], "the build's user sync does not bring V back");
      const ttl = await s.redis.ttl(keys().neighbours(first.version, 'p9'));
      assert.ok(ttl > 0 && ttl <= s.config.build.oldVersionTtlSeconds, `the version built with V expires (ttl ${ttl})`);
    });

    test('erasing again changes nothing; V cannot be opted back in', async () => {
      const again = await app.inject({ method: 'DELETE', url: userUrl(V) });
      assert.deepEqual(again.json(), { ...erased, events_deleted: 0, exposures_deleted: 0, redis_keys_deleted: 0 });
      const res = await setOptOut(V, false);
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().error, 'user_erased');
    });

    test('late-arriving events of an erased user are dropped and counted; the others stored', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: {
          events: [
            { user_id: V, item_id: 'p9', type: 'purchase' },
            { user_id: V, item_id: 'p3', type: 'view' },
            { user_id: 'u3', item_id: 'p1', type: 'view' },
          ],
        },
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { accepted: 1, duplicates: 0, dropped: 2 });
      assert.equal(await rows('events', V), 0);
      assert.deepEqual(await scanKeys(s.redis, `${s.config.redisPrefix}*{${V}}*`), []);
    });

    test('an import (say, the full export of the shop again) does not bring an erased user back', async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'recs-privacy-')), 'events.csv');
      await writeFile(file, `user_id,item_id,type,timestamp\n"${V}",p9,purchase,2024-02-01T00:00:00Z\nu3,p1,purchase,2024-02-01T00:00:00Z\n`);
      const summary = await importSource(s.pool, await openSource('generic-events', file, 'shop'), { quiet: true });
      assert.equal(summary.eventsNew, 1);
      assert.equal(await rows('events', V), 0);
    });
  });
});
