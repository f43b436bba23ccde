// Personal data needs the user's token, on every route: this walks every route the app
// registers (src/auth/access.ts lists them), fills its parameters from its schema with a
// victim's id wherever an id goes (query, body, path), and calls it with a browser (widget) key
// and no token. No answer may carry what only the victim's history holds. A route added later is
// walked too, so it cannot forget the rule.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/app.ts';
import type { DeclaredRoute } from '../../src/auth/access.ts';
import { DEFAULT_AUTH_SETTINGS } from '../../src/auth/settings.ts';
import { signUserToken } from '../../src/auth/user-token.ts';
import { encodeClickToken } from '../../src/email/click-token.ts';
import { createApiKey } from '../../src/store/pg/api-keys.ts';
import { buildShop, loadShop } from '../fixtures/recs/shop.ts';
import { startTestServices, type TestServices } from '../helpers/services.ts';

const VICTIM = 'victim-7';
// Items only the victim touched (views, which shape no model here): nothing but their history shows them.
const SECRETS = ['z9', 'a4'];
const SHOP = 'https://shop.example';
const TOKEN_SECRET = 'a-test-secret-of-at-least-32-characters';
const EMAIL_SECRET = 'email-test-secret-0123456789abcdef-xyz';

type Schema = { type?: string | string[]; enum?: unknown[]; items?: Schema; properties?: Record<string, Schema>; required?: string[]; minimum?: number };

/** A value the schema accepts, with the victim's id wherever a string goes. */
function fill(schema: Schema): unknown {
  if (schema.enum) return schema.enum[0];
  const type = [schema.type].flat()[0];
  if (type === 'integer' || type === 'number') return Math.max(1, schema.minimum ?? 1);
  if (type === 'boolean') return true;
  if (type === 'array') return [fill(schema.items ?? { type: 'string' })];
  if (type === 'object') return Object.fromEntries((schema.required ?? []).map((name) => [name, fill(schema.properties![name])]));
  return VICTIM;
}

/** The request a route's schema asks for: required parameters, plus `user` wherever the route takes one. */
function requestFor(route: DeclaredRoute, headers: Record<string, string>): InjectOptions {
  const schema = (route.schema ?? {}) as { querystring?: Schema; body?: Schema };
  const query = new URLSearchParams();
  const qs = schema.querystring;
  for (const [name, p] of Object.entries(qs?.properties ?? {})) {
    if (!(qs?.required ?? []).includes(name) && name !== 'user') continue;
    for (const v of [fill(p)].flat()) query.append(name, String(v));
  }
  const click = encodeClickToken({ tenant: 'default', requestId: 'r1', user: VICTIM, item: 'a1', position: 1, variant: null, target: `${SHOP}/p/a1` }, EMAIL_SECRET, 4102444800);
  const path = route.url.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(name === 'token' ? click : VICTIM));
  const url = query.size > 0 ? `${path}?${query}` : path;
  return { method: route.method as InjectOptions['method'], url, headers, ...(schema.body ? { payload: fill(schema.body) as object } : {}) };
}

describe("personal data needs the user's token on every route (real build, PostgreSQL and Redis)", () => {
  let s: TestServices;
  let app: FastifyInstance;
  let widget: string;
  let server: string;
  const leaks = (body: string) => SECRETS.filter((item) => body.includes(`"${item}"`) || body.includes(`/${item}`) || body.includes(`>${item}<`));

  before(async () => {
    s = await startTestServices();
    s.config.eventWeights = { purchase: 1, cart: 0, view: 0, click: 0 };
    await loadShop(s.pool);
    for (const [i, item] of SECRETS.entries()) {
      await s.pool.query(`INSERT INTO events (tenant_id, user_id, item_id, type, occurred_at) VALUES ('default', $1, $2, 'view', now() - make_interval(mins => $3))`, [VICTIM, item, i]);
    }
    await buildShop(s);
    // The victim's id is also an experiment's id, so every path parameter can take it.
    await s.pool.query(`INSERT INTO experiments (tenant_id, id, salt, variants, status, started_at) VALUES ('default', $1, $1, $2, 'running', now())`, [
      VICTIM,
      JSON.stringify([
        { key: 'rv', weight: 1, strategy: 'recently-viewed', params: {}, control: true },
        { key: 'pop', weight: 0, strategy: 'popular', params: {}, control: false },
      ]),
    ]);
    app = await buildApp(
      {
        ...s.config,
        auth: { ...DEFAULT_AUTH_SETTINGS, mode: 'required', keyCacheMs: 0, userTokenSecret: TOKEN_SECRET },
        email: { ...s.config.email, signingSecret: EMAIL_SECRET },
        links: { ...s.config.links, productUrlTemplate: `${SHOP}/p/{id}` },
      },
      s,
      { logger: false },
    );
    widget = (await createApiKey(s.pool, { name: 'widget', scope: 'read', origins: [SHOP], rate: null })).key;
    server = (await createApiKey(s.pool, { name: 'backend', scope: 'write', origins: [], rate: null })).key;
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  const walk = () => app.declaredRoutes.filter((r) => r.method !== 'OPTIONS' && !r.url.startsWith('/docs'));

  test("a browser key without the user's token gets nothing of the user, on any route", async () => {
    assert.ok(walk().length >= 20, `${walk().length} routes`);
    for (const route of walk()) {
      const res = await app.inject(requestFor(route, { 'x-api-key': widget, origin: SHOP }));
      assert.deepEqual(leaks(res.body), [], `${route.method} ${route.url} (${res.statusCode}) answered the victim's items: ${res.body.slice(0, 300)}`);
      assert.ok(res.statusCode < 500, `${route.method} ${route.url}: ${res.statusCode}`);
    }
  });

  test("with the victim's own token the widget reads their block; the batch stays server-only", async () => {
    const token = signUserToken(VICTIM, TOKEN_SECRET, 600);
    const headers = { 'x-api-key': widget, origin: SHOP, 'x-user-token': token };
    const own = await app.inject({ url: `/v1/recommendations/recently-viewed?user=${VICTIM}&fallback=false`, headers });
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(
      own.json().items.map((i: { id: string }) => i.id),
      SECRETS,
    );
    const batch = await app.inject({ method: 'POST', url: '/v1/email/batch', headers, payload: { strategy: 'recently-viewed', users: [VICTIM] } });
    assert.equal(batch.statusCode, 403);
    assert.equal(batch.json().error, 'server_key_required');
  });
  test("the walk is not empty-handed: the shop's server key reads the victim's items through these routes", async () => {
    const revealing: string[] = [];
    // Not the privacy controls themselves: they would opt the victim out and erase them.
    for (const route of walk().filter((r) => !r.url.startsWith('/v1/users'))) {
      const res = await app.inject(requestFor(route, { 'x-api-key': server }));
      if (leaks(res.body).length > 0) revealing.push(`${route.method} ${route.url}`);
    }
    for (const expected of [
      'GET /v1/recommendations/recently-viewed',
      'GET /v1/recommendations/same-brand',
      'GET /v1/recommendations',
      'GET /v1/email/recently-viewed.json',
      'GET /v1/email/recently-viewed.html',
      'POST /v1/email/batch',
    ]) {
      assert.ok(revealing.includes(expected), `${expected} among ${revealing.join(', ')}`);
    }
  });
});
