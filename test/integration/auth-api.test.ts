import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { buildModel, buildOptionsFromConfig } from '../../jobs/lib/build-model.ts';
import { buildApp } from '../../src/app.ts';
import { AJV_OPTIONS } from '../../src/http/ajv.ts';
import { authPlugin } from '../../src/auth/plugin.ts';
import { DEFAULT_AUTH_SETTINGS, type AuthSettings } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { loggerOptions } from '../../src/log.ts';
import { OutageLog } from '../../src/outage.ts';
import { healthRoutes } from '../../src/routes/health.ts';
import { userRoutes } from '../../src/routes/users.ts';
import type { AppDeps } from '../../src/deps.ts';
import { activeApiKeys, createApiKey, revokeApiKey, type ApiKeySpec } from '../../src/store/pg/api-keys.ts';
import { Tenants, type TenantServices } from '../../src/tenants.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';
import { clearOfBoundary, HOUR_MS } from '../helpers/clock.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const SHOP = 'https://shop.example';
const POPULAR = '/v1/recommendations/popular';
const EVENT = { events: [{ user_id: 'u42', item_id: 'sku-1', type: 'view' }] };

/** The app as buildApp makes it; keys are re-read on every request here. */
function authApp(s: TestServices, settings: Partial<AuthSettings> = {}): Promise<FastifyInstance> {
  return buildApp({ ...s.config, auth: { ...DEFAULT_AUTH_SETTINGS, keyCacheMs: 0, userTokenSecret: SECRET, ...settings } }, s, { logger: false });
}

async function newKey(s: TestServices, spec: Partial<ApiKeySpec> = {}): Promise<{ key: string; prefix: string }> {
  const { key, row } = await createApiKey(s.pool, { name: 'test', scope: 'read', origins: [], rate: null, ...spec });
  return { key, prefix: row.prefix };
}

const withKey = (key: string, options: InjectOptions = {}): InjectOptions => ({ ...options, headers: { ...options.headers, 'x-api-key': key } });

describe('AUTH_MODE=auto: open until the first key exists', () => {
  let s: TestServices;
  let app: FastifyInstance;
  before(async () => {
    s = await startTestServices();
    await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true });
    app = await authApp(s);
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('opens, locks when a key is created, opens again when the last one is revoked', async () => {
    assert.equal((await app.inject(POPULAR)).statusCode, 200, 'fresh install: open');
    assert.equal((await app.inject({ method: 'POST', url: '/v1/events', payload: EVENT })).statusCode, 200);

    const { key, prefix } = await newKey(s, { scope: 'write' });
    const locked = await app.inject(POPULAR);
    assert.equal(locked.statusCode, 401);
    assert.equal(locked.json().error, 'api_key_required');
    assert.equal(locked.headers['www-authenticate'], 'Bearer realm="recs"');
    assert.equal((await app.inject({ method: 'POST', url: '/v1/events', payload: EVENT })).statusCode, 401);
    assert.equal((await app.inject(withKey(key, { url: POPULAR }))).statusCode, 200);

    await revokeApiKey(s.pool, prefix);
    assert.equal((await app.inject(POPULAR)).statusCode, 200, 'no active key: open again');
  });
});

describe('API keys, scopes, origins, rate limits and user tokens (AUTH_MODE=required)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let read: string;
  let write: string;
  let widget: string;
  before(async () => {
    s = await startTestServices();
    // u42 viewed sku-1: the personal block the tests below guard.
    await s.pool.query(`INSERT INTO products (tenant_id, id, title) VALUES ('default', 'sku-1', 'Red Shoe')`);
    await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', 'u42', 'sku-1', 'view', now())`);
    await buildModel(s.pool, s.redis, s.config, { ...buildOptionsFromConfig(s.config), workers: 1, quiet: true });
    app = await authApp(s, { mode: 'required' });
    read = (await newKey(s, { scope: 'read' })).key;
    write = (await newKey(s, { scope: 'write' })).key;
    widget = (await newKey(s, { scope: 'read', origins: [SHOP] })).key;
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('no key: 401 on protected routes; public routes stay public', async () => {
    for (const options of [{ url: POPULAR }, { method: 'POST', url: '/v1/events', payload: EVENT }, { url: '/v1/experiments' }, { method: 'DELETE', url: '/v1/users/u1' }] as InjectOptions[]) {
      const res = await app.inject(options);
      assert.equal(res.statusCode, 401, `${options.method ?? 'GET'} ${options.url}`);
      assert.deepEqual(res.json(), { error: 'api_key_required', message: 'send an API key in the x-api-key header or as Authorization: Bearer <key>' });
    }
    for (const url of ['/health', '/ready', '/docs/json', '/metrics']) assert.equal((await app.inject(url)).statusCode, 200, url);
    assert.equal((await app.inject('/no/such/route')).statusCode, 404, 'a 404 stays a 404');
    assert.equal((await app.inject({ method: 'OPTIONS', url: POPULAR })).statusCode, 404, 'preflights are not asked for a key');
  });

  test('a key in x-api-key or Authorization: Bearer; unknown, malformed or revoked: 401', async () => {
    assert.equal((await app.inject(withKey(read, { url: POPULAR }))).statusCode, 200);
    assert.equal((await app.inject({ url: POPULAR, headers: { authorization: `Bearer ${read}` } })).statusCode, 200);
    assert.equal((await app.inject({ url: POPULAR, headers: { authorization: `Basic ${read}` } })).statusCode, 401);
    const forged = read.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    for (const bad of [forged, 'recs_000000000000_' + 'a'.repeat(43), 'nonsense']) {
      const res = await app.inject(withKey(bad, { url: POPULAR }));
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_api_key');
    }
    const { key, prefix } = await newKey(s);
    assert.equal((await app.inject(withKey(key, { url: POPULAR }))).statusCode, 200, 'a new key works at once');
    await revokeApiKey(s.pool, prefix);
    assert.equal((await app.inject(withKey(key, { url: POPULAR }))).statusCode, 401);
  });

  test('scopes: read is refused writes (403); write implies read', async () => {
    const refused = await app.inject(withKey(read, { method: 'POST', url: '/v1/events', payload: EVENT }));
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(refused.json(), { error: 'insufficient_scope', message: 'this key has scope "read"; POST /v1/events needs "write"' });
    assert.equal((await app.inject(withKey(read, { url: '/v1/experiments' }))).statusCode, 403);
    assert.equal((await app.inject(withKey(write, { method: 'POST', url: '/v1/events', payload: EVENT }))).statusCode, 200);
    assert.equal((await app.inject(withKey(write, { url: '/v1/experiments' }))).statusCode, 200);
    assert.equal((await app.inject(withKey(write, { url: POPULAR }))).statusCode, 200);
  });

  test('an origin-restricted key: only with a matching Origin header', async () => {
    const at = (origin?: string) => app.inject(withKey(widget, { url: POPULAR, headers: origin ? { origin } : {} }));
    for (const origin of [undefined, 'https://evil.example', 'https://shop.example.evil.example', 'http://shop.example']) {
      const res = await at(origin);
      assert.equal(res.statusCode, 403, String(origin));
      assert.equal(res.json().error, 'origin_not_allowed');
    }
    assert.equal((await at(SHOP)).statusCode, 200);
  });

  describe('personal blocks (user=) with a browser key need a user token', () => {
    const rv = (key: string, query: string, origin = SHOP) => app.inject(withKey(key, { url: `/v1/recommendations/recently-viewed?user=u42${query}`, headers: { origin } }));
    test("valid token: the user's own block", async () => {
      const res = await rv(widget, `&user_token=${signUserToken('u42', SECRET, 600)}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(
        res.json().items.map((i: { id: string }) => i.id),
        ['sku-1'],
      );
    });

    test("missing 401, expired 401, altered 403, another user's 403, with a clear error", async () => {
      const cases: [string, number, string][] = [
        ['', 401, 'user_token_required'],
        [`&user_token=${signUserToken('u42', SECRET, 600, Date.now() - 3_600_000)}`, 401, 'user_token_expired'],
        [`&user_token=${signUserToken('u42', SECRET, 600).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`, 403, 'invalid_user_token'],
        [`&user_token=${signUserToken('u43', SECRET, 600)}`, 403, 'invalid_user_token'],
        [`&user_token=${signUserToken('u42', `${SECRET}-other`, 600)}`, 403, 'invalid_user_token'],
        ['&user_token=garbage', 403, 'invalid_user_token'],
      ];
      for (const [query, status, error] of cases) {
        const res = await rv(widget, query);
        assert.equal(res.statusCode, status, query);
        assert.equal(res.json().error, error, query);
        assert.equal(res.json().field, 'user_token');
      }
    });

    test('a browser key without user= needs no token; a server-side key may pass user directly', async () => {
      assert.equal((await app.inject(withKey(widget, { url: POPULAR, headers: { origin: SHOP } }))).statusCode, 200);
      const res = await rv(read, '');
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().items[0].id, 'sku-1');
      assert.equal((await rv(read, `&user_token=${signUserToken('u42', SECRET, 600)}`)).statusCode, 200, 'user_token is no unknown parameter');
    });
  });

  test('rate limit per key, shared by every replica through Redis: 429 with Retry-After', async () => {
    const { key } = await newKey(s, { rate: { limit: 3, windowSeconds: 3600 } });
    await clearOfBoundary(HOUR_MS); // the window is the clock's hour
    const replica = await authApp(s, { mode: 'required' });
    try {
      const first = await app.inject(withKey(key, { url: POPULAR }));
      assert.equal(first.headers['x-ratelimit-limit'], '3');
      assert.equal(first.headers['x-ratelimit-remaining'], '2');
      assert.equal((await replica.inject(withKey(key, { url: POPULAR }))).statusCode, 200);
      assert.equal((await app.inject(withKey(key, { url: POPULAR }))).statusCode, 200);
      const limited = await replica.inject(withKey(key, { url: POPULAR }));
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().error, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
      assert.equal((await app.inject(withKey(read, { url: POPULAR }))).statusCode, 200, 'other keys are not affected');
      const counters = await s.redis.keys(`${s.config.redisPrefix}ratelimit:*`);
      assert.ok(counters.length > 0 && (await s.redis.pttl(counters[0])) > 0, 'counters expire');
    } finally {
      await replica.close();
    }
  });

  test('METRICS_REQUIRE_KEY: /metrics needs a key', async () => {
    const guarded = await authApp(s, { mode: 'required', metricsRequireKey: true });
    try {
      assert.equal((await guarded.inject('/metrics')).statusCode, 401);
      assert.equal((await guarded.inject(withKey(read, { url: '/metrics' }))).statusCode, 200);
    } finally {
      await guarded.close();
    }
  });

  test('AUTH_MODE=off: everything open although keys exist; user_token still accepted', async () => {
    const open = await authApp(s, { mode: 'off' });
    try {
      assert.equal((await open.inject({ method: 'POST', url: '/v1/events', payload: EVENT })).statusCode, 200);
      assert.equal((await open.inject(`/v1/recommendations/recently-viewed?user=u42&user_token=x`)).statusCode, 200);
    } finally {
      await open.close();
    }
  });

  test('a short USER_TOKEN_SECRET stops the app from starting', async () => {
    await assert.rejects(authApp(s, { userTokenSecret: 'short' }), /USER_TOKEN_SECRET must be at least 32 characters/);
  });
});

describe('logs: no secrets, key prefixes, a warning when open (real logger options)', () => {
  let s: TestServices;
  before(async () => {
    s = await startTestServices();
  });
  after(async () => {
    await s.close();
  });

  /** The server's logger options (src/log.ts), writing into `lines`. */
  async function loggedApp(lines: string[], settings: Partial<AuthSettings>): Promise<FastifyInstance> {
    const app = Fastify({
      logger: {
        ...loggerOptions('info'),
        stream: {
          write: (line: string) => {
            lines.push(line);
          },
        },
      },
      ajv: AJV_OPTIONS,
    });
    app.setErrorHandler(errorHandler);
    const outages = { redis: new OutageLog('Redis', () => app.log), postgres: new OutageLog('PostgreSQL', () => app.log) };
    const tenants = new Tenants((id) => ({ id, keys: redisKeys(s.config.redisPrefix, id) }) as TenantServices);
    const deps = { ...s, outages, tenants } as unknown as AppDeps;
    await app.register(authPlugin, { settings: { ...DEFAULT_AUTH_SETTINGS, keyCacheMs: 0, ...settings }, loadKeys: () => activeApiKeys(s.pool), consume: async () => null });
    await app.register(healthRoutes, deps);
    await app.register(userRoutes, deps);
    await app.ready();
    return app;
  }

  test('warns at startup while the API is open', async () => {
    const lines: string[] = [];
    await (await loggedApp(lines, {})).close();
    assert.match(lines.join(''), /"level":40.*AUTH_MODE=auto and no API key exists: the API is OPEN/);
    const off: string[] = [];
    await (await loggedApp(off, { mode: 'off' })).close();
    assert.match(off.join(''), /"level":40.*AUTH_MODE=off: no route asks for an API key/);
  });

  test('keys, bearer tokens and user tokens never reach the log; the key prefix does', async () => {
    const { key, prefix } = await newKey(s, { scope: 'write' });
    const token = signUserToken('u42', SECRET, 600);
    const lines: string[] = [];
    const app = await loggedApp(lines, { mode: 'required' });
    try {
      await app.inject(withKey(key, { method: 'POST', url: '/v1/users/u42/preferences', payload: { personalization_opt_out: false } }));
      await app.inject({ url: `/health?user=u42&user_token=${token}`, headers: { authorization: `Bearer ${key}` } });
      await app.inject(`/no/such/route?token=${token}&sig=${token}`);
      await app.inject(withKey(`${key}x`, { url: `/v1/users/u42/preferences?user_token=${token}`, method: 'POST' }));
    } finally {
      await app.close();
    }
    const log = lines.join('');
    const secret = key.slice(prefix.length + 1);
    assert.ok(!log.includes(secret), 'no API key secret');
    assert.ok(!log.includes(token.split('.')[1]), 'no user token');
    assert.match(log, /"url":"\/health\?user=u42&user_token=\[redacted\]"/);
    assert.match(log, /Route GET:\/no\/such\/route\?token=\[redacted\]&sig=\[redacted\] not found/);
    assert.match(log, new RegExp(`"api_key":"${prefix}".*"msg":"request completed"`));
  });
});
