// Erasure wins every race, opt-out wins over every memory, and neither is lost with Redis data:
// each writer against an erasure caught at its worst moment, the mail memory against an
// opt-out, and the flags against a Redis that lost them (real PostgreSQL, Redis and build).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { eraseAsOwner } from '../../src/store/pg/user-locks.ts';
import { queueUserWrite, writeUsers } from '../../src/store/redis/user-writes.ts';
import { eraseRows } from '../../src/store/pg/users.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

describe('privacy races (real PostgreSQL, Redis and build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const keys = () => redisKeys(s.config.redisPrefix);
  const limits = () => ({ recentlyViewedCap: 10, purchaseOccasionsCap: 100, ttlSeconds: 600 });
  const rows = async (user: string) => (await s.pool.query('SELECT count(*)::int AS n FROM events WHERE user_id = $1', [user])).rows[0].n as number;
  const userKeysOf = (user: string) => scanKeys(s.redis, `${s.config.redisPrefix}*{${user}}*`);
  const view = (user: string, item: string) => ({ user_id: user, item_id: item, type: 'view' });
  const ids = (body: { items: { id: string }[] }) => body.items.map((i) => i.id);

  before(async () => {
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1;
    await loadShop(s.pool);
    await buildShop(s);
    app = await buildApp(s.config, s, { logger: false });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('events arriving while the user is being erased: the batch waits for the erasure, then stores nothing of theirs', async () => {
    let posted: Promise<LightMyRequestResponse> | undefined;
    await eraseAsOwner(s.pool, 'default', 'racer', async (tx) => {
      const erased = await eraseRows(tx, 'default', 'racer');
      // The erasure has deleted, not committed: a batch now must not slip in between.
      posted = app.inject({ method: 'POST', url: '/v1/events', payload: { events: [view('racer', 'a1'), view('bystander', 'a1')] } });
      await sleep(300);
      return erased;
    });
    const res = await posted!;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { accepted: 1, duplicates: 0, dropped: 1 });
    assert.equal(await rows('racer'), 0);
    assert.equal(await rows('bystander'), 1);
  });

  test("a writer that comes after the tombstone writes no key: the events API's and the build's (one writer)", async () => {
    const erase = await app.inject({ method: 'DELETE', url: '/v1/users/late' });
    assert.equal(erase.statusCode, 200);
    // What a request that stored its rows just before the erasure writes next, and what a build
    // that read its snapshot just before writes next:
    await writeUsers(s.redis, keys(), limits(), [
      { user: 'late', item: 'a1', type: 'view', occurredAt: new Date() },
      { user: 'late', item: 'a2', type: 'purchase', occurredAt: new Date() },
    ]);
    const pipeline = s.redis.pipeline();
    queueUserWrite(pipeline, keys(), limits(), { user: 'late', viewed: [['a1', Date.now()]], bought: [['a2', Date.now()]] }, true);
    await pipeline.exec();
    assert.deepEqual(
      (await userKeysOf('late')).filter((k) => !k.includes('erased:')),
      [],
    );
    // Everyone else is written as before.
    await writeUsers(s.redis, keys(), limits(), [{ user: 'alive', item: 'a1', type: 'view', occurredAt: new Date() }]);
    assert.deepEqual(await s.redis.zrange(keys().recentlyViewed('alive'), '0', '-1'), ['a1']);
  });

  test('an erased user keeps being asked for: no mail memory, no exposure rows, however often', async () => {
    await s.pool.query(`INSERT INTO experiments (tenant_id, id, salt, variants, status, started_at) VALUES ('default', 'ab', 'ab', $1, 'running', now())`, [
      JSON.stringify([
        { key: 'pop', weight: 0.5, strategy: 'popular', params: {}, control: true },
        { key: 'cf', weight: 0.5, strategy: 'collaborative', params: {}, control: false },
      ]),
    ]);
    await app.inject({ method: 'DELETE', url: '/v1/users/gone' });
    for (let i = 0; i < 3; i++) {
      for (const url of [
        `/v1/email/popular.json?user=gone&mail_id=m${i}&experiment=ab`,
        `/v1/recommendations?experiment=ab&user=gone&limit=${i + 1}`,
        '/v1/recommendations?experiment=ab&user=bystander',
      ]) {
        assert.equal((await app.inject(url)).statusCode, 200, url);
      }
    }
    await sleep(s.config.experiments.exposures.flushIntervalMs + 500);
    const exposed = (user: string) => s.pool.query('SELECT 1 FROM exposures WHERE user_id = $1', [user]).then((r) => r.rowCount);
    assert.equal(await exposed('gone'), 0, 'no exposure row');
    assert.ok((await exposed('bystander'))! > 0, 'everyone else is recorded');
    assert.deepEqual(
      (await userKeysOf('gone')).filter((k) => !k.includes('erased:')),
      [],
      'no mail: key',
    );
  });

  test("opt-out wins over the mail's memory: a block remembered before is not served again (GET and batch)", async () => {
    await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [view('mia', 'c2'), view('mia', 'z9')] } });
    const url = '/v1/email/recently-viewed.json?user=mia&mail_id=welcome&limit=2';
    const before = (await app.inject(url)).json();
    assert.deepEqual(ids(before), ['z9', 'c2'], 'her views, remembered under the mail');
    await app.inject({ method: 'POST', url: '/v1/users/mia/preferences', payload: { personalization_opt_out: true } });
    const after = (await app.inject(url)).json();
    assert.equal(after.opted_out, true);
    assert.ok(!ids(after).includes('z9') && !ids(after).includes('c2'), `not her views: ${ids(after)}`);
    const batch = (await app.inject({ method: 'POST', url: '/v1/email/batch', payload: { strategy: 'recently-viewed', users: ['mia'], mail_id: 'welcome', limit: 2 } })).json();
    assert.equal(batch.blocks[0].opted_out, true);
    assert.ok(!ids(batch.blocks[0]).includes('z9'), `batch: ${ids(batch.blocks[0])}`);
  });

  test('opt-outs lost with Redis data: no personal answer until they are copied back from PostgreSQL', async () => {
    await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [view('otto', 'a4')] } });
    await app.inject({ method: 'POST', url: '/v1/users/otto/preferences', payload: { personalization_opt_out: true } });
    // Redis lost its data (here: the flags); events since have brought otto's views back.
    await s.redis.del(keys().optOut('otto'), keys().flagsSynced);
    const during = await app.inject('/v1/recommendations/recently-viewed?user=otto');
    assert.equal(during.statusCode, 200);
    assert.equal(during.json().degraded, true, 'made without his history');
    assert.equal(during.headers['cache-control'], 'no-store');
    assert.ok(!ids(during.json()).includes('a4'));
    // The read asked for the flags; they come back from PostgreSQL, the truth.
    for (let i = 0; i < 50 && (await s.redis.exists(keys().flagsSynced)) === 0; i++) await sleep(20);
    assert.equal(await s.redis.get(keys().optOut('otto')), '1');
    const restored = (await app.inject('/v1/recommendations/recently-viewed?user=otto')).json();
    assert.equal(restored.opted_out, true);
    assert.ok(!ids(restored).includes('a4'));
  });
});
