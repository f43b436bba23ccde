import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { LruCache } from '../../src/lib/lru-cache.ts';
import { RedisRecStore } from '../../src/store/redis/rec-store.ts';
import { addPurchases, buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

interface Block {
  model_version: number;
  items: { id: string; title: string }[];
}

const URLS = [
  '/v1/recommendations/collaborative?item=a2&limit=6',
  '/v1/recommendations/collaborative?item=c1&item=b2&limit=6',
  '/v1/recommendations/same-brand?item=b3&limit=6',
  '/v1/recommendations/popular?limit=6',
];

// Each build gets its own title suffix, so an item shows which version it was read from.
const retitle = (s: TestServices, from: string, to: string) => s.pool.query(`UPDATE products SET title = replace(title, $1, $2)`, [from, to]);

describe('model version swap while serving (real build, PostgreSQL and Redis)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const get = async (url: string) => (await app.inject({ method: 'GET', url })).json() as Block;

  before(async () => {
    // The live version is re-read every millisecond, so a swap shows at once, mid-traffic.
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1;
    s.config.build.publishBatch = 2;
    await loadShop(s.pool, ' #1');
    await buildShop(s);
    app = await buildApp(s.config, s, { logger: false });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('every response comes whole from one version, before, during and after the swap', async () => {
    const v1 = (await get(URLS[0])).model_version;
    const expected = new Map<number, string[][]>([[v1, await Promise.all(URLS.map(async (u) => (await get(u)).items.map((i) => i.id)))]]);

    // The next build changes titles, neighbours and popularity: c1 and b2 are now bought together.
    await retitle(s, ' #1', ' #2');
    await addPurchases(s.pool, { u11: ['c1', 'b2'], u12: ['c1', 'b2', 'a3'], u13: ['a2', 'c2'] });
    const seen: { url: number; block: Block }[] = [];
    let building = true;
    const build = buildShop(s, { publishPauseMs: 2 }).finally(() => {
      building = false;
    });
    const client = async () => {
      let after = 0;
      while (building || after++ < 20) {
        const url = seen.length % URLS.length;
        seen.push({ url, block: await get(URLS[url]) });
      }
    };
    await Promise.all([build, ...Array.from({ length: 8 }, client)]);
    const v2 = (await build).version;
    expected.set(v2, await Promise.all(URLS.map(async (u) => (await get(u)).items.map((i) => i.id))));
    assert.notDeepEqual(expected.get(v2), expected.get(v1), 'the two builds answer differently');

    const versions = new Set<number>();
    for (const { url, block } of seen) {
      const suffix = block.model_version === v1 ? ' #1' : block.model_version === v2 ? ' #2' : assert.fail(`unknown version ${block.model_version}`);
      versions.add(block.model_version);
      assert.deepEqual(
        block.items.map((i) => i.id),
        expected.get(block.model_version)![url],
        `${URLS[url]} as version ${block.model_version}`,
      );
      for (const item of block.items) assert.ok(item.title.endsWith(suffix), `${item.id} "${item.title}" in a version ${block.model_version} block`);
    }
    assert.deepEqual([...versions].sort(), [v1, v2], `both versions served (${seen.length} requests)`);
  });

  test('a request keeps the version it started with, even after a swap', async () => {
    const store = new RedisRecStore(s.redis, redisKeys(s.config.redisPrefix), new LruCache(1000, 1 << 24), s.config.serving);
    const pinned = await store.model();
    await retitle(s, ' #2', ' #3');
    const next = (await buildShop(s)).version;
    await sleep(5);
    const live = await store.model();
    assert.equal(live.version, next);
    assert.notEqual(pinned.version, next);
    // z9 was never read before: this is a read from Redis, of the pinned (older) version.
    assert.equal((await pinned.items(['z9']))[0]?.title, 'Zeta Clock #2');
    assert.equal((await live.items(['z9']))[0]?.title, 'Zeta Clock #3');
  });
});
