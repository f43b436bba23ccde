// A few thousand seeded malformed requests at every route of the real app (the OpenAPI paths
// and the hidden ones): never a 5xx, the app still answers, and nothing stored before is lost.
// FUZZ_SEED and FUZZ_REQUESTS override the defaults (a failure prints the seed to replay).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import type { Config } from '../../src/config.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { buildShop, loadShop, PRODUCTS, PURCHASES } from '../fixtures/recs/shop.ts';
import { RequestFuzzer, type FuzzRequest, type FuzzRoute } from '../fixtures/robustness/requests.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const HIDDEN_ROUTES: FuzzRoute[] = ['/health', '/ready', '/metrics', '/docs', '/docs/json', '/docs/static/index.html'].map((path) => ({ method: 'GET', path }));

interface Snapshot {
  products: unknown[];
  events: number;
  modelKeys: string[];
  popular: string[];
  userKeys: Record<string, string[]>;
}

describe(`fuzz: ${REQUESTS} seeded malformed requests at every route (seed ${SEED})`, () => {
  let s: TestServices;
  let apiKey: string;
  const apps: FastifyInstance[] = [];

  async function snapshot(lastEventId: number): Promise<Snapshot> {
    const keys = redisKeys(s.config.redisPrefix);
    const version = Number(await s.redis.get(keys.current));
    const userKeys: Record<string, string[]> = {};
    for (const user of Object.keys(PURCHASES)) userKeys[user] = (await s.redis.zrange(keys.bought(user), '0', '-1')).sort();
    return {
      products: (await s.pool.query('SELECT * FROM products ORDER BY id')).rows,
      events: (await s.pool.query('SELECT count(*)::int AS n FROM events WHERE id <= $1', [lastEventId])).rows[0].n,
      modelKeys: (await scanKeys(s.redis, keys.versionPattern(version))).sort(),
      popular: await s.redis.zrange(keys.popular(version), '0', '-1'),
      userKeys,
    };
  }

  before(async () => {
    s = await startTestServices();
    await loadShop(s.pool);
    await buildShop(s);
    // Unlimited, so the fuzz reaches the routes rather than the rate limit.
    apiKey = (await createApiKey(s.pool, { name: 'fuzz', scope: 'write', origins: [], rate: { limit: 1_000_000, windowSeconds: 1 } })).key;
  });
  after(async () => {
    for (const app of apps) await app.close();
    await s.close();
  });

  async function fuzz(config: Config, seed: number, count: number): Promise<void> {
    const app = await buildApp(config, s, { logger: false });
    apps.push(app);
    await app.ready();
    const spec = app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const routes = [...Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path }))), ...HIDDEN_ROUTES];
    const ids = [...Object.keys(PURCHASES), ...PRODUCTS.map(([id]) => id), 'kitchen', 'Acme'];
    const fuzzer = new RequestFuzzer(seed, routes, ids, apiKey);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const request: FuzzRequest = fuzzer.next();
      const res = await app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) {
        const body = String(request.payload ?? '').slice(0, 200);
        failures.push(`#${i} ${request.method} ${request.url.slice(0, 200)} ${JSON.stringify(request.headers)} ${body} → ${res.statusCode} ${res.body.slice(0, 300)}`);
      }
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} 5xx answers (seed ${seed}); status counts: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(200) ?? 0) > count / 20, `some requests got through to the routes: ${JSON.stringify([...statuses])}`);
    assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'the app still answers');
  }

  test('no 5xx, no crash, nothing stored is lost: auth off, then keys required', async () => {
    const lastEventId = (await s.pool.query('SELECT max(id)::int AS id FROM events')).rows[0].id as number;
    const stored = await snapshot(lastEventId);
    await fuzz({ ...s.config, auth: { ...s.config.auth, mode: 'off' } }, SEED, REQUESTS / 2);
    await fuzz({ ...s.config, auth: { ...s.config.auth, mode: 'required' } }, SEED + 1, REQUESTS / 2);
    assert.deepEqual(await snapshot(lastEventId), stored);
  });
});
