import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

describe('POST /v1/events (real PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const keys = () => redisKeys(s.config.redisPrefix);
  const post = (body: unknown) => app.inject({ method: 'POST', url: '/v1/events', payload: body as object });
  const count = async () => (await s.pool.query('SELECT count(*)::int AS n FROM events')).rows[0].n as number;

  before(async () => {
    s = await startTestServices({ recentlyViewedCap: 3 });
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('accepts a good batch and stores every event', async () => {
    const res = await post({
      events: [
        { user_id: 'alice', item_id: 'a', type: 'view', occurred_at: '2024-05-01T10:00:00Z' },
        { user_id: 'alice', item_id: 'b', type: 'purchase', quantity: 2, price: 9.5, occurred_at: '2024-05-01T10:05:00Z' },
        { user_id: 'bob', item_id: 'a', type: 'click', request_id: 'req-1' },
      ],
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { accepted: 3, duplicates: 0, dropped: 0 });
    assert.equal(await count(), 3);
    const { rows } = await s.pool.query(`SELECT quantity, price, request_id FROM events WHERE type = 'purchase' OR type = 'click' ORDER BY type`);
    assert.deepEqual(rows, [
      { quantity: 1, price: null, request_id: 'req-1' },
      { quantity: 2, price: 9.5, request_id: null },
    ]);
    assert.deepEqual(await s.redis.zrange(keys().bought('alice'), '0', '-1'), ['b']);
    assert.equal(await s.redis.get(keys().boughtIds('alice')), 'b');
  });

  const bad: [string, unknown, string][] = [
    [
      'unknown type',
      {
        events: [
          { user_id: 'u', item_id: 'i', type: 'view' },
          { user_id: 'u', item_id: 'i', type: 'teleport' },
        ],
      },
      'events[1].type',
    ],
    ['missing item', { events: [{ user_id: 'u', type: 'view' }] }, 'events[0].item_id'],
    ['empty batch', { events: [] }, 'events'],
    ['too many events', { events: Array.from({ length: 1001 }, () => ({ user_id: 'u', item_id: 'i', type: 'view' })) }, 'events'],
    ['bad date', { events: [{ user_id: 'u', item_id: 'i', type: 'view', occurred_at: 'tuesday' }] }, 'events[0].occurred_at'],
    ['unknown field', { events: [{ user_id: 'u', item_id: 'i', type: 'view', colour: 'red' }] }, 'events[0].colour'],
    ['over-long id', { events: [{ user_id: 'u'.repeat(257), item_id: 'i', type: 'view' }] }, 'events[0].user_id'],
    ['negative price', { events: [{ user_id: 'u', item_id: 'i', type: 'purchase', price: -1 }] }, 'events[0].price'],
    ['not an object', [1, 2], ''],
  ];
  for (const [name, body, field] of bad) {
    test(`rejects a batch with ${name} (400 naming the field) and stores nothing from it`, async () => {
      const before = await count();
      const res = await post(body);
      assert.equal(res.statusCode, 400);
      const json = res.json();
      assert.equal(json.error, 'invalid_request');
      if (field) assert.equal(json.field, field);
      assert.equal(await count(), before);
    });
  }

  test('rejects a body that is not JSON with 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: '{"events": [' });
    assert.equal(res.statusCode, 400);
  });

  test('idempotency_key: a retried event is stored once', async () => {
    const batch = {
      events: [
        { user_id: 'carol', item_id: 'x', type: 'purchase', idempotency_key: 'order-77-line-1' },
        { user_id: 'carol', item_id: 'y', type: 'purchase', idempotency_key: 'order-77-line-2' },
      ],
    };
    assert.deepEqual((await post(batch)).json(), { accepted: 2, duplicates: 0, dropped: 0 });
    const before = await count();
    assert.deepEqual((await post(batch)).json(), { accepted: 0, duplicates: 2, dropped: 0 });
    assert.equal(await count(), before);
  });

  test('recently viewed in Redis: newest first, deduplicated, capped', async () => {
    const view = (item: string, minute: number) => ({ user_id: 'dave', item_id: item, type: 'view', occurred_at: `2024-05-02T10:${String(minute).padStart(2, '0')}:00Z` });
    await post({ events: [view('p1', 1), view('p2', 2), view('p3', 3)] });
    await post({ events: [view('p1', 4)] }); // p1 again: moves to the front, no duplicate
    assert.deepEqual(await s.redis.zrevrange(keys().recentlyViewed('dave'), 0, -1), ['p1', 'p3', 'p2']);
    await post({ events: [view('p4', 5), view('p5', 6)] }); // over the cap of 3: the oldest go
    assert.deepEqual(await s.redis.zrevrange(keys().recentlyViewed('dave'), 0, -1), ['p5', 'p4', 'p1']);
    await post({ events: [view('p2', 0)] }); // a late, older view does not jump ahead of newer ones
    assert.deepEqual(await s.redis.zrevrange(keys().recentlyViewed('dave'), 0, -1), ['p5', 'p4', 'p1']);
    assert.ok((await s.redis.ttl(keys().recentlyViewed('dave'))) > 0, 'per-user keys expire');
  });

  test('purchases in Redis: newest first, one entry per item, the newest time winning; the joined copy in step', async () => {
    const buy = (item: string, minute: number) => ({ user_id: 'erin', item_id: item, type: 'purchase', occurred_at: `2024-05-02T10:${String(minute).padStart(2, '0')}:00Z` });
    await post({ events: [buy('x', 1), buy('y', 2), buy('x', 5)] }); // x again, later: it moves to the front
    await post({ events: [buy('z', 0), buy('y', 0)] }); // late and older: z goes last, y keeps minute 2
    assert.deepEqual(await s.redis.zrange(keys().bought('erin'), '0', '-1'), ['x', 'y', 'z']);
    assert.equal(await s.redis.get(keys().boughtIds('erin')), 'x\ny\nz');
    for (const key of [keys().bought('erin'), keys().boughtIds('erin')]) assert.ok((await s.redis.ttl(key)) > 0, `${key} expires`);
  });

  test('health and readiness', async () => {
    assert.equal((await app.inject('/health')).statusCode, 200);
    const unready = await app.inject('/ready');
    assert.equal(unready.statusCode, 503, 'no model is live yet');
    assert.deepEqual(unready.json(), { status: 'not_ready', redis: 'no model is live: run the build', postgres: 'ok' });
    await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true });
    const ready = await app.inject('/ready');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', redis: 'ok', postgres: 'ok' });
    assert.ok(ready.headers['x-request-id']);
  });
});
