// The widget's routes without a browser: the script and its content address and integrity
// (src/routes/widget.ts), and the events a page may send (src/routes/widget-events.ts).
// test/browser/widget.test.ts runs them from real pages.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { anonymousUser } from '../../src/routes/widget-events.ts';
import { WIDGET_SOURCE } from '../../src/routes/widget.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { DEFAULT_TENANT } from '../../src/tenant.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const SHOP = 'https://shop.example';
const BASE = 'https://recs.example';

describe('widget routes (AUTH_MODE=required)', () => {
  let s: TestServices;
  let app: FastifyInstance;
  let browserKey: string;
  let serverKey: string;
  before(async () => {
    s = await startTestServices();
    app = await buildApp(
      {
        ...s.config,
        auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: SECRET },
        email: { ...s.config.email, publicBaseUrl: BASE },
      },
      s,
      { logger: false },
    );
    const key = (name: string, origins: string[]) => createApiKey(s.pool, { name, scope: origins.length > 0 ? 'read' : 'write', origins, rate: null, tenants: [DEFAULT_TENANT] });
    browserKey = (await key('widget', [SHOP])).key;
    serverKey = (await key('backend', [])).key;
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  test('the script: /widget.js follows upgrades (5 minutes, ETag); /widget/{version}.js is immutable; /widget.json tells its integrity', async () => {
    const source = readFileSync(WIDGET_SOURCE);
    const current = await app.inject('/widget.js');
    assert.equal(current.statusCode, 200, 'public: no key');
    assert.deepEqual(current.rawPayload, source);
    assert.equal(current.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(current.headers['cache-control'], 'public, max-age=300');
    assert.equal(current.headers['access-control-allow-origin'], '*');
    const revalidated = await app.inject({ url: '/widget.js', headers: { 'if-none-match': String(current.headers.etag) } });
    assert.equal(revalidated.statusCode, 304);
    assert.equal(revalidated.body, '');

    const about = await app.inject('/widget.json');
    assert.equal(about.statusCode, 200);
    const { url, integrity } = about.json();
    assert.equal(integrity, `sha384-${createHash('sha384').update(source).digest('base64')}`);
    assert.match(url, /^https:\/\/recs\.example\/widget\/[0-9a-f]{16}\.js$/);
    const pinned = await app.inject(new URL(url).pathname);
    assert.equal(pinned.statusCode, 200);
    assert.deepEqual(pinned.rawPayload, source);
    assert.equal(pinned.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(pinned.headers['access-control-allow-origin'], '*');
    assert.equal((await app.inject('/widget/0123456789abcdef.js')).statusCode, 404, 'only the current version');
  });

  describe('POST /v1/widget/events', () => {
    const post = (payload: object, headers: Record<string, string> = { 'x-api-key': browserKey, origin: SHOP }) =>
      app.inject({ method: 'POST', url: '/v1/widget/events', headers, payload } as InjectOptions);
    const stored = async (requestId: string) => (await s.pool.query('SELECT user_id, item_id, type, position, source FROM events WHERE request_id = $1 ORDER BY type, position', [requestId])).rows;

    test('an anonymous block: its impression and a click, each once per item', async () => {
      const impression = {
        type: 'impression',
        request_id: 'r-anon',
        items: [
          { item_id: 'a1', position: 1 },
          { item_id: 'a2', position: 2 },
        ],
      };
      assert.deepEqual((await post(impression)).json(), { accepted: 2, duplicates: 0, dropped: 0 });
      assert.deepEqual((await post(impression)).json(), { accepted: 0, duplicates: 2, dropped: 0 }, 'sent again: counted once');
      const click = { type: 'click', request_id: 'r-anon', items: [{ item_id: 'a2', position: 2 }] };
      assert.deepEqual((await post(click)).json(), { accepted: 1, duplicates: 0, dropped: 0 });
      assert.deepEqual((await post(click)).json(), { accepted: 0, duplicates: 1, dropped: 0 });
      const user = anonymousUser('r-anon');
      assert.deepEqual(await stored('r-anon'), [
        { user_id: user, item_id: 'a2', type: 'click', position: 2, source: 'widget' },
        { user_id: user, item_id: 'a1', type: 'impression', position: 1, source: 'widget' },
        { user_id: user, item_id: 'a2', type: 'impression', position: 2, source: 'widget' },
      ]);
    });

    test("a user's events need their token from a browser key, not from a server-side key", async () => {
      const click = { type: 'click', request_id: 'r-u42', user_id: 'u42', items: [{ item_id: 'a1', position: 1 }] };
      const refused = await post(click);
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.json().error, 'user_token_required');
      const other = await post(click, { 'x-api-key': browserKey, origin: SHOP, 'x-user-token': signUserToken('u43', SECRET, 600) });
      assert.equal(other.json().error, 'invalid_user_token');
      assert.deepEqual(await stored('r-u42'), []);
      const own = await post(click, { 'x-api-key': browserKey, origin: SHOP, 'x-user-token': signUserToken('u42', SECRET, 600) });
      assert.equal(own.statusCode, 200, own.body);
      assert.deepEqual(await stored('r-u42'), [{ user_id: 'u42', item_id: 'a1', type: 'click', position: 1, source: 'widget' }]);
      assert.equal((await post({ ...click, request_id: 'r-u42-server' }, { 'x-api-key': serverKey })).statusCode, 200);
      assert.equal((await post(click, {})).json().error, 'api_key_required', 'not public');
    });

    test("an erased user's events are dropped", async () => {
      assert.equal((await app.inject({ method: 'DELETE', url: '/v1/users/gone', headers: { 'x-api-key': serverKey } })).statusCode, 200);
      const res = await post({ type: 'impression', request_id: 'r-gone', user_id: 'gone', items: [{ item_id: 'a1', position: 1 }] }, { 'x-api-key': serverKey });
      assert.deepEqual(res.json(), { accepted: 0, duplicates: 0, dropped: 1 });
      assert.deepEqual(await stored('r-gone'), []);
    });

    test('only impressions and clicks; a click is on one item', async () => {
      const cases: [object, string][] = [
        [{ type: 'purchase', request_id: 'r', items: [{ item_id: 'a1', position: 1 }] }, 'type'],
        [
          {
            type: 'click',
            request_id: 'r',
            items: [
              { item_id: 'a1', position: 1 },
              { item_id: 'a2', position: 2 },
            ],
          },
          'items',
        ],
        [{ type: 'impression', request_id: 'r', items: [] }, 'items'],
        [{ type: 'impression', request_id: 'r', items: [{ item_id: 'a1', position: 0 }] }, 'items[0].position'],
        [{ type: 'impression', items: [{ item_id: 'a1', position: 1 }] }, 'request_id'],
      ];
      for (const [payload, field] of cases) {
        const res = await post(payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.equal(res.json().field, field, JSON.stringify(payload));
      }
      assert.deepEqual(await stored('r'), []);
    });
  });
});
