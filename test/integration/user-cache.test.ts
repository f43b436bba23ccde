import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createJobsRedis, isCluster } from '../../src/store/redis/client.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

// Users' results are kept in-process until Redis reports a change to their keys (client
// tracking, on every master of a Cluster under `npm run test:cluster`). Every writer, in this
// process or another, must show in the very next request.
describe("users' kept results (real Redis client tracking, PostgreSQL and build)", () => {
  let s: TestServices;
  let app: FastifyInstance;
  const keys = () => redisKeys(s.config.redisPrefix);
  const recentlyViewed = async (user: string) => {
    const res = await app.inject({ url: `/v1/recommendations/recently-viewed?user=${encodeURIComponent(user)}&fallback=false` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { opted_out?: boolean; items: { id: string }[] };
  };
  const viewedIds = async (user: string) => (await recentlyViewed(user)).items.map((i) => i.id);
  const hits = async () => Number(/^recs_user_cache_hits (\S+)$/m.exec((await app.inject({ url: '/metrics' })).body)?.[1]);
  const events = async (list: object[]) => {
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: { events: list } });
    assert.equal(res.statusCode, 200, res.body);
  };
  const view = (user: string, item: string, minute: number) => ({ user_id: user, item_id: item, type: 'view', occurred_at: `2024-05-01T10:${String(minute).padStart(2, '0')}:00Z` });
  /** Answers (and keeps) the user's block, then checks the next request is a hit. */
  const kept = async (user: string) => {
    const first = await viewedIds(user);
    const before = await hits();
    assert.deepEqual(await viewedIds(user), first);
    assert.equal(await hits(), before + 1, 'the second request is served from the kept result');
    return first;
  };
  /** A view written straight into Redis by another connection, as another process or job would. */
  const viewElsewhere = async (user: string, item: string, at: string) => {
    const other = createJobsRedis(s.config);
    try {
      await other.zadd(keys().recentlyViewed(user), Date.parse(at), item);
    } finally {
      other.disconnect();
    }
  };
  /** Waits until the tracking is armed again (a kept result shows as a hit). */
  const armed = async (user: string) => {
    for (let i = 0; i < 100; i++) {
      await viewedIds(user);
      const before = await hits();
      await viewedIds(user);
      if ((await hits()) > before) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail('client tracking was not armed again');
  };

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool);
    await buildShop(s);
    app = await buildApp(s.config, s, { logger: false });
    await events([view('u1', 'a1', 0), view('u2', 'b1', 0)]);
    await armed('u1');
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('a view through the API shows in the next request', async () => {
    assert.deepEqual(await kept('u1'), ['a1']);
    await events([view('u1', 'a2', 1)]);
    assert.deepEqual(await viewedIds('u1'), ['a2', 'a1']);
  });

  test("another process's write to the user's keys shows in the next request (Redis names the key)", async () => {
    assert.deepEqual(await kept('u2'), ['b1']);
    await viewElsewhere('u2', 'b2', '2024-05-01T11:00:00Z');
    assert.deepEqual(await viewedIds('u2'), ['b2', 'b1']);
  });

  test('an opt-out and an erasure win over the kept result at once', async () => {
    await events([view('u3', 'c1', 0)]);
    assert.deepEqual(await kept('u3'), ['c1']);
    const optOut = await app.inject({ method: 'POST', url: '/v1/users/u3/preferences', payload: { personalization_opt_out: true } });
    assert.equal(optOut.statusCode, 200, optOut.body);
    const res = await recentlyViewed('u3');
    assert.equal(res.opted_out, true);
    assert.deepEqual(res.items, []);

    await events([view('u4', 'c2', 0)]);
    assert.deepEqual(await kept('u4'), ['c2']);
    const erased = await app.inject({ method: 'DELETE', url: '/v1/users/u4' });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.deepEqual(await viewedIds('u4'), []);
  });

  test("a linked id's result follows its customer's new views", async () => {
    await events([view('anon-9', 'a3', 0), view('cust-9', 'b3', 1)]);
    const linked = await app.inject({ method: 'POST', url: '/v1/identities', payload: { anonymous_id: 'anon-9', customer_id: 'cust-9' } });
    assert.equal(linked.statusCode, 200, linked.body);
    assert.deepEqual(await kept('anon-9'), ['b3', 'a3']);
    await events([view('cust-9', 'c1', 2)]);
    assert.deepEqual(await viewedIds('anon-9'), ['c1', 'b3', 'a3']);
  });

  test('a lost subscriber drops every kept result, and a write made while it is away still shows', async () => {
    await events([view('u5', 'a1', 0)]);
    assert.deepEqual(await kept('u5'), ['a1']);
    // Kill the pub/sub connections (this app's tracking subscribers among them) and, at once, write.
    for (const node of isCluster(s.redis) ? s.redis.nodes('master') : [s.redis]) await node.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await viewElsewhere('u5', 'a2', '2024-05-01T11:00:00Z');
    assert.deepEqual(await viewedIds('u5'), ['a2', 'a1']);
    await armed('u5');
    assert.deepEqual(await viewedIds('u5'), ['a2', 'a1']);
  });

  test('a lost tracking connection (the subscriber still up) drops every kept result too, and is armed again', async () => {
    await events([view('u6', 'a1', 0)]);
    assert.deepEqual(await kept('u6'), ['a1']);
    // The connections whose tracking broadcasts (flags t and B in CLIENT LIST) go; the subscribers stay.
    for (const node of isCluster(s.redis) ? s.redis.nodes('master') : [s.redis]) {
      const list = String(await node.call('CLIENT', 'LIST'));
      for (const [, id] of list.matchAll(/^id=(\d+) .*\bflags=\S*B/gm)) await node.call('CLIENT', 'KILL', 'ID', id);
    }
    await viewElsewhere('u6', 'a3', '2024-05-01T11:00:00Z');
    assert.deepEqual(await viewedIds('u6'), ['a3', 'a1']);
    await armed('u6');
    await events([view('u6', 'a2', 30)]);
    assert.deepEqual(await viewedIds('u6'), ['a3', 'a2', 'a1']);
  });
});
