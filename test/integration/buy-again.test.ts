// Buy-again and for-you end to end over Redis: the build fits buy-again's parameters and the
// blend on a shop whose customers re-buy staples every week and buy a TV once; the API ranks a
// customer's due staple first, leaves the TV out, counts a new purchase at once, and shows what
// the build learned (GET /v1/models/current). Real PostgreSQL, Redis and build.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildModel, buildOptionsFromConfig, type BuildSummary } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';
import { clearOfBoundary } from '../helpers/clock.ts';
import { DAY_MS } from '../../src/lib/time.ts';

const NOW = Date.now();
const STAPLES = ['milk', 'bread', 'eggs', 'coffee'];

interface Item {
  id: string;
  source: string;
  repeat?: { times_bought: number; last_bought: string; typical_gap_days: number; due_in_days: number };
}

describe('buy-again and for-you over Redis (real build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let built: BuildSummary;

  const purchase = (user: string, item: string, at: number) =>
    s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', $1, $2, 'purchase', $3)`, [user, item, new Date(at)]);
  const block = async (url: string) => {
    const res = await app.inject(url);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { sources: string[]; items: Item[] };
  };

  before(async () => {
    s = await startTestServices();
    for (const id of [...STAPLES, 'tv', 'sofa']) await s.pool.query(`INSERT INTO products (tenant_id, id, title) VALUES ('default', $1, $1)`, [id]);
    // 40 customers: two staples each, every 7 days for 12 weeks (their own weekday), and a TV once.
    for (let u = 0; u < 40; u++) {
      const [a, b] = [STAPLES[u % 4], STAPLES[(u + 1) % 4]];
      for (let week = 12; week >= 1; week--) {
        const at = NOW - week * 7 * DAY_MS - ((u % 7) * DAY_MS) / 7;
        await purchase(`c${u}`, a, at);
        await purchase(`c${u}`, b, at + 3_600_000);
      }
      await purchase(`c${u}`, u % 2 ? 'tv' : 'sofa', NOW - (20 + u) * DAY_MS);
    }
    // me: milk weekly until 8 days ago (due), bread yesterday (just bought), a TV once.
    for (let week = 6; week >= 1; week--) await purchase('me', 'milk', NOW - (week * 7 + 1) * DAY_MS);
    for (const days of [15, 8, 1]) await purchase('me', 'bread', NOW - days * DAY_MS);
    await purchase('me', 'tv', NOW - 30 * DAY_MS);
    // away: milk weekly until 30 days ago, nothing since.
    for (let week = 6; week >= 0; week--) await purchase('away', 'milk', NOW - (week * 7 + 30) * DAY_MS);
    built = await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), similarity: 'cooccurrence', workers: 1, quiet: true, lifecycle: false });
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app?.close();
    await s?.close();
  });

  test('the build fit buy-again and the blend, and publishes what they learned', async () => {
    assert.ok(built.repeat, 'buy-again fit');
    assert.ok(built.blend, 'blend fit');
    const res = await app.inject('/v1/models/current');
    assert.equal(res.statusCode, 200, res.body);
    const current = res.json();
    assert.equal(current.version, built.version);
    assert.deepEqual(Object.keys(current.buy_again.weights), ['intercept', 'log_times', 'decayed_share', 'log_days_since', 'repeat_logit', 'log_due', 'user_repeat_logit', 'log_buyers']);
    assert.deepEqual(
      current.for_you.generators,
      built.blend!.generators.map((g) => g.name),
    );
    assert.equal(Object.keys(current.for_you.weights).length, 2 * current.for_you.generators.length);
  });

  test('a due staple outranks one bought yesterday; the TV, never re-bought by anyone, is left out', async () => {
    const b = await block('/v1/recommendations/buy-again?user=me&fallback=false');
    const ids = b.items.map((i) => i.id);
    assert.ok(ids.includes('milk') && ids.includes('bread'), ids.join());
    assert.ok(ids.indexOf('milk') < ids.indexOf('bread'), `due milk before just-bought bread: ${ids}`);
    assert.ok(!ids.includes('tv'), 'nobody re-buys a TV');
    const milk = b.items.find((i) => i.id === 'milk')!;
    assert.equal(milk.source, 'buy-again');
    assert.equal(milk.repeat!.times_bought, 6);
    assert.ok(milk.repeat!.due_in_days < 0.5, `milk is due: ${JSON.stringify(milk.repeat)}`);
  });

  test("due-ness counts from today, not from the customer's last purchase", async () => {
    await clearOfBoundary(DAY_MS); // the three answers count to the same day
    const milk = (await block('/v1/recommendations/buy-again?user=away&fallback=false')).items.find((i) => i.id === 'milk')!;
    assert.equal(milk.repeat!.times_bought, 7);
    assert.ok(milk.repeat!.due_in_days < -20 && milk.repeat!.due_in_days > -25, `weekly milk last bought 30 days ago is 23 days overdue: ${JSON.stringify(milk.repeat)}`);
    const email = await app.inject('/v1/email/buy-again.json?user=away&limit=3');
    assert.equal(email.statusCode, 200, email.body);
    // One shape everywhere: the email block and the batch show what the API shows.
    assert.deepEqual(email.json().items[0].repeat, milk.repeat);
    const batch = await app.inject({ method: 'POST', url: '/v1/email/batch', payload: { strategy: 'buy-again', users: ['away'], limit: 3 } });
    assert.equal(batch.statusCode, 200, batch.body);
    assert.deepEqual(batch.json().blocks[0].items[0].repeat, milk.repeat);
  });

  test('a purchase counts at once (the same atomic write as every event), and the email block agrees', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user_id: 'me', item_id: 'milk', type: 'purchase' }] } });
    assert.equal(res.statusCode, 200, res.body);
    const milk = (await block('/v1/recommendations/buy-again?user=me&fallback=false')).items.find((i) => i.id === 'milk')!;
    assert.equal(milk.repeat!.times_bought, 7);
    assert.ok(milk.repeat!.due_in_days > 3, `just bought: not due for days (${JSON.stringify(milk.repeat)})`);
    const email = await app.inject('/v1/email/buy-again.json?user=me&limit=3');
    assert.equal(email.statusCode, 200, email.body);
    assert.ok(email.json().items.some((i: Item) => i.id === 'bread' && i.repeat?.times_bought === 3));
  });

  test("for-you blends the generators: the customer's own staples and items for them", async () => {
    const b = await block('/v1/recommendations/for-you?user=me&limit=5');
    assert.equal(b.items.length, 5);
    assert.ok(
      b.items.some((i) => i.id === 'bread' || i.id === 'milk'),
      JSON.stringify(b.items),
    );
    for (const i of b.items) assert.ok(['buy-again', 'collaborative', 'recently-viewed', 'same-brand', 'category-popular', 'popular'].includes(i.source), i.source);
  });

  test('erasure deletes the purchase occasions with the rest', async () => {
    assert.equal(await s.redis.exists(redisKeys(s.config.redisPrefix).occasions('c1')), 1);
    const res = await app.inject({ method: 'DELETE', url: '/v1/users/c1' });
    assert.ok(res.statusCode < 300, res.body);
    assert.equal(await s.redis.exists(redisKeys(s.config.redisPrefix).occasions('c1')), 0);
  });
});
