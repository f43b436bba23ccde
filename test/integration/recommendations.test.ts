import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

// Expected orders are worked out by hand from the shop in test/fixtures/recs/shop.ts.
describe('GET /v1/recommendations (real build, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let version: number;

  const get = (url: string) => app.inject({ method: 'GET', url });
  const body = async (url: string) => {
    const res = await get(url);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { request_id: string; strategy: string; model_version: number; sources: string[]; items: Record<string, unknown>[] };
  };
  const ids = async (url: string) => (await body(url)).items.map((i) => i.id);
  const events = (list: object[]) => app.inject({ method: 'POST', url: '/v1/events', payload: { events: list } });

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool);
    version = (await buildShop(s)).version;
    app = await buildApp(s.config, s, { logger: false });
    // Live activity after the build: it reaches Redis at once, the model stays as built.
    const view = (user: string, item: string, minute: number) => ({ user_id: user, item_id: item, type: 'view', occurred_at: `2024-05-01T10:0${minute}:00Z` });
    const res = await events([view('u4', 'c1', 0), view('u9', 'b3', 0), view('u9', 'c2', 5), view('u10', 'a1', 0), view('u10', 'a3', 1), { user_id: 'u10', item_id: 'a3', type: 'purchase' }]);
    assert.equal(res.statusCode, 200);
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  describe('collaborative', () => {
    test('by item: neighbours by score, ties by id, each with the seed it came from', async () => {
      const res = await body('/v1/recommendations/collaborative?item=a2&limit=3');
      assert.equal(res.strategy, 'collaborative');
      assert.equal(res.model_version, version);
      assert.deepEqual(res.sources, ['collaborative']);
      assert.deepEqual(
        res.items.map((i) => [i.id, i.similarity, i.score, i.because, i.source]),
        [
          ['a1', 2, 1, 'a2', 'collaborative'],
          ['b1', 2, 1, 'a2', 'collaborative'],
          ['a3', 1, 0.5, 'a2', 'collaborative'],
        ],
      );
    });

    test('several items: scores add up; `because` is the biggest contributor (ties: smaller seed id)', async () => {
      const res = await body('/v1/recommendations/collaborative?item=a3&item=b2&limit=3');
      assert.deepEqual(
        res.items.map((i) => [i.id, i.similarity, i.because]),
        [
          ['a1', 2, 'a3'],
          ['a2', 2, 'a3'],
          ['b1', 2, 'b2'],
        ],
      );
    });

    test('fills to the limit along the chain and says which sources it used', async () => {
      const res = await body('/v1/recommendations/collaborative?item=a2&limit=10');
      // Collaborative gives 4; the Acme brand list adds nothing new; kitchen adds b3, n1; popular the rest.
      assert.deepEqual(
        res.items.map((i) => [i.id, i.source]),
        [
          ['a1', 'collaborative'],
          ['b1', 'collaborative'],
          ['a3', 'collaborative'],
          ['b2', 'collaborative'],
          ['b3', 'category-popular'],
          ['n1', 'category-popular'],
          ['c1', 'popular'],
          ['c2', 'popular'],
        ],
      );
      assert.deepEqual(res.sources, ['collaborative', 'category-popular', 'popular']);
    });

    test('by user: purchases and recent views are the seeds, purchases are left out', async () => {
      // u4 bought a2, b1, b2 (weight 1 each) and viewed c1 (weight 0.25).
      const res = await get('/v1/recommendations/collaborative?user=u4&limit=4');
      assert.deepEqual(
        res.json().items.map((i: { id: string; similarity: number; score: number; because: string }) => [i.id, i.similarity, i.score, i.because]),
        [
          ['a1', 3.25, 1, 'a2'],
          ['a3', 1, 0.3077, 'a2'],
          ['c2', 0.25, 0.0769, 'c1'],
          ['n1', 0.25, 0.0769, 'c1'],
        ],
      );
      assert.equal(res.headers['cache-control'], 'private, max-age=10');
    });

    test('by user, more purchases than seeds: the latest purchases seed the block', async () => {
      // u11 bought a3, then c2 a day later; with room for one seed, c2 (neighbours a1 1, c1 1) is it.
      const buy = (item: string, at: string) => ({ user_id: 'u11', item_id: item, type: 'purchase', occurred_at: at });
      assert.equal((await events([buy('c2', '2024-05-02T10:00:00Z'), buy('a3', '2024-05-01T10:00:00Z')])).statusCode, 200);
      const oneSeed = await buildApp({ ...s.config, serving: { ...s.config.serving, maxSeeds: 1 } }, s, { logger: false });
      try {
        const res = await oneSeed.inject({ method: 'GET', url: '/v1/recommendations/collaborative?user=u11&limit=2&fallback=false' });
        assert.deepEqual(
          res.json().items.map((i: { id: string; because: string }) => [i.id, i.because]),
          [
            ['a1', 'c2'],
            ['c1', 'c2'],
          ],
        );
      } finally {
        await oneSeed.close();
      }
    });

    test("item and user together: the item is the seed, the user's purchases are left out", async () => {
      assert.deepEqual(await ids('/v1/recommendations/collaborative?item=a2&user=u4&limit=3'), ['a1', 'a3', 'b3']);
    });

    test('unknown item or new user: popular items, never an empty block', async () => {
      const unknown = await body('/v1/recommendations/collaborative?item=nope&limit=3');
      assert.deepEqual(
        unknown.items.map((i) => i.id),
        ['a1', 'a2', 'b1'],
      );
      assert.deepEqual(unknown.sources, ['popular']);
      assert.deepEqual(await ids('/v1/recommendations/collaborative?user=newcomer&limit=3'), ['a1', 'a2', 'b1']);
    });

    test("fallback=false: only the strategy's own items", async () => {
      assert.deepEqual(await ids('/v1/recommendations/collaborative?item=b2&fallback=false'), ['b1', 'a2']);
      assert.deepEqual(await ids('/v1/recommendations/collaborative?item=nope&fallback=false'), []);
    });
  });

  describe('same-brand', () => {
    test('by item: the brand by popularity, the seed left out, then the chain', async () => {
      const res = await body('/v1/recommendations/same-brand?item=a2');
      assert.deepEqual(
        res.items.map((i) => [i.id, i.source]),
        [
          ['a1', 'same-brand'],
          ['a3', 'same-brand'],
          ['b3', 'category-popular'],
          ['n1', 'category-popular'],
          ['b1', 'popular'],
          ['b2', 'popular'],
          ['c1', 'popular'],
          ['c2', 'popular'],
        ],
      );
      assert.equal(res.items[0].because, 'a2');
      assert.equal((await get('/v1/recommendations/same-brand?item=a2')).headers['cache-control'], 'public, max-age=300');
    });

    test("by user: the brands of the user's recent views, merged by popularity", async () => {
      // u9 viewed b3 (Bolt) then c2 (Cora): Bolt b1 3, b2 2; Cora c1 2 (tie with b2: smaller id first).
      const res = await body('/v1/recommendations/same-brand?user=u9&limit=3');
      assert.deepEqual(
        res.items.map((i) => [i.id, i.because]),
        [
          ['b1', 'b3'],
          ['b2', 'b3'],
          ['c1', 'c2'],
        ],
      );
    });

    test('by user without views: the brands of their purchases, those they bought left out', async () => {
      // u5 bought b1 and b2 (Bolt) and never browsed: Bolt's other items first.
      const res = await body('/v1/recommendations/same-brand?user=u5&limit=3');
      assert.deepEqual(res.items[0], { ...res.items[0], id: 'b3', source: 'same-brand' });
      assert.ok(!res.items.some((i) => i.id === 'b1' || i.id === 'b2'), JSON.stringify(res.items));
    });
  });

  describe('recently-viewed', () => {
    test('newest first, then items related to those views', async () => {
      assert.deepEqual(await ids('/v1/recommendations/recently-viewed?user=u9&limit=2'), ['c2', 'b3']);
      const res = await body('/v1/recommendations/recently-viewed?user=u9&limit=4');
      assert.deepEqual(
        res.items.map((i) => [i.id, i.source]),
        [
          ['c2', 'recently-viewed'],
          ['b3', 'recently-viewed'],
          ['a1', 'collaborative'],
          ['c1', 'collaborative'],
        ],
      );
      assert.deepEqual([res.items[0].score, res.items[0].viewed_at], [1, '2024-05-01T10:05:00.000Z']);
    });

    test('exclude_purchased leaves out what the user bought', async () => {
      assert.deepEqual(await ids('/v1/recommendations/recently-viewed?user=u10&fallback=false'), ['a3', 'a1']);
      assert.deepEqual(await ids('/v1/recommendations/recently-viewed?user=u10&fallback=false&exclude_purchased=true'), ['a1']);
    });

    test('purchases an older version stored (the ZSET without its joined copy) still count', async () => {
      await s.redis.del(redisKeys(s.config.redisPrefix).boughtIds('u10'));
      assert.deepEqual(await ids('/v1/recommendations/recently-viewed?user=u10&fallback=false&exclude_purchased=true'), ['a1']);
    });
  });

  describe('popular', () => {
    test('overall and per category, ties by id', async () => {
      assert.deepEqual(await ids('/v1/recommendations/popular?limit=3'), ['a1', 'a2', 'b1']);
      assert.deepEqual(await ids('/v1/recommendations/popular?category=home'), ['c1', 'c2']);
      assert.deepEqual(await ids('/v1/recommendations/popular?category=nowhere'), []);
    });

    test('every item comes with the catalog fields a block needs', async () => {
      const res = await get('/v1/recommendations/popular?limit=1');
      assert.equal(res.json().request_id, res.headers['x-request-id']);
      assert.deepEqual(res.json().items, [
        {
          id: 'a1',
          score: 1,
          source: 'popular',
          popularity: 5,
          title: 'Acme Kettle',
          brand: 'Acme',
          category: 'kitchen',
          price: 20,
          currency: 'EUR',
          url: 'https://shop.example/p/a1',
          image_url: 'https://img.example/a1.jpg',
          in_stock: true,
        },
      ]);
    });

    test('fields picks what comes back', async () => {
      const { items } = await body('/v1/recommendations/popular?limit=1&fields=title,price');
      assert.deepEqual(items, [{ id: 'a1', score: 1, source: 'popular', popularity: 5, title: 'Acme Kettle', price: 20 }]);
      // Naming the fields every item has anyway is allowed (a front-end lists what it reads).
      assert.deepEqual((await body('/v1/recommendations/popular?limit=1&fields=id,score,source,title')).items, [{ id: 'a1', score: 1, source: 'popular', popularity: 5, title: 'Acme Kettle' }]);
    });
  });

  describe('filters', () => {
    test('in_stock', async () => {
      assert.deepEqual(await ids('/v1/recommendations/popular?category=kitchen&in_stock=true'), ['a1', 'a2', 'b3', 'n1']);
      assert.deepEqual(await ids('/v1/recommendations/collaborative?item=a1&in_stock=true&limit=3'), ['a2', 'b1', 'b3']);
    });

    test('price range', async () => {
      assert.deepEqual(await ids('/v1/recommendations/popular?min_price=10&max_price=40'), ['a1', 'a2', 'b2']);
    });

    test('category applies to every source of the chain', async () => {
      const res = await body('/v1/recommendations/collaborative?item=a2&category=tools');
      assert.deepEqual(
        res.items.map((i) => i.id),
        ['b1', 'b2'],
      );
      assert.deepEqual(res.sources, ['collaborative']);
    });

    test('brand_cap: at most N per brand; items without a brand are not capped', async () => {
      assert.deepEqual(await ids('/v1/recommendations/popular?brand_cap=1'), ['a1', 'b1', 'c1', 'n1']);
      assert.deepEqual(await ids('/v1/recommendations/popular?brand_cap=2&limit=5'), ['a1', 'a2', 'b1', 'b2', 'c1']);
    });

    test('exclude: repeated and comma-separated', async () => {
      assert.deepEqual(await ids('/v1/recommendations/popular?exclude=a1,b1&exclude=a2&limit=3'), ['a3', 'b2', 'c1']);
    });
  });

  describe('parameters', () => {
    test('limit defaults to 10 and may be 1..100', async () => {
      assert.equal((await body('/v1/recommendations/popular')).items.length, 9);
      assert.equal((await body('/v1/recommendations/popular?limit=100')).items.length, 9);
      assert.equal((await body('/v1/recommendations/popular?limit=1')).items.length, 1);
    });

    const bad: [string, string, string][] = [
      ['limit 0', '/v1/recommendations/popular?limit=0', 'limit'],
      ['limit 101', '/v1/recommendations/popular?limit=101', 'limit'],
      ['limit not a number', '/v1/recommendations/popular?limit=ten', 'limit'],
      ['brand_cap 0', '/v1/recommendations/popular?brand_cap=0', 'brand_cap'],
      ['negative price', '/v1/recommendations/popular?min_price=-1', 'min_price'],
      ['min above max', '/v1/recommendations/popular?min_price=10&max_price=5', 'max_price'],
      ['in_stock not a boolean', '/v1/recommendations/popular?in_stock=maybe', 'in_stock'],
      ['unknown field name', '/v1/recommendations/popular?fields=title,colour', 'fields[1]'],
      ['unknown parameter', '/v1/recommendations/popular?colour=red', 'colour'],
      ['user on popular', '/v1/recommendations/popular?user=u1', 'user'],
      ['neither item nor user', '/v1/recommendations/collaborative?limit=3', 'item'],
      ['empty item', '/v1/recommendations/same-brand?item=', 'item[0]'],
      ['no user for recently viewed', '/v1/recommendations/recently-viewed', 'user'],
      ['over-long user id', `/v1/recommendations/collaborative?user=${'u'.repeat(257)}`, 'user'],
    ];
    for (const [name, url, field] of bad) {
      test(`400 naming the field: ${name}`, async () => {
        const res = await get(url);
        assert.equal(res.statusCode, 400, res.body);
        const json = res.json();
        assert.equal(json.error, 'invalid_request');
        assert.equal(json.field, field);
        assert.ok(json.message.length > 0);
      });
    }
  });

  describe('operations', () => {
    test('OpenAPI documents every endpoint with its parameters and response', async () => {
      const doc = (await get('/docs/json')).json();
      for (const strategy of ['recently-viewed', 'same-brand', 'collaborative', 'popular']) {
        const op = doc.paths[`/v1/recommendations/${strategy}`].get;
        assert.ok(op.summary && op.description, strategy);
        const names = op.parameters.map((p: { name: string }) => p.name);
        for (const p of ['limit', 'exclude', 'category', 'in_stock', 'min_price', 'max_price', 'brand_cap', 'fields']) assert.ok(names.includes(p), `${strategy} ${p}`);
        assert.ok(
          op.parameters.every((p: { description?: string }) => p.description),
          `${strategy}: every parameter described`,
        );
        assert.ok(op.responses['200'].content['application/json'].schema.properties.items, strategy);
      }
    });

    test('/metrics: request latency per route, fallbacks per source, model version and age, cache', async () => {
      await get('/v1/recommendations/collaborative?item=nope&limit=3');
      const text = (await get('/metrics')).body;
      assert.match(text, /recs_http_request_duration_seconds_count\{method="GET",route="\/v1\/recommendations\/popular",status_code="200"\} \d+/);
      assert.match(text, /recs_recommendation_duration_seconds_count\{tenant="default",strategy="collaborative"\} \d+/);
      assert.match(text, /recs_recommendation_fallback_total\{tenant="default",strategy="collaborative",source="popular"\} \d+/);
      assert.match(text, new RegExp(`recs_model_version\\{tenant="default"\\} ${version}\\b`));
      const age = Number(/^recs_model_age_seconds\{tenant="default"\} (\S+)$/m.exec(text)?.[1]);
      assert.ok(age >= 0 && age < 600, `model age ${age}`);
      assert.match(text, /recs_model_cache_hits [1-9]/);
    });

    test('a block without a user is computed once per model version, then served serialized from the block cache', async () => {
      const url = '/v1/recommendations/collaborative?item=b1&limit=4&fields=title';
      const hits = async () => Number(/^recs_block_cache_hits (\S+)$/m.exec((await get('/metrics')).body)?.[1]);
      const first = await get(url);
      const before = await hits();
      const second = await get(url);
      assert.equal(await hits(), before + 1);
      for (const res of [first, second]) {
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(res.headers['cache-control'], 'public, max-age=300');
        assert.equal(res.json().request_id, res.headers['x-request-id']);
      }
      assert.notEqual(second.json().request_id, first.json().request_id);
      assert.deepEqual({ ...second.json<object>(), request_id: 'x' }, { ...first.json<object>(), request_id: 'x' });
      // The fields and order of the response schema: only the asked-for catalog field.
      assert.deepEqual(Object.keys(first.json()), ['request_id', 'strategy', 'model_version', 'sources', 'items']);
      assert.deepEqual(Object.keys(first.json().items[0]), ['id', 'score', 'source', 'similarity', 'because', 'title']);
      // A user's block is never taken from it.
      assert.equal((await get('/v1/recommendations/collaborative?item=b1&limit=4&fields=title&user=u4')).headers['cache-control'], 'private, max-age=10');
      assert.equal(await hits(), before + 1);
    });

    test('CORS is off by default', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/recommendations/popular', headers: { origin: 'https://shop.example' } });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });

    test('CORS for the configured origins only', async () => {
      const cors = await buildApp({ ...s.config, serving: { ...s.config.serving, corsOrigins: ['https://shop.example'] } }, s, { logger: false });
      try {
        const allowed = await cors.inject({ method: 'GET', url: '/v1/recommendations/popular?limit=1', headers: { origin: 'https://shop.example' } });
        assert.equal(allowed.headers['access-control-allow-origin'], 'https://shop.example');
        const other = await cors.inject({ method: 'GET', url: '/v1/recommendations/popular?limit=1', headers: { origin: 'https://evil.example' } });
        assert.equal(other.headers['access-control-allow-origin'], undefined);
      } finally {
        await cors.close();
      }
    });
  });
});
