// An experiment block's exposure deferred to its impression (GET /v1/recommendations?experiment=…
// &exposure=impression, then POST /v1/widget/events), route by route against real PostgreSQL,
// Redis and a build: nothing at the fetch, one exposure once the block is seen, in the variant
// and with the items that served it, claimed only by the user it was served to. Callers that do
// not ask for it (server-side API, email) keep the exposure at the fetch.
// test/browser/widget.test.ts runs the same from a real page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { redisKeys } from '../../src/store/redis/keys.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { scanKeys, startTestServices, type TestServices } from '../helpers/services.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const SHOP = 'https://shop.example';
const EXPERIMENT = 'seen-ab';

describe('exposure=impression: an experiment block is exposed when seen (real PostgreSQL, Redis and build)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let browserKey: string;
  let serverKey: string;
  const keys = () => redisKeys(s.config.redisPrefix);
  const asPage = (user: string) => ({ 'x-api-key': browserKey, origin: SHOP, 'x-user-token': signUserToken(user, SECRET, 600) });
  const call = (o: InjectOptions) => app.inject(o);
  /** The widget's fetch of a user's experiment block. */
  async function fetchBlock(user: string, query = '&exposure=impression', headers: Record<string, string> = asPage(user)) {
    const res = await call({ url: `/v1/recommendations?experiment=${EXPERIMENT}&user=${user}&limit=3${query}`, headers });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { request_id: string; variant: string; strategy: string; items: { id: string }[] };
  }
  const seen = (type: string, requestId: string, body: object, headers: Record<string, string>) =>
    call({ method: 'POST', url: '/v1/widget/events', headers, payload: { type, request_id: requestId, view_id: `view-${Math.random()}`, ...body } });
  /** The exposures of a block, once every buffered one is surely written. */
  async function exposures(requestId: string) {
    await new Promise((r) => setTimeout(r, s.config.experiments.exposures.flushIntervalMs + 150));
    const { rows } = await s.pool.query('SELECT user_id, variant, strategy, items FROM exposures WHERE experiment_id = $1 AND request_id = $2', [EXPERIMENT, requestId]);
    return rows;
  }

  before(async () => {
    s = await startTestServices();
    s.config.experiments.definitionCacheMs = 0;
    s.config.experiments.exposures.flushIntervalMs = 10;
    await loadShop(s.pool);
    await buildShop(s);
    app = await buildApp({ ...s.config, auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: SECRET } }, s, { logger: false });
    browserKey = (await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: [SHOP], rate: null, tenants: [DEFAULT_TENANT] })).key;
    serverKey = (await createApiKey(s.pool, { name: 'backend', scope: 'write', origins: [], rate: null, tenants: [DEFAULT_TENANT] })).key;
    const server = { 'x-api-key': serverKey };
    const variants = [
      { key: 'rv', strategy: 'recently-viewed', control: true },
      { key: 'pop', strategy: 'popular' },
    ];
    assert.equal((await call({ method: 'POST', url: '/v1/experiments', headers: server, payload: { id: EXPERIMENT, variants } })).statusCode, 201);
    assert.equal((await call({ method: 'POST', url: `/v1/experiments/${EXPERIMENT}/start`, headers: server })).statusCode, 200);
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('nothing at the fetch; the impression records one exposure, in the variant and with the items served, however often it is seen', async () => {
    const block = await fetchBlock('u1');
    assert.ok(block.items.length > 0);
    assert.deepEqual(await exposures(block.request_id), [], 'fetched is not seen');
    assert.equal(await s.redis.exists(keys().deferredExposure('u1', block.request_id)), 1, 'waiting in Redis for its impression');
    const ttl = await s.redis.ttl(keys().deferredExposure('u1', block.request_id));
    assert.ok(ttl > 0 && ttl <= s.config.experiments.deferredExposureTtlSeconds, `ttl ${ttl}`);

    // What the page says it showed does not matter: the exposure is what the API served.
    const res = await seen('impression', block.request_id, { user_id: 'u1', items: [{ item_id: 'forged', position: 1 }] }, asPage('u1'));
    assert.equal(res.statusCode, 200, res.body);
    const served = { user_id: 'u1', variant: block.variant, strategy: block.strategy, items: block.items.map((i) => i.id) };
    assert.deepEqual(await exposures(block.request_id), [served]);
    assert.equal(await s.redis.exists(keys().deferredExposure('u1', block.request_id)), 0);
    // Seen again in another page view, then clicked: still one exposure.
    await seen('impression', block.request_id, { user_id: 'u1', items: [{ item_id: block.items[0].id, position: 1 }] }, asPage('u1'));
    await seen('click', block.request_id, { user_id: 'u1', items: [{ item_id: block.items[0].id, position: 1 }] }, asPage('u1'));
    assert.deepEqual(await exposures(block.request_id), [served]);
  });

  test('only the user the block was served to exposes it: not another user (with their own token), not an anonymous event', async () => {
    const block = await fetchBlock('u2');
    const items = [{ item_id: block.items[0].id, position: 1 }];
    assert.equal((await seen('impression', block.request_id, { user_id: 'u3', items }, asPage('u3'))).statusCode, 200);
    assert.equal((await seen('impression', block.request_id, { items }, { 'x-api-key': browserKey, origin: SHOP })).statusCode, 200);
    assert.deepEqual(await exposures(block.request_id), []);
    assert.equal((await seen('impression', block.request_id, { user_id: 'u2', items }, asPage('u3'))).statusCode, 403, "u2's events need u2's token");
    assert.deepEqual(await exposures(block.request_id), []);
    await seen('impression', block.request_id, { user_id: 'u2', items }, asPage('u2'));
    assert.deepEqual(
      (await exposures(block.request_id)).map((e) => [e.user_id, e.variant]),
      [['u2', block.variant]],
    );
  });

  test('a click before the impression is the block seen: its exposure', async () => {
    const block = await fetchBlock('u4');
    await seen('click', block.request_id, { user_id: 'u4', items: [{ item_id: block.items[1].id, position: 2 }] }, asPage('u4'));
    assert.deepEqual(
      (await exposures(block.request_id)).map((e) => [e.user_id, e.variant]),
      [['u4', block.variant]],
    );
  });

  test('without exposure=impression (a server-side caller, an email): the exposure at the fetch, as before', async () => {
    const api = await fetchBlock('u5', '', { 'x-api-key': serverKey });
    assert.deepEqual(
      (await exposures(api.request_id)).map((e) => [e.user_id, e.variant]),
      [['u5', api.variant]],
    );
    const fetched = await fetchBlock('u5', '&exposure=fetch', asPage('u5'));
    assert.equal((await exposures(fetched.request_id)).length, 1, 'a page may ask for the fetch too');
    const mail = await call({ url: `/v1/email/popular.json?experiment=${EXPERIMENT}&user=u6`, headers: { 'x-api-key': serverKey } });
    assert.equal(mail.statusCode, 200, mail.body);
    assert.equal((await exposures(mail.json().request_id)).length, 1);
    assert.equal((await call({ url: `/v1/recommendations?experiment=${EXPERIMENT}&user=u5&exposure=later`, headers: { 'x-api-key': serverKey } })).statusCode, 400);
  });

  test('erasing the user deletes their waiting exposures; a later impression records none', async () => {
    const block = await fetchBlock('u7');
    const erased = await call({ method: 'DELETE', url: '/v1/users/u7', headers: { 'x-api-key': serverKey } });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.deepEqual(await scanKeys(s.redis, `${s.config.redisPrefix}deferred:*`).then((found) => found.filter((k) => k.includes('{u7}'))), []);
    const res = await seen('impression', block.request_id, { user_id: 'u7', items: [{ item_id: block.items[0].id, position: 1 }] }, { 'x-api-key': serverKey });
    assert.equal(res.json().dropped, 1);
    assert.deepEqual(await exposures(block.request_id), []);
  });
});
