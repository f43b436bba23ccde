// Several shops in one service: the same ids in two tenants, and nothing of one in the other's
// answers, for every strategy, the fallback chain, email blocks (GET, batch, mail memory),
// experiments and their reports, erasure and opt-out (real PostgreSQL, Redis and builds).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Cluster } from 'ioredis';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken, tenantUserTokenSecret } from '../../src/auth/user-token.ts';
import { STRATEGIES } from '../../src/recommend/types.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { ensureTenant, setTenantLinks } from '../../src/store/pg/tenants.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';
import { clearOfBoundary, HOUR_MS } from '../helpers/clock.ts';

// Both shops use the same item and user ids; every title and brand says whose it is, and each
// shop has an item the other does not.
const ITEMS = ['i1', 'i2', 'i3', 'i4'];
const BUYS: Record<string, [user: string, items: string[]][]> = {
  a: [
    ['u1', ['i1', 'i2']],
    ['u2', ['i1', 'i2', 'a-only']],
    ['u3', ['i3', 'a-only']],
  ],
  b: [
    ['u1', ['i3', 'i4']],
    ['u2', ['i4', 'b-only']],
    ['u3', ['i1', 'b-only']],
    ['u4', ['b-only', 'i2']],
  ],
};
const other = (t: 'a' | 'b') => (t === 'a' ? 'b' : 'a');
const TOKEN_SECRET = 'tenants-test-user-token-secret-0123456789';
const SHOP_ORIGIN = 'https://shop.example';

describe("tenants: the same ids in two shops, nothing of one in the other's answers", () => {
  let s: TestServices;
  let app: FastifyInstance;
  const key: Record<string, string> = {};
  const browserKey: Record<string, string> = {};
  let admin = '';

  const call = (tenant: 'a' | 'b', options: InjectOptions | string) => {
    const o = typeof options === 'string' ? { url: options } : options;
    return app.inject({ ...o, headers: { ...o.headers, 'x-api-key': key[tenant] } });
  };
  /** Anything of the other tenant: its marker in titles and brands, its own item. */
  const leaksInto = (tenant: 'a' | 'b', body: string) => {
    const o = other(tenant);
    return [`[${o.toUpperCase()}]`, `Brand-${o}`, `${o}-only`, `cat-${o}`].filter((marker) => body.includes(marker));
  };

  before(async () => {
    s = await startTestServices();
    s.config.serving.modelRefreshMs = 1;
    for (const t of ['a', 'b'] as const) {
      await ensureTenant(s.pool, t);
      for (const id of [...ITEMS, `${t}-only`]) {
        await s.pool.query(`INSERT INTO products (tenant_id, id, title, brand, category, price, currency, url) VALUES ($1, $2, $3, $4, $5, 10, $6, $7)`, [
          t,
          id,
          `[${t.toUpperCase()}] ${id}`,
          `Brand-${t}`,
          `cat-${t}`,
          t === 'a' ? 'EUR' : 'GBP',
          `https://${t}.example/p/${id}`,
        ]);
      }
      for (const [user, items] of BUYS[t]) {
        for (const item of items) await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ($1, $2, $3, 'purchase', now() - interval '1 day')`, [t, user, item]);
      }
      // The same user views an item of their shop: recently viewed differs per tenant.
      await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ($1, 'viewer', $2, 'view', now())`, [t, `${t}-only`]);
      await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), tenant: t, similarity: 'cooccurrence', workers: 1, quiet: true });
      key[t] = (await createApiKey(s.pool, { name: t, tenants: [t], scope: 'write', origins: [], rate: null })).key;
      browserKey[t] = (await createApiKey(s.pool, { name: `${t} widget`, tenants: [t], scope: 'read', origins: [SHOP_ORIGIN], rate: null })).key;
      await s.pool.query(`INSERT INTO experiments (tenant_id, id, salt, variants, status, started_at) VALUES ($1, 'ab', 'ab', $2, 'running', now())`, [
        t,
        JSON.stringify([
          { key: 'pop', weight: 0.5, strategy: 'popular', params: {}, control: true },
          { key: 'cf', weight: 0.5, strategy: 'collaborative', params: {}, control: false },
        ]),
      ]);
    }
    admin = (await createApiKey(s.pool, { name: 'agency', tenants: ['a', 'b'], scope: 'write', origins: [], rate: null })).key;
    app = await buildApp({ ...s.config, auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: TOKEN_SECRET }, links: { ...s.config.links, refreshMs: 0 } }, s, {
      logger: false,
    });
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  const urls = [
    '/v1/recommendations/popular?limit=20',
    '/v1/recommendations/popular?limit=20&category=cat-a',
    '/v1/recommendations/popular?limit=20&category=cat-b',
    '/v1/recommendations/collaborative?item=i1&limit=20',
    '/v1/recommendations/collaborative?item=a-only&item=b-only&limit=20',
    '/v1/recommendations/collaborative?user=u2&limit=20',
    '/v1/recommendations/same-brand?item=i1&limit=20',
    '/v1/recommendations/same-brand?user=u1&limit=20',
    '/v1/recommendations/recently-viewed?user=viewer&limit=20',
    '/v1/recommendations/recently-viewed?user=u3&limit=20',
    '/v1/recommendations/buy-again?user=u2&limit=20',
    '/v1/recommendations/for-you?user=u2&limit=20',
    '/v1/recommendations/for-you?user=viewer&limit=20',
    '/v1/recommendations/reactivation?user=viewer&limit=20',
    '/v1/recommendations/reactivation?user=u1&limit=20',
    '/v1/recommendations?experiment=ab&user=u1&limit=20',
    '/v1/recommendations?experiment=ab&user=u2&limit=20',
    '/v1/email/collaborative.json?user=u2&limit=10',
    '/v1/email/recently-viewed.html?user=viewer&limit=10&mail_id=m1',
    '/v1/email/popular.json?user=viewer&limit=10&mail_id=m2',
    '/v1/email/same-brand.json?item=i2&limit=10&experiment=ab&user=u4',
    '/v1/email/buy-again.json?user=u2&limit=10',
    '/v1/email/for-you.html?user=u3&limit=10',
    '/v1/email/reactivation.json?user=viewer&limit=10',
  ];

  test('every strategy, the fallback chain and every email block answer from their own shop only', async () => {
    for (const t of ['a', 'b'] as const) {
      for (const url of urls) {
        const res = await call(t, url);
        assert.equal(res.statusCode, 200, `${t} ${url}: ${res.body.slice(0, 200)}`);
        assert.deepEqual(leaksInto(t, res.body), [], `${t} ${url}: ${res.body.slice(0, 400)}`);
        if (!url.includes(`cat-${other(t)}`)) assert.ok(res.body.includes(`[${t.toUpperCase()}]`) || res.body.includes(`${t}-only`), `${t} ${url} shows its own shop: ${res.body.slice(0, 200)}`);
      }
      for (const strategy of STRATEGIES) {
        const batch = await call(t, { method: 'POST', url: '/v1/email/batch', payload: { strategy, users: ['viewer', 'u1', 'u2', 'u4'], mail_id: `b-${strategy}`, html: true } });
        assert.equal(batch.statusCode, 200, `${t} batch ${strategy}: ${batch.body.slice(0, 200)}`);
        assert.deepEqual(leaksInto(t, batch.body), [], `${t} batch ${strategy}`);
        assert.ok(batch.body.includes(`[${t.toUpperCase()}]`), `${t} batch ${strategy} shows its own shop`);
      }
    }
  });

  test("each shop's link templates fill its own answers (API and email), a change at once", async () => {
    const images = async (t: 'a' | 'b', url: string) => (await call(t, url)).json().items.map((i: { id: string; image_url: string | null }) => [i.id, i.image_url]);
    await setTenantLinks(s.pool, 'a', { image: 'https://img-a.example/{id}.png' });
    for (const url of ['/v1/recommendations/popular?limit=3', '/v1/recommendations/collaborative?user=u2&limit=3', '/v1/email/popular.json?limit=3']) {
      const a = await images('a', url);
      assert.ok(a.length > 0);
      for (const [id, image] of a) assert.equal(image, `https://img-a.example/${encodeURIComponent(id)}.png`, `a ${url}`);
      for (const [, image] of await images('b', url)) assert.equal(image, null, `b ${url}: no template of its own`);
    }
    await setTenantLinks(s.pool, 'a', { image: 'https://cdn-a.example/{id}' });
    assert.match((await images('a', '/v1/recommendations/popular?limit=3'))[0][1], /^https:\/\/cdn-a\.example\//, 'the cached block is written anew');
    await setTenantLinks(s.pool, 'a', { image: null });
    assert.equal((await images('a', '/v1/recommendations/popular?limit=3'))[0][1], null);
  });

  test('the same user in two shops: their own history in each', async () => {
    const ids = async (t: 'a' | 'b') => (await call(t, '/v1/recommendations/recently-viewed?user=viewer&fallback=false')).json().items.map((i: { id: string }) => i.id);
    assert.deepEqual(await ids('a'), ['a-only']);
    assert.deepEqual(await ids('b'), ['b-only']);
  });

  test('experiments and reports: each shop sees its own definitions, exposures and revenue', async () => {
    await app.inject({ method: 'GET', url: '/health' });
    await new Promise((resolve) => setTimeout(resolve, s.config.experiments.exposures.flushIntervalMs + 300));
    for (const t of ['a', 'b'] as const) {
      const report = await call(t, '/v1/experiments/ab/report');
      assert.equal(report.statusCode, 200);
      const visitors = report.json().variants.reduce((n: number, v: { visitors: number }) => n + v.visitors, 0);
      const { rows } = await s.pool.query('SELECT count(DISTINCT user_id)::int AS n FROM exposures WHERE tenant_id = $1', [t]);
      assert.equal(visitors, rows[0].n, `${t}: visitors of its own exposures`);
      assert.deepEqual(leaksInto(t, (await call(t, '/v1/experiments/ab/report.html')).body), []);
      assert.equal((await call(t, '/v1/experiments')).json().experiments.length, 1);
    }
  });

  test('the key decides the tenant: no parameter or header reaches another shop; an admin key names one per request', async () => {
    const asOther = await call('a', { url: '/v1/recommendations/popular', headers: { 'x-recs-tenant': 'b' } });
    assert.deepEqual([asOther.statusCode, asOther.json().error], [403, 'tenant_not_allowed']);
    const byParam = await call('a', '/v1/recommendations/popular?tenant=b');
    assert.equal(byParam.statusCode, 400, 'no tenant parameter exists');
    const adminNoTenant = await app.inject({ url: '/v1/recommendations/popular', headers: { 'x-api-key': admin } });
    assert.deepEqual([adminNoTenant.statusCode, adminNoTenant.json().error], [400, 'tenant_required']);
    for (const t of ['a', 'b'] as const) {
      const res = await app.inject({ url: '/v1/recommendations/popular?limit=20', headers: { 'x-api-key': admin, 'x-recs-tenant': t } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(leaksInto(t, res.body), []);
    }
    const notServed = await app.inject({ url: '/v1/recommendations/popular', headers: { 'x-api-key': admin, 'x-recs-tenant': 'default' } });
    assert.equal(notServed.statusCode, 403);
  });

  test("a user token is its shop's: one signed for a user of another shop (or with the server's secret) reads nothing", async () => {
    const read = (t: 'a' | 'b', secret: string) =>
      app.inject({
        url: '/v1/recommendations/recently-viewed?user=viewer&fallback=false',
        headers: { 'x-api-key': browserKey[t], origin: SHOP_ORIGIN, 'x-user-token': signUserToken('viewer', secret, 600) },
      });
    for (const t of ['a', 'b'] as const) {
      const own = await read(t, tenantUserTokenSecret(TOKEN_SECRET, t));
      assert.equal(own.statusCode, 200, own.body);
      assert.deepEqual(
        own.json().items.map((i: { id: string }) => i.id),
        [`${t}-only`],
      );
      for (const secret of [tenantUserTokenSecret(TOKEN_SECRET, other(t)), TOKEN_SECRET]) {
        const foreign = await read(t, secret);
        assert.deepEqual([foreign.statusCode, foreign.json().error], [403, 'invalid_user_token'], `${t}: ${foreign.body}`);
      }
    }
    assert.notEqual(tenantUserTokenSecret(TOKEN_SECRET, 'a'), tenantUserTokenSecret(TOKEN_SECRET, 'b'));
    assert.equal(tenantUserTokenSecret(TOKEN_SECRET, 'default'), TOKEN_SECRET, 'a single-shop install signs with USER_TOKEN_SECRET, as before');
  });

  test('rate limits count per tenant: an admin key has a budget in each shop', async () => {
    const limited = (await createApiKey(s.pool, { name: 'agency limited', tenants: ['a', 'b'], scope: 'read', origins: [], rate: { limit: 2, windowSeconds: 3600 } })).key;
    await clearOfBoundary(HOUR_MS); // the window is the clock's hour
    const get = (t: 'a' | 'b') => app.inject({ url: '/v1/recommendations/popular?limit=1', headers: { 'x-api-key': limited, 'x-recs-tenant': t } });
    assert.deepEqual([(await get('a')).statusCode, (await get('a')).statusCode, (await get('a')).statusCode], [200, 200, 429]);
    assert.deepEqual([(await get('b')).statusCode, (await get('b')).statusCode, (await get('b')).statusCode], [200, 200, 429], "a's requests took none of b's budget");
  });

  test('erasure and opt-out act in one shop only', async () => {
    const before = (await call('b', '/v1/recommendations/recently-viewed?user=viewer&fallback=false')).json().items;
    assert.equal((await call('a', { method: 'DELETE', url: '/v1/users/viewer' })).statusCode, 200);
    assert.deepEqual((await call('b', '/v1/recommendations/recently-viewed?user=viewer&fallback=false')).json().items, before);
    const { rows } = await s.pool.query(`SELECT tenant_id, count(*)::int AS n FROM events WHERE user_id = 'viewer' GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(rows, [{ tenant_id: 'b', n: 1 }]);
    await call('b', { method: 'POST', url: '/v1/users/u1/preferences', payload: { personalization_opt_out: true } });
    assert.equal((await call('b', '/v1/recommendations/collaborative?user=u1')).json().opted_out, true);
    assert.equal((await call('a', '/v1/recommendations/collaborative?user=u1')).json().opted_out, undefined);
  });

  test('metrics carry the tenant as a label; a public readiness probe of any id makes no tenant', async () => {
    assert.equal((await app.inject('/ready?tenant=a')).statusCode, 200);
    for (const id of ['ghost-1', 'ghost-2']) assert.equal((await app.inject(`/ready?tenant=${id}`)).statusCode, 503);
    // What a scrape reads in Redis: the model of each tenant this process serves, no probed id's.
    const commands: string[] = [];
    const monitors = await Promise.all((s.redis instanceof Cluster ? s.redis.nodes('master') : [s.redis]).map((node) => node.monitor()));
    for (const monitor of monitors) monitor.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const metrics = await app.inject('/metrics');
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const monitor of monitors) monitor.disconnect();
    assert.ok(
      commands.some((c) => c.includes(`${s.config.redisPrefix}t:b:`)),
      `the scrape reads tenant b's model: ${commands.filter((c) => c.includes(s.config.redisPrefix)).slice(0, 3)}`,
    );
    assert.deepEqual(
      commands.filter((c) => c.includes('ghost')),
      [],
    );
    assert.match(metrics.body, /recs_recommendation_duration_seconds_count\{tenant="a",strategy="popular"\} \d+/);
    assert.match(metrics.body, /recs_model_version\{tenant="b"\} \d+/);
  });
});
